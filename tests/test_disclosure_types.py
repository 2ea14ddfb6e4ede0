"""裁量基准 and 减免责清单: validated, through the privacy gate, shown to citizens and found by search like the
other pre-phase lists; and the amounts a decision's details may carry."""

import copy

import pytest

from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, discretion_benchmark, exemption_list

URL = "/api/v1/publish/disclosures"
ENGINES = ["embedded", "elasticsearch"]


@pytest.fixture
def headers(auth, db_session):
    AgencyFactory(code="CG", name="泉州市城市管理局", region_code="350500")
    return auth.headers("CG")


def without(body: dict, *path: str | int) -> dict:
    """A copy of body with the field at path removed."""
    body = copy.deepcopy(body)
    *parents, last = path
    target = body
    for key in parents:
        target = target[key]
    del target[last]
    return body


def with_value(body: dict, value, *path: str | int) -> dict:
    body = copy.deepcopy(body)
    *parents, last = path
    target = body
    for key in parents:
        target = target[key]
    target[last] = value
    return body


def test_a_discretion_benchmark_is_published_and_shown_to_citizens(client, headers, frozen_clock):
    stored = client.put(f"{URL}/benchmark", json=discretion_benchmark(), headers=headers)
    assert stored.status_code == 201, stored.get_json()
    item = client.get(f"/api/v1/disclosures/{stored.get_json()['id']}").get_json()
    assert item["phase"] == "pre" and item["type_label"] == "行政处罚裁量基准"
    second = {"circumstances": "经责令改正拒不改正", "grade": "一般", "range": "罚款 2000-5000 元"}
    assert item["details"]["entries"][1] == second
    page = client.get(f"/d/{item['id']}").get_data(as_text=True)
    assert "擅自占用城市道路经营" in page and "CG-0101" in page and "事项编码" in page
    assert "经责令改正拒不改正（一般） · 罚款 2000-5000 元" in page
    agency = client.get("/api/v1/agencies/CG").get_json()
    assert agency["disclosures"]["discretion_benchmark"][0]["id"] == item["id"]


def test_an_exemption_list_is_published_and_shown_to_citizens(client, headers, frozen_clock):
    stored = client.put(f"{URL}/exemptions", json=exemption_list(), headers=headers)
    assert stored.status_code == 201, stored.get_json()
    item = client.get(f"/api/v1/disclosures/{stored.get_json()['id']}").get_json()
    assert item["type_label"] == "减免责清单" and len(item["details"]["matters"]) == 2
    page = client.get(f"/d/{item['id']}").get_data(as_text=True)
    assert "不予处罚 · 未按规定公示营业执照 · 适用条件：首次违法且危害后果轻微并及时改正" in page
    assert "从轻处罚 · 销售标签瑕疵预包装食品（SC-0203）" in page


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (discretion_benchmark(details=None), ["details"]),
        (without(discretion_benchmark(), "details", "matter"), ["details", "matter"]),
        (without(discretion_benchmark(), "details", "basis"), ["details", "basis"]),
        (with_value(discretion_benchmark(), [], "details", "entries"), ["details", "entries"]),
        (without(discretion_benchmark(), "details", "entries", 1, "range"), ["details", "entries", "1", "range"]),
        (
            with_value(discretion_benchmark(), "", "details", "entries", 0, "circumstances"),
            ["details", "entries", "0", "circumstances"],
        ),
        (with_value(discretion_benchmark(), "x", "details", "colour"), ["details", "colour"]),
        (discretion_benchmark(phase="post"), ["type"]),
        (exemption_list(details=None), ["details"]),
        (with_value(exemption_list(), [], "details", "matters"), ["details", "matters"]),
        (
            with_value(exemption_list(), "pardon", "details", "matters", 0, "measure"),
            ["details", "matters", "0", "measure"],
        ),
        (without(exemption_list(), "details", "matters", 1, "conditions"), ["details", "matters", "1", "conditions"]),
        (without(exemption_list(), "details", "matters", 0, "basis"), ["details", "matters", "0", "basis"]),
    ],
)
def test_bad_details_are_refused_naming_the_field(client, headers, body, path):
    body = {k: v for k, v in body.items() if v is not None}
    response = client.put(f"{URL}/bad", json=body, headers=headers)
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    for key in path:
        assert key in errors, (path, response.get_json())
        errors = errors[key]


def test_the_privacy_gate_masks_the_details_of_both_types(client, headers, frozen_clock, indexer):
    contact = "联系人王小明，电话 13812345678"
    benchmark = with_value(discretion_benchmark(), f"首次违法（{contact}）", "details", "entries", 0, "circumstances")
    exemptions = with_value(exemption_list(), f"及时改正，{contact}", "details", "matters", 0, "conditions")
    for external_id, body in (("benchmark", benchmark), ("exemptions", exemptions)):
        stored = client.put(f"{URL}/{external_id}", json=body, headers=headers).get_json()
        assert "王小明" in str(stored["details"])  # the original stays for the agency
        public = str(stored["public"]["details"])
        assert "王小明" not in public and "13812345678" not in public and "王某某" in public and "138****5678" in public
        assert set(stored["privacy_report"]) == {"other_person_name", "mobile"}
        page = client.get(f"/d/{stored['id']}").get_data(as_text=True)
        assert "王小明" not in page and "13812345678" not in page
    indexer.sync()
    assert client.get("/api/v1/disclosures", query_string={"q": "王小明"}).get_json()["total"] == 0
    assert client.get("/api/v1/disclosures", query_string={"q": "13812345678"}).get_json()["total"] == 0


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_both_types_are_found_by_the_words_of_their_details(client, headers, frozen_clock, indexer):
    ids = {
        name: client.put(f"{URL}/{name}", json=body, headers=headers).get_json()["id"]
        for name, body in (("benchmark", discretion_benchmark()), ("exemptions", exemption_list()))
    }
    indexer.sync()

    def found(**params):
        body = client.get("/api/v1/disclosures", query_string=params).get_json()
        return {hit["id"] for hit in body["items"]}, body

    # Words that are only in the details, not in the title.
    assert found(q="拒不改正")[0] == {ids["benchmark"]}
    assert found(q="城市道路管理条例")[0] == {ids["benchmark"]}
    assert found(q="营业执照")[0] == {ids["exemptions"]}
    both, body = found(q="首次违法")
    assert both == set(ids.values())
    assert {hit["type"] for hit in body["items"]} == {"discretion_benchmark", "exemption_list"}
    page = client.get("/s", query_string={"q": "首次违法"}).get_data(as_text=True)
    assert "行政处罚裁量基准" in page and "减免责清单" in page
    assert found(q="首次违法", type="exemption_list")[0] == {ids["exemptions"]}
    assert found(q="no_penalty")[0] == set()  # codes are not searched as words


def test_a_decision_carries_fine_and_confiscation_amounts(client, headers, frozen_clock):
    body = decision(details={"fine_amount": 5000, "confiscation_amount": "1234.5", "note": "当场缴纳"})
    stored = client.put(f"{URL}/fined", json=body, headers=headers)
    assert stored.status_code == 201, stored.get_json()
    expected = {"fine_amount": "5000.00", "confiscation_amount": "1234.50", "note": "当场缴纳"}
    assert stored.get_json()["details"] == body["details"] | expected
    page = client.get(f"/d/{stored.get_json()['id']}").get_data(as_text=True)
    assert "罚款金额（元）" in page and "5000.00" in page and "没收金额（元）" in page
    # The same amount written another way is the same item: unchanged.
    again = decision(details={"fine_amount": "5000.00", "confiscation_amount": 1234.50, "note": "当场缴纳"})
    assert client.put(f"{URL}/fined", json=again, headers=headers).get_json()["version"] == stored.get_json()["version"]


@pytest.mark.parametrize("amount", [-1, "1.234", "lots", True, "NaN", 1e12])
def test_a_bad_amount_is_refused_naming_it(client, headers, amount):
    for field in ("fine_amount", "confiscation_amount"):
        response = client.put(f"{URL}/bad", json=decision(details={field: amount}), headers=headers)
        assert response.status_code == 422
        assert field in response.get_json()["errors"]["json"]["details"], response.get_json()

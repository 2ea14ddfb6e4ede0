"""The publishing API: idempotent upsert, statutory clock, privacy gate, agency isolation, bulk."""

import datetime as dt

import pytest
from sqlalchemy import select

from backend.disclosures.examples import EXAMPLES
from backend.disclosures.models import Disclosure, DisclosureVersion
from backend.search.indexing import SearchOutbox
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, power

URL = "/api/v1/publish/disclosures"


@pytest.fixture
def agency_a(db_session):
    return AgencyFactory(code="AGENCY-A", name="泉州市市场监督管理局", region_code="350500")


@pytest.fixture
def agency_b(db_session):
    return AgencyFactory(code="AGENCY-B", name="泉州市生态环境局", region_code="350500")


@pytest.fixture
def a_headers(auth, agency_a):
    return auth.headers(agency_a.code)


@pytest.fixture
def b_headers(auth, agency_b):
    return auth.headers(agency_b.code)


def test_create_then_repeat_then_change(client, a_headers, frozen_clock, search_engine):
    created = client.put(f"{URL}/case-1", json=decision(decision_date="2025-10-15"), headers=a_headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["external_id"] == "case-1" and body["status"] == "published"
    assert body["publish_deadline"] == "2025-10-24" and body["deadline_provisional"] is False
    assert body["overdue"] is False and body["privacy_report"] == {}
    assert body["public_url"].endswith(f"/d/{body['id']}")

    again = client.put(f"{URL}/case-1", json=decision(decision_date="2025-10-15"), headers=a_headers)
    assert again.status_code == 200
    assert again.get_json()["version"] == body["version"]

    changed = client.put(
        f"{URL}/case-1", json=decision(decision_date="2025-10-15", title="更正后的标题"), headers=a_headers
    )
    assert changed.status_code == 200
    assert changed.get_json()["version"] == body["version"] + 1
    assert changed.get_json()["id"] == body["id"]


def test_published_after_the_deadline_is_overdue_for_ever(client, auth, agency_a, frozen_clock):
    # Decided 2025-09-30, due 2025-10-16 across the National Day holiday; published 2025-10-20.
    body = client.put(f"{URL}/late", json=decision(), headers=auth.headers(agency_a.code)).get_json()
    assert body["publish_deadline"] == "2025-10-16"
    assert body["overdue"] is True
    frozen_clock.advance(dt.timedelta(days=400))
    assert client.get(f"{URL}/late", headers=auth.headers(agency_a.code)).get_json()["overdue"] is True


def test_pending_items_show_days_left_and_turn_overdue(client, a_headers, frozen_clock):
    due_soon = client.put(f"{URL}/p1", json=decision(decision_date="2025-10-15", publish=False), headers=a_headers)
    late = client.put(f"{URL}/p2", json=decision(publish=False), headers=a_headers)
    assert due_soon.get_json()["status"] == "pending"
    assert due_soon.get_json()["working_days_left"] == 4  # 10-21 .. 10-24
    assert due_soon.get_json()["overdue"] is False
    assert late.get_json()["working_days_left"] == -2  # due 10-16; 10-17 and 10-20 have passed
    assert late.get_json()["overdue"] is True

    overdue = client.get(f"{URL}?overdue=true", headers=a_headers).get_json()
    assert [i["external_id"] for i in overdue["items"]] == ["p2"]
    pending = client.get(f"{URL}?status=pending", headers=a_headers).get_json()
    assert pending["total"] == 2
    published = client.put(f"{URL}/p1", json=decision(decision_date="2025-10-15"), headers=a_headers).get_json()
    assert published["status"] == "published" and published["overdue"] is False


def test_the_deadline_explains_itself(client, a_headers, frozen_clock):
    client.put(f"{URL}/x", json=decision(), headers=a_headers)
    body = client.get(f"{URL}/x/deadline", headers=a_headers).get_json()
    assert body["start"] == "2025-09-30" and body["working_days"] == 7
    assert body["publish_deadline"] == "2025-10-16"
    assert {"date": "2025-10-01", "reason": "国庆节"} in body["skipped"]
    assert body["makeup_days"] == ["2025-10-11"]
    assert "国庆节" in body["explanation"]
    assert client.get(f"{URL}/nothing/deadline", headers=a_headers).status_code == 404


def test_non_penalty_categories_get_twenty_working_days_and_annual_statistics_31_january(
    client, a_headers, frozen_clock
):
    levy = client.put(f"{URL}/levy", json=decision(category="levy", decision_date="2025-10-15"), headers=a_headers)
    assert levy.get_json()["publish_deadline"] == "2025-11-12"
    stats = {
        "phase": "post",
        "type": "annual_statistics",
        "title": "2025年度行政执法数据",
        "details": {"year": 2025, "counts": {"penalty": 12}},
    }
    assert client.put(f"{URL}/stats", json=stats, headers=a_headers).get_json()["publish_deadline"] == "2026-01-31"


def test_a_deadline_in_a_year_without_calendar_data_is_provisional(client, a_headers, frozen_clock):
    body = client.put(f"{URL}/next-year", json=decision(decision_date="2026-12-28"), headers=a_headers).get_json()
    assert body["deadline_provisional"] is True
    assert body["publish_deadline"] == "2027-01-06"  # weekdays only: 12-29, 12-30, 12-31, 1-1, 1-4, 1-5, 1-6


def test_person_subjects_are_masked_and_their_id_never_public(client, a_headers, frozen_clock, search_engine):
    body = decision(
        subject_type="person",
        subject_name="张三丰",
        subject_id="11010519491231002X",
        content="张三丰（身份证号 11010519491231002X，电话 13812345678）在鲤城区销售过期食品，张三丰无异议。",
    )
    stored = client.put(f"{URL}/person", json=body, headers=a_headers).get_json()
    public = stored["public"]
    assert public["subject_name"] == "张某某"
    assert "张三丰" not in public["content"] and "11010519491231002X" not in public["content"]
    assert "13812345678" not in public["content"]
    assert "subject_id" not in public
    assert stored["privacy_report"]["id_number"] == {"content": 1}
    assert stored["privacy_report"]["mobile"] == {"content": 1}
    assert stored["privacy_report"]["person_name"] == {"content": 2, "subject_name": 1}
    assert stored["content"] == body["content"]  # the original stays for the agency
    seen = client.get(f"/api/v1/disclosures/{stored['id']}").get_json()
    assert seen["subject_name"] == "张某某" and "subject_id" not in seen
    assert "11010519491231002X" not in str(seen) and "张三丰" not in str(seen)


def test_mistyped_ids_and_other_peoples_names_never_go_public(client, a_headers, frozen_clock, search_engine):
    content = "当事人销售过期食品。联系人王小明（身份证号350502199001011234），同住人王五在场。"
    stored = client.put(f"{URL}/others", json=decision(content=content), headers=a_headers).get_json()
    assert (
        stored["public"]["content"]
        == "当事人销售过期食品。联系人王某某（身份证号350502************），同住人王某在场。"
    )
    assert stored["privacy_report"] == {"id_number": {"content": 1}, "other_person_name": {"content": 2}}
    seen = str(client.get(f"/api/v1/disclosures/{stored['id']}").get_json())
    assert "350502199001011234" not in seen and "王小明" not in seen and "王五" not in seen


@pytest.mark.parametrize("flag", ["minor", "confidential"])
def test_minor_and_confidential_items_are_never_public(client, a_headers, frozen_clock, indexer, flag):
    stored = client.put(f"{URL}/{flag}", json=decision(**{flag: True}), headers=a_headers).get_json()
    assert stored["status"] == "withheld" and stored["public_url"] is None
    indexer.sync()
    assert client.get(f"/api/v1/disclosures/{stored['id']}").status_code == 404
    assert client.get("/api/v1/disclosures?q=过期食品").get_json()["total"] == 0


def test_an_agency_never_sees_or_changes_another_agencys_items(client, a_headers, b_headers, frozen_clock):
    a_item = client.put(f"{URL}/shared-id", json=decision(), headers=a_headers).get_json()
    assert client.get(f"{URL}/shared-id", headers=b_headers).status_code == 404
    assert client.get(f"{URL}/shared-id/deadline", headers=b_headers).status_code == 404
    assert client.get(f"{URL}", headers=b_headers).get_json()["total"] == 0
    # B's PUT of the same external id creates B's own item; A's is untouched.
    b_item = client.put(f"{URL}/shared-id", json=decision(title="B 的决定"), headers=b_headers)
    assert b_item.status_code == 201 and b_item.get_json()["id"] != a_item["id"]
    assert client.get(f"{URL}/shared-id", headers=a_headers).get_json()["title"] == a_item["title"]
    bulk = client.post(
        f"{URL}:bulk", json={"items": [{**decision(title="B 批量"), "external_id": "shared-id"}]}, headers=b_headers
    ).get_json()
    assert bulk["results"][0]["id"] == b_item.get_json()["id"]
    assert client.get(f"{URL}/shared-id", headers=a_headers).get_json()["version"] == a_item["version"]


def test_publishing_needs_a_token(client, agency_a):
    assert client.put(f"{URL}/x", json=decision()).status_code == 401
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (decision(category=None), "category"),
        ({k: v for k, v in decision().items() if k != "document_no"}, "document_no"),
        (decision(phase="pre"), "type"),
        (decision(decision_date="2025-13-01"), "decision_date"),
        (decision(category="parking"), "category"),
        (decision(attachments=[{"name": "决定书.pdf", "url": "ftp://x", "sha256": "ab", "size": -1}]), "attachments"),
        (decision(unexpected="x"), "unexpected"),
        (power(details={"basis": "x"}), "details"),
        (decision(title=""), "title"),
        (decision(title="长" * 201), "title"),
    ],
)
def test_invalid_items_are_refused_naming_the_field(client, a_headers, body, field):
    body = {k: v for k, v in body.items() if v is not None}
    response = client.put(f"{URL}/bad", json=body, headers=a_headers)
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    assert field in errors, errors


def test_malformed_and_oversized_bodies(client, a_headers, app):
    assert client.put(f"{URL}/x", data="{oops", content_type="application/json", headers=a_headers).status_code == 400
    assert client.put(f"{URL}/x", json=["not", "an", "object"], headers=a_headers).status_code == 422
    huge = decision(content="罚" * (app.config["MAX_CONTENT_LENGTH"] // 2))
    assert client.put(f"{URL}/x", json=huge, headers=a_headers).status_code == 413
    assert client.put(f"{URL}/{'x' * 129}", json=decision(), headers=a_headers).status_code == 422


def test_bulk_gives_each_item_its_own_result(client, a_headers, frozen_clock):
    items = [
        {**decision(title=f"决定 {n}", document_no=f"泉市监罚〔2025〕{n}号"), "external_id": f"b{n}"} for n in range(3)
    ]
    items.append({**decision(category="nonsense"), "external_id": "bad"})
    items.append({**decision(), "external_id": "b0"})
    items.append("not an object")
    body = client.post(f"{URL}:bulk", json={"items": items}, headers=a_headers).get_json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [201, 201, 201, 422, 422, 422]
    assert "category" in body["results"][3]["errors"]
    assert body["results"][4]["errors"] == {"external_id": ["repeated in this request"]}
    assert (body["created"], body["invalid"]) == (3, 3)
    again = client.post(f"{URL}:bulk", json={"items": items[:3]}, headers=a_headers).get_json()
    assert again["unchanged"] == 3


def test_bulk_over_the_limit_is_413(client, a_headers):
    items = [{**decision(), "external_id": f"i{n}"} for n in range(501)]
    response = client.post(f"{URL}:bulk", json={"items": items}, headers=a_headers)
    assert response.status_code == 413
    assert response.get_json()["errors"] == {"items": ["at most 500"]}


def test_bulk_stores_exactly_what_one_by_one_stores(client, a_headers, frozen_clock, db_session):
    """Bulk inserts new items without the ORM; the rows, versions and outbox rows must not differ."""
    person = decision(
        subject_type="person",
        subject_name="张三丰",
        subject_id="110101199003074477",
        content="当事人张三丰（身份证号110101199003074477，电话13812345678）销售过期食品。",
    )
    attachment = {"name": "决定书.pdf", "url": "https://example.org/a.pdf", "sha256": "a" * 64, "size": 10}
    bodies = {
        "org": decision(),
        "person": person,
        "pending": decision(publish=False, category="coercion"),
        "minor": decision(minor=True),
        "power": power(attachments=[attachment], region="350502"),
    }
    for name, body in bodies.items():
        assert client.put(f"{URL}/one-{name}", json=body, headers=a_headers).status_code == 201
    items = [{**body, "external_id": f"bulk-{name}"} for name, body in bodies.items()]
    assert client.post(f"{URL}:bulk", json={"items": items}, headers=a_headers).get_json()["created"] == len(items)

    differ = {"id", "external_id", "log_index", "commitment_salt"}
    rows = {r["external_id"]: r for r in db_session.execute(select(Disclosure.__table__)).mappings()}
    versions = {
        r["disclosure_id"]: {k: v for k, v in r.items() if k not in ("id", "disclosure_id")}
        for r in db_session.execute(select(DisclosureVersion.__table__)).mappings()
    }
    outbox = {r.doc_id: r.version for r in db_session.scalars(select(SearchOutbox))}
    for name in bodies:
        one, bulk = rows[f"one-{name}"], rows[f"bulk-{name}"]
        assert {k: v for k, v in one.items() if k not in differ} == {k: v for k, v in bulk.items() if k not in differ}
        assert (one["log_index"] is None) == (bulk["log_index"] is None)
        assert (one["commitment_salt"] is None) == (bulk["commitment_salt"] is None)
        assert versions[one["id"]] == versions[bulk["id"]]
        assert outbox[one["id"]] == outbox[bulk["id"]] == 1
    assert rows["bulk-person"]["privacy_report"] == {
        "id_number": {"content": 1},
        "mobile": {"content": 1},
        "person_name": {"content": 1, "subject_name": 1},
    }


def test_each_change_gets_the_next_version_number_even_when_the_item_was_flushed_midway(
    client, a_headers, frozen_clock, db_session
):
    """A change that flushes the item before its version row is made (a pre-phase list, whose rules query the
    agency's items) once numbered its version from the counter already moved, so the next change took the same
    number: a unique violation, a 500 (found by schemathesis turning one item into each type in turn). Every change
    is numbered from the version it changed, so the numbers only grow."""
    kinds = ["decision", "exemption_list", "discretion_benchmark", "av_matter_list", "officer_exam_list", "power"]
    for kind in kinds:
        body = {**EXAMPLES[kind], "publish": False}
        response = client.put(f"{URL}/flushed", json=body, headers=a_headers)
        assert response.status_code in (200, 201), (kind, response.get_json())
    item = db_session.scalar(select(Disclosure).where(Disclosure.external_id == "flushed"))
    numbers = list(
        db_session.scalars(
            select(DisclosureVersion.number)
            .where(DisclosureVersion.disclosure_id == item.id)
            .order_by(DisclosureVersion.id)
        )
    )
    assert len(numbers) == len(kinds) and numbers == sorted(set(numbers))


@pytest.mark.parametrize("number", [0, 1, 1.0])
def test_a_number_is_not_a_boolean_in_json(client, a_headers, number):
    """The document says boolean; JSON's 0 and 1 are numbers (schemathesis found them accepted)."""
    response = client.put(f"{URL}/numbers", json=decision(publish=number), headers=a_headers)
    assert response.status_code == 422 and "publish" in response.get_json()["errors"]["json"], response.get_json()
    assert client.put(f"{URL}/numbers", json=decision(publish=False), headers=a_headers).status_code == 201


@pytest.mark.parametrize("text", ["true", "false", "1", "0"])
def test_a_query_string_boolean_keeps_its_spellings(client, a_headers, text):
    assert client.get(f"{URL}?overdue={text}", headers=a_headers).status_code == 200

"""信用中国 双公示: a penalty or licensing decision carries the credit standard's fields (each required one refused
when absent, naming it), and the export writes them in the standard's order, within the caller's region, with
no natural person's ID number anywhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.disclosures.models import Disclosure
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.test_case_reads import admin_headers

URL = "/api/v1/publish/disclosures"
EXPORT = "/api/v1/exchange/credit"
DATA = Path(__file__).parent / "data"
PERSON_ID = "35050219900101123X"
# A 统一社会信用代码 with its check character; "XM" is a code of another shape, exported as no code at all.
MKT_CODE = "11350500MB0100002C"


def refused_naming(client, headers, body, field, where="details"):
    response = client.put(f"{URL}/x", json=body, headers=headers)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]["json"]
    assert field in (errors[where] if where else errors), errors


PENALTY_FIELDS = ["penalty_classes", "violation_type", "violation_facts", "penalty_content", "legal_representative"]


@pytest.mark.parametrize("field", PENALTY_FIELDS)
def test_a_penalty_missing_each_required_field_is_refused(client, auth, db_session, field):
    AgencyFactory(code="MKT")
    headers = auth.headers("MKT")
    body = decision()
    del body["details"][field]
    refused_naming(client, headers, body, field)


@pytest.mark.parametrize(
    ("classes", "field"),
    [
        (["fine"], "fine_amount"),
        (["confiscate_gains"], "confiscation_amount"),
        (["confiscate_property"], "confiscation_amount"),
        (["suspend_licence"], "licence_affected"),
        (["warning", "revoke_licence"], "licence_affected"),
    ],
)
def test_a_penalty_class_requires_its_amount_or_licence(client, auth, db_session, classes, field):
    AgencyFactory(code="MKT")
    refused_naming(client, auth.headers("MKT"), decision(details={"penalty_classes": classes}), field)


def test_a_penalty_needs_its_basis_and_a_known_class(client, auth, db_session):
    AgencyFactory(code="MKT")
    headers = auth.headers("MKT")
    refused_naming(client, headers, decision(legal_basis=None), "legal_basis", where=None)
    refused_naming(client, headers, decision(details={"penalty_classes": ["flogging"]}), "penalty_classes")


@pytest.mark.parametrize("field", ["licence_class", "licence_content", "effective_from"])
def test_a_licence_missing_each_required_field_is_refused(client, auth, db_session, field):
    AgencyFactory(code="MKT")
    body = decision(category="licensing")
    if field == "effective_from":
        del body["effective_from"]
        refused_naming(client, auth.headers("MKT"), body, field, where=None)
    else:
        del body["details"][field]
        refused_naming(client, auth.headers("MKT"), body, field)


def test_what_needs_fewer_fields(client, auth, db_session):
    """A person has no 法定代表人; a decision imposing nothing (不予处罚) is no credit record."""
    AgencyFactory(code="MKT")
    headers = auth.headers("MKT")
    person = decision(subject_type="person", subject_name="王小明", subject_id=PERSON_ID)
    del person["details"]["legal_representative"]
    assert client.put(f"{URL}/p", json=person, headers=headers).status_code == 201
    spared = decision(outcome="不予处罚")
    spared["details"] = {"note": "首违不罚"}
    assert client.put(f"{URL}/s", json=spared, headers=headers).status_code == 201


@pytest.fixture
def published(client, auth, db_session, frozen_clock, runner):
    """泉州 MKT publishes an organization's fine, a person's warning and a licence; 厦门 XM a fine (another
    region). Each on its own day, so the export's order and ``since`` are known."""
    AgencyFactory(code=MKT_CODE, name="泉州市市场监督管理局")
    AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    mkt, xm = auth.headers(MKT_CODE), auth.headers("XM")

    def put(headers, ref, day, body):
        frozen_clock.at = dt.datetime.fromisoformat(day).replace(hour=2, tzinfo=dt.UTC)
        response = client.put(f"{URL}/{ref}", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()

    fine = {
        "penalty_classes": ["fine", "confiscate_gains", "suspend_licence"],
        "fine_amount": "5000",
        "confiscation_amount": "1234.5",
        "licence_affected": "食品经营许可证 JY13505020012345",
        "violation_type": "销售超过保质期的食品",
        "violation_facts": "当事人在店内销售超过保质期的食品，联系电话13905951234。",
        "penalty_content": "罚款五千元，没收违法所得，暂扣食品经营许可证一个月",
        "legal_representative": "陈某某",
    }
    put(
        mkt, "p1", "2025-10-09", decision(decision_date="2025-09-30", document_no="泉市监罚〔2025〕101号", details=fine)
    )
    warning = {
        "penalty_classes": ["warning"],
        "violation_type": "未按规定公示营业执照",
        "violation_facts": f"当事人王小明（公民身份号码{PERSON_ID}）未在经营场所公示营业执照。",
        "penalty_content": "警告",
    }
    person = {"subject_type": "person", "subject_name": "王小明", "subject_id": PERSON_ID}
    put(
        mkt,
        "p2",
        "2025-10-10",
        decision(decision_date="2025-10-10", document_no="泉市监罚〔2025〕102号", details=warning, **person),
    )
    licence = {"decision_date": "2025-10-11", "document_no": "泉市监许〔2025〕7号", "effective_until": "2030-10-10"}
    put(
        mkt, "l1", "2025-10-13", decision(category="licensing", title="泉州市鲤城区某食品店食品经营许可决定", **licence)
    )
    put(xm, "x1", "2025-10-14", decision(document_no="厦市监罚〔2025〕9号", details=fine))
    return admin_headers(client, runner, "li", "supervisor", "350500")


def test_the_export_matches_the_hand_written_files(client, published):
    for kind in ("penalty", "licensing"):
        response = client.get(f"{EXPORT}?type={kind}&format=csv", headers=published)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/csv"
        assert response.get_data() == (DATA / f"credit_{kind}.csv").read_bytes()
        as_json = client.get(f"{EXPORT}?type={kind}", headers=published).get_json()
        expected = (DATA / f"credit_{kind}.csv").read_text(encoding="utf-8-sig").splitlines()
        assert [",".join(as_json["columns"])] == expected[:1]
        assert [",".join(row) for row in as_json["rows"]] == expected[1:]
        assert len(as_json["fields"]) == len(as_json["columns"]) and as_json["fields"][-1] == "BZ"


def test_since_and_region_scope_the_export(client, runner, published):
    later = client.get(f"{EXPORT}?type=penalty&since=2025-10-10", headers=published).get_json()
    assert [field(later, row, "CF_WSH") for row in later["rows"]] == ["泉市监罚〔2025〕102号"]
    xm = admin_headers(client, runner, "xm", "supervisor", "350200")
    theirs = client.get(f"{EXPORT}?type=penalty", headers=xm).get_json()
    assert [field(theirs, row, "CF_WSH") for row in theirs["rows"]] == ["厦市监罚〔2025〕9号"]
    admin = admin_headers(client, runner, "root", "admin")
    every = client.get(f"{EXPORT}?type=penalty", headers=admin).get_json()
    assert [field(every, row, "CF_CFJGDM") for row in every["rows"]] == [MKT_CODE, MKT_CODE, ""]


def field(export, row, code):
    return row[export["fields"].index(code)]


def test_no_natural_persons_id_in_any_export(client, runner, published):
    admin = admin_headers(client, runner, "root", "admin")
    for headers in (published, admin):
        for kind in ("penalty", "licensing"):
            for fmt in ("csv", "json"):
                response = client.get(f"{EXPORT}?type={kind}&format={fmt}", headers=headers)
                assert response.status_code == 200
                text = response.get_data(as_text=True)
                assert PERSON_ID not in text and PERSON_ID[:17] not in text and "王小明" not in text


def test_the_export_needs_a_supervisor_or_admin_and_a_known_type(client, runner, auth, published):
    assert client.get(f"{EXPORT}?type=penalty").status_code == 401
    assert client.get(f"{EXPORT}?type=penalty", headers=auth.headers(MKT_CODE)).status_code == 401
    response = client.get(f"{EXPORT}?type=coercion", headers=published)
    assert response.status_code == 422 and "type" in response.get_json()["errors"]["query"]


def test_publicity_period_is_configurable(app, client, published):
    app.config["CREDIT_PUBLICITY_MONTHS"] = {"warning": 6, "*": 12}
    export = client.get(f"{EXPORT}?type=penalty", headers=published).get_json()
    assert [field(export, row, "CF_GSJZQ") for row in export["rows"]] == ["2026/09/29", "2026/04/09"]


def test_codes_and_amounts_stay_out_of_what_citizens_search_and_read(client, auth, db_session):
    """A penalty's class codes ("fine") and amounts ("5000.00") are for the credit platform, not search
    snippets; its facts and content are searched with the decision's text."""
    AgencyFactory(code="SNIP", region_code="350500")
    details = {
        "penalty_classes": ["fine"],
        "fine_amount": "5000.00",
        "violation_type": "销售过期食品",
        "violation_facts": "当事人在店内销售过期酸奶。",
        "penalty_content": "罚款人民币五千元",
        "legal_representative": "陈某某",
    }
    body = decision(details=details)
    assert client.put("/api/v1/publish/disclosures/s1", json=body, headers=auth.headers("SNIP")).status_code == 201
    item = db_session.scalar(select(Disclosure).where(Disclosure.external_id == "s1"))
    content = item.search_document()["content"]
    assert "销售过期酸奶" in content and "罚款人民币五千元" in content
    assert "5000.00" not in content and "fine" not in content


def test_pages_give_every_decision_once_even_when_published_at_the_same_instant(client, runner, auth, published):
    """Three more fines published at one frozen instant: pages of two break the tie by id, in JSON and CSV."""
    for ref in ("t1", "t2", "t3"):
        body = decision(document_no=f"泉市监罚〔2025〕2{ref[1]}号")
        assert client.put(f"{URL}/{ref}", json=body, headers=auth.headers(MKT_CODE)).status_code == 201
    whole = client.get(f"{EXPORT}?type=penalty", headers=published).get_json()
    assert len(whole["rows"]) == 5 and whole["next"] is None
    seen, after = [], None
    while True:
        query = f"{EXPORT}?type=penalty&limit=2" + (f"&after={after}" if after else "")
        page = client.get(query, headers=published).get_json()
        seen += page["rows"]
        after = page["next"]
        if after is None:
            break
        csv_page = client.get(query.replace("limit=2", "limit=2&format=csv"), headers=published)
        assert csv_page.headers["X-Next-Cursor"] == after
    assert seen == whole["rows"]


@pytest.mark.parametrize("after", ["x", "1.", "1." + "a" * 31, "9" * 18 + "." + "a" * 32, "-1." + "a" * 32])
def test_a_cursor_not_from_a_page_is_refused_by_name(client, published, after):
    response = client.get(f"{EXPORT}?type=penalty&after={after}", headers=published)
    assert response.status_code == 422, response.get_json()
    assert "after" in response.get_json()["errors"]["query"]

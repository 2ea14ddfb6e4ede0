"""Cases: hash-chained records, audio-video and 24-hour flags, legal review before major decisions."""

import datetime as dt

import pytest
from sqlalchemy import update

from backend.cases.models import CHECKLIST, CaseRecord
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import register

URL = "/api/v1/publish"
SHA = "ab" * 32


# The badges the records below name.
OFFICERS = ("35050012345", "35050012346", "35050066666")


@pytest.fixture
def mkt(client, auth, db_session):
    """The agency and the officers its records name, registered with credentials valid 2024-2028."""
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    register(client, headers, *OFFICERS)
    return headers


def case_body(**overrides):
    body = {
        "category": "penalty",
        "matter": "食品安全行政处罚",
        "officers": ["35050012345", "35050012346"],
        "subject_type": "organization",
        "subject_name": "泉州市某食品店",
        "opened_on": "2025-10-09",
    }
    body.update(overrides)
    return body


def record(step, *, at="2025-10-10T09:00:00+08:00", officers=("35050012345", "35050012346"), evidence=None, **extra):
    return {
        "step": step,
        "time": at,
        "officers": list(officers),
        "place": "泉州市鲤城区中山路 1 号",
        "text": f"{step} 记录",
        "evidence": evidence or [],
        **extra,
    }


def video(captured="2025-10-10T09:00:00+08:00"):
    return {"kind": "video", "sha256": SHA, "size": 1024, "uri": "oss://mkt/case/1.mp4", "captured_at": captured}


def checklist(text="已核实"):
    return {key: text for key in CHECKLIST}


def test_records_form_a_chain_that_checks_itself(client, mkt, frozen_clock):
    frozen_clock.at = dt.datetime(2025, 10, 10, 4, 0, tzinfo=dt.UTC)  # stored three hours after capture
    assert client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt).status_code == 201
    added = client.post(
        f"{URL}/cases/C1/records",
        json={
            "records": [
                record("filing", officers=["35050012345"]),
                record("investigation", evidence=[video()]),
                record("evidence", evidence=[video()]),
            ]
        },
        headers=mkt,
    )
    assert added.status_code == 201
    assert [r["seq"] for r in added.get_json()["records"]] == [1, 2, 3]
    assert added.get_json()["head_hash"] == added.get_json()["records"][-1]["hash"]
    chain = client.get(f"{URL}/cases/C1/records", headers=mkt).get_json()
    assert chain["valid"] is True and chain["problems"] == [] and chain["flags"] == []
    seqs = [r["seq"] for r in chain["records"]]
    assert seqs == [1, 2, 3]
    assert chain["records"][0]["prev_hash"] is None
    assert [r["prev_hash"] for r in chain["records"][1:]] == [r["hash"] for r in chain["records"][:-1]]
    assert all(r["log_index"] is not None for r in chain["records"])
    correction = client.post(
        f"{URL}/cases/C1/records",
        json={"records": [record("investigation", evidence=[video()], corrects=2, text="更正：调查地点为中山路 3 号")]},
        headers=mkt,
    )
    assert correction.get_json()["records"][-1]["corrects"] == 2
    assert client.get(f"{URL}/cases/C1", headers=mkt).get_json()["record_count"] == 4


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"text": "改过的记录"}, "record 2 was altered"),
        ({"officers": ["35050099999"]}, "record 2 was altered"),
        ({"seq": 9}, "record 2 is missing"),
    ],
)
def test_a_record_altered_in_the_database_breaks_the_chain(client, mkt, frozen_clock, db_session, change, problem):
    client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt)
    client.post(
        f"{URL}/cases/C1/records",
        json={
            "records": [
                record("filing", officers=["35050012345"]),
                record("review", officers=["35050012345"]),
                record("closing", officers=["35050012345"]),
            ]
        },
        headers=mkt,
    )
    db_session.execute(update(CaseRecord).where(CaseRecord.seq == 2).values(**change))
    db_session.commit()
    chain = client.get(f"{URL}/cases/C1/records", headers=mkt).get_json()
    assert chain["valid"] is False
    assert any(problem in p for p in chain["problems"])


def test_on_site_acts_need_two_officers_and_corrections_a_real_target(client, mkt):
    client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt)
    alone = client.post(
        f"{URL}/cases/C1/records", json={"records": [record("evidence", officers=["35050012345"])]}, headers=mkt
    )
    assert alone.status_code == 422 and "officers" in alone.get_json()["errors"]
    wrong = client.post(f"{URL}/cases/C1/records", json={"records": [record("filing", corrects=5)]}, headers=mkt)
    assert wrong.status_code == 422 and "corrects" in wrong.get_json()["errors"]
    assert client.get(f"{URL}/cases/C1/records", headers=mkt).get_json()["records"] == []


def test_missing_audio_video_and_late_evidence_are_flagged(client, mkt, frozen_clock):
    client.put(f"{URL}/cases/C1", json=case_body(category="coercion"), headers=mkt)
    photo = {**video(captured="2025-10-20T09:00:00+08:00"), "kind": "photo"}
    late = video(captured="2025-10-18T08:00:00+08:00")  # stored 2025-10-20 10:00: 50 hours later
    records = [
        record("evidence", evidence=[photo]),
        record("execution", evidence=[]),
        record("service", evidence=[late]),
    ]
    assert client.post(f"{URL}/cases/C1/records", json={"records": records}, headers=mkt).status_code == 201
    chain = client.get(f"{URL}/cases/C1/records", headers=mkt).get_json()
    assert chain["flags"] == [
        {"seq": 1, "flag": "missing_av", "step": "evidence"},
        {"seq": 2, "flag": "missing_av", "step": "execution"},
        {"seq": 3, "flag": "late_evidence", "sha256": SHA},
    ]


def test_another_agency_cannot_see_or_touch_a_case(client, auth, mkt):
    client.put(f"{URL}/cases/C1", json=case_body(), headers=mkt)
    AgencyFactory(code="ENV")
    env = auth.headers("ENV")
    assert client.get(f"{URL}/cases/C1", headers=env).status_code == 404
    assert client.post(f"{URL}/cases/C1/records", json={"records": [record("filing")]}, headers=env).status_code == 404
    submission = {"checklist": checklist(), "materials": []}
    assert client.post(f"{URL}/cases/C1/reviews", json=submission, headers=env).status_code == 404


def test_matters_in_the_review_catalogue_and_heard_cases_are_major(client, mkt, frozen_clock):
    frozen_clock.at = dt.datetime(2025, 10, 10, 4, 0, tzinfo=dt.UTC)
    catalogue = {
        "phase": "pre",
        "type": "review_catalogue",
        "title": "重大执法决定法制审核目录清单",
        "details": {"matters": ["吊销许可证", "较大数额罚款"]},
    }
    assert client.put(f"{URL}/disclosures/catalogue", json=catalogue, headers=mkt).status_code == 201
    assert client.put(f"{URL}/cases/C1", json=case_body(matter="较大数额罚款"), headers=mkt).get_json()["is_major"]
    assert not client.put(f"{URL}/cases/C2", json=case_body(), headers=mkt).get_json()["is_major"]
    client.post(f"{URL}/cases/C2/records", json={"records": [record("hearing", evidence=[video()])]}, headers=mkt)
    assert client.get(f"{URL}/cases/C2", headers=mkt).get_json()["is_major"]
    assert client.put(f"{URL}/disclosures/d2", json=decision(case_no="C2"), headers=mkt).status_code == 409
    assert client.put(f"{URL}/disclosures/d3", json=decision(case_no="NOPE"), headers=mkt).status_code == 422

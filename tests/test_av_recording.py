"""音像记录 driven by the agency's own 音像记录事项清单 (seed 001 二(二)2): which steps need audio-video, which
need it without a break from start to end (全程音像记录), which a text record covers; the statute's list
until the agency publishes one; the rule in force on arrival stays with each record."""

import datetime as dt

import pytest
from sqlalchemy import select, update

from backend.cases.models import Case, CaseRecord
from backend.cases.services import chain_hash
from tests.factories import AgencyFactory
from tests.factories.officers import register

URL = "/api/v1/publish"
PAIR = ["35050012345", "35050012346"]
SHA = "cd" * 32
DAY = "2025-10-20T"  # the frozen clock's day (it stands at 10:00 Beijing): no evidence is late


@pytest.fixture
def mkt(client, auth, db_session, frozen_clock):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    register(client, headers, *PAIR)
    for case_no, category in (("P1", "penalty"), ("K1", "coercion")):
        case = {"category": category, "matter": "查封扣押", "officers": PAIR, "opened_on": "2025-10-09"}
        assert client.put(f"{URL}/cases/{case_no}", json=case, headers=headers).status_code == 201
    return headers


def at(hhmm):
    return f"{DAY}{hhmm}:00+08:00"


def clip(start=None, end=None, kind="video", sha=SHA):
    item = {"kind": kind, "sha256": sha, "size": 10, "uri": "oss://mkt/1.mp4", "captured_at": at("09:00")}
    if start:
        item["started_at"] = at(start)
    if end:
        item["ended_at"] = at(end)
    return item


def record(step, *evidence, time="09:00", ended=None, officers=PAIR):
    body = {"step": step, "time": at(time), "officers": officers, "text": f"{step} 记录", "evidence": list(evidence)}
    if ended:
        body["ended_at"] = at(ended)
    return body


def post(client, headers, case_no, *records):
    return client.post(f"{URL}/cases/{case_no}/records", json={"records": list(records)}, headers=headers)


def chain(client, headers, case_no):
    body = client.get(f"{URL}/cases/{case_no}/records", headers=headers).get_json()
    assert body["valid"], body["problems"]
    return body


def av_list(*matters, title="音像记录事项清单"):
    return {"phase": "pre", "type": "av_matter_list", "title": title, "details": {"matters": list(matters)}}


def counters(db_session, case_no):
    case = db_session.scalar(select(Case).where(Case.case_no == case_no))
    db_session.refresh(case)
    return case.missing_av, case.recording_gaps


def test_the_statute_list_applies_until_the_agency_publishes_one(client, mkt, db_session):
    added = post(
        client,
        mkt,
        "P1",
        record("evidence"),  # every category: audio-video
        record("preservation"),  # 证据保全: audio-video
        record("investigation"),  # only coercion and inspection investigations
        record("notice", officers=PAIR[:1]),  # listed nowhere: text
    )
    assert added.status_code == 201, added.get_json()
    assert {(r["step"], r["recording"], r["recording_list"]) for r in added.get_json()["records"]} == {
        ("evidence", "av", "statute"),
        ("preservation", "av", "statute"),
        ("investigation", "text", "statute"),
        ("notice", "text", "statute"),
    }
    assert chain(client, mkt, "P1")["flags"] == [
        {"seq": 1, "flag": "missing_av", "step": "evidence"},
        {"seq": 2, "flag": "missing_av", "step": "preservation"},
    ]
    # 强制拆除 and 查封扣押 in a coercion case: in full, from start to end.
    assert post(client, mkt, "K1", record("execution", clip(), ended="10:00")).status_code == 201
    (gap,) = chain(client, mkt, "K1")["flags"]
    assert gap["flag"] == "recording_gap" and gap["untimed"] == [SHA]
    assert gap["gaps"] == [{"from": at("09:00"), "to": at("10:00")}]
    assert counters(db_session, "P1") == (2, 0) and counters(db_session, "K1") == (0, 1)


def test_an_agency_list_adds_steps_and_allows_text_only(client, mkt, db_session):
    matters = [
        {"step": "notice", "recording": "av", "matter": "当场告知陈述申辩权利"},  # added: the statute has none
        {"step": "evidence", "recording": "av"},
        {"step": "evidence", "categories": ["penalty"], "recording": "text", "matter": "书证调取"},
    ]
    published = client.put(f"{URL}/disclosures/av", json=av_list(*matters), headers=mkt)
    assert published.status_code == 201, published.get_json()
    item = published.get_json()
    added = post(client, mkt, "P1", record("notice"), record("evidence"), record("preservation"))
    assert [r["recording"] for r in added.get_json()["records"]] == ["av", "text", "text"]
    assert {r["recording_list"] for r in added.get_json()["records"]} == {f"{item['id']}#{item['log_index']}"}
    # The agency's list replaces the statute's: preservation is no longer listed, so text is enough.
    assert chain(client, mkt, "P1")["flags"] == [{"seq": 1, "flag": "missing_av", "step": "notice"}]
    assert post(client, mkt, "K1", record("evidence")).status_code == 201  # the penalty exception only
    assert chain(client, mkt, "K1")["flags"] == [{"seq": 1, "flag": "missing_av", "step": "evidence"}]
    assert counters(db_session, "P1") == (1, 0)


def test_an_agency_list_cannot_lower_the_statutes_full_recording(client, mkt):
    """强制拆除 and 查封扣押 are recorded in full whatever the agency's list says; its other steps follow it."""
    lowered = av_list(
        {"step": "execution", "recording": "text"},
        {"step": "preservation", "categories": ["coercion"], "recording": "av"},
    )
    assert client.put(f"{URL}/disclosures/av", json=lowered, headers=mkt).status_code == 201
    added = post(client, mkt, "K1", record("execution"), record("preservation"))
    assert [r["recording"] for r in added.get_json()["records"]] == ["continuous", "continuous"]
    assert post(client, mkt, "P1", record("execution")).get_json()["records"][0]["recording"] == "text"


def test_a_record_keeps_the_rule_in_force_when_it_arrived(client, mkt, db_session):
    assert post(client, mkt, "P1", record("evidence")).status_code == 201  # statute: flagged
    text_only = av_list({"step": "evidence", "recording": "text"}, {"step": "closing", "recording": "av"})
    assert client.put(f"{URL}/disclosures/av", json=text_only, headers=mkt).status_code == 201
    assert post(client, mkt, "P1", record("evidence"), record("closing")).status_code == 201
    flags = [{"seq": 1, "flag": "missing_av", "step": "evidence"}, {"seq": 3, "flag": "missing_av", "step": "closing"}]
    assert chain(client, mkt, "P1")["flags"] == flags
    # The agency changes its list again: the flags already counted stay as they were.
    changed = av_list({"step": "evidence", "recording": "av"})
    assert client.put(f"{URL}/disclosures/av", json=changed, headers=mkt).status_code == 200
    assert chain(client, mkt, "P1")["flags"] == flags
    assert counters(db_session, "P1") == (2, 0)
    assert post(client, mkt, "P1", record("closing"), record("evidence")).status_code == 201
    assert chain(client, mkt, "P1")["flags"] == [*flags, {"seq": 5, "flag": "missing_av", "step": "evidence"}]


@pytest.mark.parametrize(
    ("clips", "ended", "gaps", "untimed"),
    [
        ([clip("09:00", "09:20"), clip("09:30", "10:00", sha="ef" * 32)], "10:00", [("09:20", "09:30")], []),
        ([clip("09:00", "09:50")], "10:00", [("09:50", "10:00")], []),  # ended early
        ([clip("09:05", "10:00", kind="audio")], "10:00", [("09:00", "09:05")], []),  # started late
        ([clip("09:00", "10:00")], None, [], []),  # the step's end is not known
        ([clip("09:00", "10:00"), clip(sha="ef" * 32)], None, [], ["ef" * 32]),
    ],
    ids=["hole", "ends-early", "starts-late", "no-ended-at", "untimed-clip"],
)
def test_continuous_recording_gaps_are_flagged(client, mkt, db_session, clips, ended, gaps, untimed):
    assert post(client, mkt, "K1", record("execution", *clips, ended=ended)).status_code == 201
    assert chain(client, mkt, "K1")["flags"] == [
        {
            "seq": 1,
            "flag": "recording_gap",
            "step": "execution",
            "gaps": [{"from": at(a), "to": at(b)} for a, b in gaps],
            "untimed": untimed,
            "ended_at_missing": ended is None,
        }
    ]
    assert counters(db_session, "K1") == (0, 1)


def test_overlapping_clips_covering_the_step_carry_no_flag(client, mkt, db_session):
    clips = [clip("08:55", "09:40"), clip("09:30", "09:45", kind="audio"), clip("09:45", "10:05"), clip()]
    assert post(client, mkt, "K1", record("execution", *clips, ended="10:00")).status_code == 201
    assert chain(client, mkt, "K1")["flags"] == []
    assert counters(db_session, "K1") == (0, 0)
    assert post(client, mkt, "K1", record("preservation", ended="09:10")).status_code == 201  # no clip at all
    assert chain(client, mkt, "K1")["flags"] == [{"seq": 2, "flag": "missing_av", "step": "preservation"}]


def test_preservation_is_on_site_with_two_officers(client, mkt):
    alone = post(client, mkt, "P1", record("preservation", officers=PAIR[:1]))
    assert alone.status_code == 422 and "officers" in alone.get_json()["errors"]
    assert post(client, mkt, "P1", record("preservation", clip())).status_code == 201


@pytest.mark.parametrize(
    ("records", "path", "says"),
    [
        ([record("execution", time="10:00", ended="09:00")], ["records", "0", "ended_at"], "before time"),
        (
            [record("filing"), record("execution", clip("09:30", "09:10"))],
            ["records", "1", "evidence", "0", "ended_at"],
            "before started_at",
        ),
        ([record("execution", clip("09:30"))], ["records", "0", "evidence", "0", "ended_at"], "go together"),
        ([record("execution", clip(end="09:30"))], ["records", "0", "evidence", "0", "started_at"], "go together"),
    ],
    ids=["step-ends-before-it-starts", "clip-ends-before-it-starts", "clip-without-end", "clip-without-start"],
)
def test_bad_intervals_are_refused_naming_the_field(client, mkt, records, path, says):
    refused = post(client, mkt, "K1", *records)
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]["json"]
    for key in path:
        errors = errors[key]
    assert any(says in message for message in errors), errors
    assert chain(client, mkt, "K1")["records"] == []


@pytest.mark.parametrize(
    ("matters", "path"),
    [
        ([{"step": "arrest", "recording": "av"}], ["0", "step"]),
        ([{"step": "evidence", "categories": ["tax"], "recording": "av"}], ["0", "categories", "0"]),
        ([{"step": "evidence", "recording": "always"}], ["0", "recording"]),
        ([{"step": "evidence", "recording": "av"}, {"step": "evidence", "recording": "text"}], ["1", "step"]),
        (
            [
                {"step": "evidence", "categories": ["penalty", "fee"], "recording": "av"},
                {"step": "evidence", "categories": ["fee"], "recording": "text"},
            ],
            ["1", "step"],
        ),
    ],
    ids=["unknown-step", "unknown-category", "unknown-recording", "step-twice", "category-twice"],
)
def test_a_bad_list_is_refused_naming_the_field(client, mkt, matters, path):
    refused = client.put(f"{URL}/disclosures/av", json=av_list(*matters), headers=mkt)
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]["json"]["details"]["matters"]
    for key in path:
        errors = errors[key]
    assert errors


def test_an_agency_publishes_one_list_and_changes_it_in_place(client, mkt):
    first = av_list({"step": "notice", "recording": "av"})
    assert client.put(f"{URL}/disclosures/av", json=first, headers=mkt).status_code == 201
    second = client.put(f"{URL}/disclosures/av2", json=av_list({"step": "closing", "recording": "av"}), headers=mkt)
    assert second.status_code == 409 and "external_id" in second.get_json()["errors"]
    unpublished = {**av_list({"step": "closing", "recording": "av"}), "publish": False}
    assert client.put(f"{URL}/disclosures/av2", json=unpublished, headers=mkt).status_code == 201
    assert post(client, mkt, "P1", record("closing")).get_json()["records"][0]["recording"] == "text"
    updated = av_list({"step": "notice", "recording": "av"}, {"step": "closing", "recording": "av"})
    assert client.put(f"{URL}/disclosures/av", json=updated, headers=mkt).status_code == 200
    assert post(client, mkt, "P1", record("closing")).get_json()["records"][0]["recording"] == "av"


def test_a_list_not_yet_in_effect_leaves_the_statute_in_force(client, mkt):
    later = {**av_list({"step": "evidence", "recording": "text"}), "effective_from": "2026-01-01"}
    assert client.put(f"{URL}/disclosures/av", json=later, headers=mkt).status_code == 201
    assert post(client, mkt, "P1", record("evidence")).get_json()["records"][0]["recording_list"] == "statute"


def test_records_from_before_the_lists_still_verify_and_keep_their_rule(client, mkt, db_session):
    """A record stored before migration 0017 has none of the new keys in its hash, and was flagged under the
    statute's rule of its time (coercive execution: some audio-video, not continuous)."""
    assert post(client, mkt, "K1", record("execution", clip())).status_code == 201
    stored = db_session.scalar(select(CaseRecord).where(CaseRecord.seq == 1))
    old_body = {
        "agency": "MKT",
        "case_no": "K1",
        "seq": 1,
        "step": "execution",
        "at": stored.at.astimezone(dt.UTC).isoformat(),
        "officers": PAIR,
        "place": None,
        "text": "execution 记录",
        "evidence": stored.evidence,
        "corrects": None,
    }
    old_hash = chain_hash(None, old_body)
    db_session.execute(
        update(CaseRecord)
        .where(CaseRecord.id == stored.id)
        .values(recording=None, recording_list=None, ended_at=None, hash=old_hash)
    )
    db_session.execute(update(Case).where(Case.id == stored.case_id).values(head_hash=old_hash))
    db_session.commit()
    assert post(client, mkt, "K1", record("execution", clip())).status_code == 201
    records = chain(client, mkt, "K1")
    assert records["records"][1]["prev_hash"] == old_hash
    # The old record: some video was all it needed; the new one: continuous recording, with no times.
    assert [(f["seq"], f["flag"]) for f in records["flags"]] == [(2, "recording_gap")]


@pytest.mark.parametrize(
    "change",
    [
        {"recording": "text"},
        {"recording_list": "statute-forged"},
        {"ended_at": dt.datetime(2025, 10, 20, 3, 0, tzinfo=dt.UTC)},
    ],
)
def test_the_rule_and_the_end_stored_on_a_record_are_covered_by_its_hash(client, mkt, db_session, change):
    assert post(client, mkt, "K1", record("execution", clip("09:00", "09:30"), ended="09:30")).status_code == 201
    db_session.execute(update(CaseRecord).where(CaseRecord.seq == 1).values(**change))
    db_session.commit()
    body = client.get(f"{URL}/cases/K1/records", headers=mkt).get_json()
    assert body["valid"] is False and "record 1 was altered after it was recorded" in body["problems"]


def test_clip_times_are_covered_by_the_record_hash(client, mkt, db_session):
    assert post(client, mkt, "K1", record("execution", clip("09:00", "09:30"), ended="09:30")).status_code == 201
    stored = db_session.scalar(select(CaseRecord).where(CaseRecord.seq == 1))
    moved = [{**stored.evidence[0], "started_at": "2025-10-20T00:50:00+00:00"}]
    db_session.execute(update(CaseRecord).where(CaseRecord.id == stored.id).values(evidence=moved))
    db_session.commit()
    assert client.get(f"{URL}/cases/K1/records", headers=mkt).get_json()["valid"] is False


def test_the_supervision_summary_counts_recording_gaps(client, mkt, runner):
    post(client, mkt, "K1", record("execution", clip("09:00", "09:20"), ended="10:00"))
    post(client, mkt, "P1", record("evidence"))
    runner.invoke(
        args=["admin", "create", "--username", "li", "--role", "supervisor", "--region", "350500"],
        input="a long password 1\n",
    )
    token = client.post("/api/v1/admin/auth/token", json={"username": "li", "password": "a long password 1"})
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    summary = client.get(
        "/api/v1/supervision/summary", query_string={"from": "2025-10-01", "to": "2025-10-31"}, headers=headers
    ).get_json()
    rows = {row["case_no"]: row for row in summary["cases_flagged"]}
    assert (rows["K1"]["missing_av"], rows["K1"]["recording_gaps"]) == (0, 1)
    assert (rows["P1"]["missing_av"], rows["P1"]["recording_gaps"]) == (1, 0)


def test_citizens_read_the_list_on_its_page(client, mkt):
    matters = [
        {"step": "preservation", "categories": ["coercion"], "recording": "continuous", "matter": "查封扣押财产"},
        {"step": "evidence", "recording": "text"},
    ]
    item = client.put(f"{URL}/disclosures/av", json=av_list(*matters), headers=mkt).get_json()
    page = client.get(f"/d/{item['id']}").get_data(as_text=True)
    assert "音像记录事项清单" in page
    assert "证据保全（行政强制） · 全程音像记录 · 查封扣押财产" in page and "取证 · 文字记录" in page

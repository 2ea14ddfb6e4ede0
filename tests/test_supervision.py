"""Supervision figures and the annual report, computed from stored data and checked by hand."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from backend.complaints import services as complaints
from backend.supervision.annual import publish_due
from tests.factories import AgencyFactory, reviews
from tests.factories.disclosures import decision
from tests.factories.officers import register

URL = "/api/v1/publish"


def at(clock, day: str, hour: int = 10) -> None:
    """Move the app clock to ``day`` at ``hour`` Beijing time."""
    clock.at = dt.datetime.fromisoformat(day).replace(hour=hour - 8, tzinfo=dt.UTC)


@pytest.fixture
def year_2025(client, auth, db_session, frozen_clock, runner):
    """A year of one agency, each figure counted by hand in the comments."""
    AgencyFactory(code="SFJ", name="泉州市司法局", supervises=True)
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    at(frozen_clock, "2026-01-06")  # a token issued at the end outlives every moment the year replays
    h = auth.headers("MKT")
    register(client, h, "35050012345", "35050012346")  # the officers its case records name

    def put(external_id, on_day, **body):
        at(frozen_clock, on_day)
        response = client.put(f"{URL}/disclosures/{external_id}", json=decision(**body), headers=h)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    # Decided 2025-09-30: due 2025-10-16 (National Day 10-01..10-08 skipped, Saturday 10-11 worked).
    put("d1", "2025-10-15", decision_date="2025-09-30", outcome="罚款", document_no="罚1")  # on time
    put("d2", "2025-10-17", decision_date="2025-09-30", outcome="罚款", document_no="罚2")  # one day late
    # Decided 2025-10-09: due 10-17 (10-10, 10-11 make-up, 10-13 .. 10-17); published that day: on time.
    put("d3", "2025-10-17", decision_date="2025-10-09", outcome="警告", document_no="罚3")
    put("d4", "2025-12-01", decision_date="2025-12-01", category="licensing", outcome="准予许可", document_no="许4")
    # A levy decided 2025-11-03 (20 working days: due 12-01), still unpublished in January: overdue.
    put(
        "d5",
        "2025-11-04",
        decision_date="2025-11-03",
        category="levy",
        outcome="征收",
        document_no="征5",
        publish=False,
    )
    # A minor's case: counted among decisions, never public, not judged for timeliness.
    put("d6", "2025-10-13", decision_date="2025-10-10", outcome="罚款", minor=True, document_no="罚6")
    put("old", "2024-06-03", decision_date="2024-06-01", outcome="罚款", document_no="罚旧")  # another year
    at(frozen_clock, "2025-11-20")
    client.post(
        f"{URL}/disclosures/d2/withdraw", json={"reason": "revoked", "explanation": "复议决定撤销。"}, headers=h
    )
    # A case made major (flagged) only after its decision, so decided without an approved review; and a
    # major one decided after its review was approved (the day before).
    reviews.file_reviewer(client, h)
    chen = reviews.reviewer_account(client, runner, "MKT")
    for case_no, reviewed in (("C1", False), ("C2", True)):
        at(frozen_clock, "2025-11-19")
        case = {
            "category": "penalty",
            "matter": "较大数额罚款",
            "major": reviewed,
            "officers": ["35050012345", "35050012346"],
            "opened_on": "2025-11-01",
        }
        assert client.put(f"{URL}/cases/{case_no}", json=case, headers=h).status_code == 201
        if reviewed:
            reviews.approve(client, h, chen, "MKT", case_no)
        at(frozen_clock, "2025-11-20")
        decided = client.post(
            f"{URL}/cases/{case_no}/records",
            headers=h,
            json={
                "records": [
                    {
                        "step": "decision",
                        "time": "2025-11-20T09:00:00+08:00",
                        "officers": ["35050012345"],
                        "text": "作出决定",
                    }
                ]
            },
        )
        assert decided.status_code == 201, decided.get_json()
        if not reviewed:
            assert client.put(f"{URL}/cases/{case_no}", json={**case, "major": True}, headers=h).status_code == 200
    for text in ("执法人员态度恶劣，言语粗暴。", "检查时未出示执法证件。"):
        complaints.submit({"category": "attitude", "content": text, "agency": "MKT"}, channel="web")
    at(frozen_clock, "2026-01-05")
    runner.invoke(
        args=["admin", "create", "--username", "li", "--role", "supervisor", "--region", "350500"],
        input="a long password 1\n",
    )
    return h


def test_the_annual_report_matches_the_hand_count(client, year_2025):
    report = client.get("/api/v1/agencies/MKT/annual-report", query_string={"year": 2025}).get_json()
    decisions = report["decisions"]
    assert decisions["total"] == 6
    assert decisions["by_category"]["penalty"]["total"] == 4
    assert decisions["by_category"]["penalty"]["outcomes"] == {"罚款": 3, "警告": 1}
    assert decisions["by_category"]["licensing"]["outcomes"] == {"准予许可": 1}
    assert decisions["by_category"]["levy"]["outcomes"] == {"征收": 1}
    assert report["on_time"] == {"due": 5, "on_time": 3, "late": 1, "pending_overdue": 1, "on_time_rate": 0.6}
    assert report["reviews"] == {"submitted": 1, "approve": 1}
    assert report["complaints"]["received"] == 2 and report["complaints"]["by_status"] == {"submitted": 2}
    assert report["withdrawals"] == {"revoked": 1}
    assert (
        client.get("/api/v1/agencies/MKT/annual-report", query_string={"year": 2024}).get_json()["decisions"]["total"]
        == 1
    )


def test_the_annual_report_exports_csv_and_xlsx(client, year_2025):
    as_csv = client.get("/api/v1/agencies/MKT/annual-report", query_string={"year": 2025, "format": "csv"})
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert ["公示时限", "公示率", "0.6"] in rows and ["执法决定", "合计", "6"] in rows
    as_xlsx = client.get("/api/v1/agencies/MKT/annual-report", query_string={"year": 2025, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    values = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert ("执法决定", "行政处罚/罚款", 3) in values and ("撤下", "revoked", 1) in values


def test_the_annual_statistics_are_published_by_31_january_once(client, year_2025, frozen_clock, indexer):
    assert publish_due() == 3  # both agencies, then SFJ's regional roll-up
    assert publish_due() == 0
    indexer.sync()
    found = client.get("/api/v1/disclosures", query_string={"type": "annual_statistics", "agency": "MKT"}).get_json()
    (item,) = found["items"]
    detail = client.get(f"/api/v1/disclosures/{item['id']}").get_json()
    assert detail["details"]["year"] == 2025 and detail["details"]["counts"]["执法决定/合计"] == 6
    at(frozen_clock, "2026-02-02")
    assert publish_due() == 0  # outside January the job does nothing


def test_the_supervision_summary(client, year_2025):
    token = client.post("/api/v1/admin/auth/token", json={"username": "li", "password": "a long password 1"})
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    summary = client.get(
        "/api/v1/supervision/summary", query_string={"from": "2025-01-01", "to": "2025-12-31"}, headers=headers
    )
    assert summary.status_code == 200, summary.get_json()
    body = summary.get_json()
    (mkt,) = [row for row in body["on_time"] if row["code"] == "MKT"]
    assert (mkt["on_time"], mkt["late"], mkt["pending_overdue"], mkt["on_time_rate"]) == (3, 1, 1, 0.6)
    # C1 and C2 were decided on 2025-11-20 (due 12-01) and no decision disclosure names them.
    assert {(i["external_id"], i["case_no"], i["status"]) for i in body["overdue_items"]} == {
        ("d2", None, "withdrawn"),
        ("d5", None, "pending"),
        (None, "C1", "missing"),
        (None, "C2", "missing"),
    }
    (mkt_cases,) = [row for row in body["on_time_cases"] if row["code"] == "MKT"]
    assert (mkt_cases["decided"], mkt_cases["pending_overdue"], mkt_cases["on_time_rate"]) == (2, 2, 0.0)
    assert body["rates"] == {
        "items": {"on_time": 3, "judged": 5, "on_time_rate": 0.6},
        "cases": {"on_time": 0, "judged": 2, "on_time_rate": 0.0},
    }
    assert body["major_without_review"] == [{"agency": "MKT", "case_no": "C1", "matter": "较大数额罚款"}]
    assert body["withdrawals_by_reason"] == {"revoked": 1}
    assert body["complaints"]["agencies"][0] == {"code": "MKT", "name": "泉州市市场监督管理局", "count": 2}
    assert client.get("/api/v1/supervision/summary?from=2025-01-01&to=2025-12-31").status_code == 401


def test_an_item_published_late_and_then_withheld_leaves_the_overdue_list_as_it_leaves_the_rate(
    client, auth, frozen_clock, year_2025
):
    """公示率 leaves withheld items (minors, confidential) out; the overdue list beside it must too."""
    h = auth.headers("MKT")
    # MKT reports cases (the fixture registered some), so its decisions name theirs.
    case = {
        "category": "penalty",
        "matter": "食品安全行政处罚",
        "officers": ["35050012345", "35050012346"],
        "opened_on": "2025-10-09",
    }
    assert client.put(f"{URL}/cases/C7", json=case, headers=h).status_code == 201
    for day, minor in (("2025-10-20", False), ("2025-10-21", True)):  # due 10-16: four days late, then withheld
        at(frozen_clock, day)
        body = decision(decision_date="2025-09-30", outcome="罚款", document_no="罚7", minor=minor, case_no="C7")
        assert client.put(f"{URL}/disclosures/d7", json=body, headers=h).status_code in (200, 201)
    at(frozen_clock, "2026-01-06")
    token = client.post("/api/v1/admin/auth/token", json={"username": "li", "password": "a long password 1"})
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    body = client.get(
        "/api/v1/supervision/summary", query_string={"from": "2025-01-01", "to": "2025-12-31"}, headers=headers
    ).get_json()
    (mkt,) = [row for row in body["on_time"] if row["code"] == "MKT"]
    assert (mkt["on_time"], mkt["late"], mkt["pending_overdue"]) == (3, 1, 1)
    assert {i["external_id"] for i in body["overdue_items"]} == {"d2", "d5", None}  # None: the fixture's C1, C2


def test_the_admin_dashboard_draws_the_figures(app, year_2025):
    import re

    browser = app.test_client()
    login_page = browser.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    logged_in = browser.post(
        "/admin/login", data={"username": "li", "password": "a long password 1", "csrf_token": token}
    )
    assert logged_in.status_code == 303
    page = browser.get("/admin/dashboard?from=2025-01-01&to=2025-12-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<svg" in html and "60.0%" in html and "泉州市市场监督管理局" in html
    assert "C1" in html and "较大数额罚款" in html and "被依法撤销" in html
    # Over decided cases: C1 and C2, neither decision registered, both listed with their case number.
    assert 'data-table="on_time_cases"' in html and "0.0%" in html and "案件 C2" in html and "未公开决定" in html


def _counter_rows():
    """The counters as the summary reads them (folded + pending deltas), zero sums left out."""
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.supervision import counts

    counted = counts.counted_rows()
    key = [counted.c[name] for name in counts.KEY]
    total = func.sum(counted.c.n)
    rows = db.session.execute(select(*key, total).group_by(*key).having(total != 0))
    return {tuple(row[:-1]): row[-1] for row in rows}


def _assert_counters_match():
    from sqlalchemy import true

    from backend.extensions import db
    from backend.supervision import counts
    from backend.supervision.services import on_time_rates

    direct = {tuple(row[:-1]): row[-1] for row in db.session.execute(counts.direct_rows())}
    assert _counter_rows() == direct
    for start, end in (("2025-01-01", "2025-12-31"), ("2025-09-30", "2025-10-09"), ("2024-01-01", "2026-12-31")):
        period = (dt.date.fromisoformat(start), dt.date.fromisoformat(end))
        assert on_time_rates(true(), *period) == on_time_rates(true(), *period, direct=True)


def test_the_on_time_counters_equal_the_direct_count(client, auth, db_session, frozen_clock):
    """Creates, late and bulk publishing, corrections that move the decision date, withheld items,
    withdrawals and expiries: after each, and before and after folding, the counters the summary reads
    equal the count over the disclosures themselves."""
    from backend.disclosures.lifecycle import expire_due
    from backend.supervision.counts import compact

    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    AgencyFactory(code="ENV", name="泉州市生态环境局")
    at(frozen_clock, "2026-12-01")  # tokens issued at the end outlive every moment replayed
    mkt, env = auth.headers("MKT"), auth.headers("ENV")

    def put(headers, external_id, on_day, **body):
        at(frozen_clock, on_day)
        response = client.put(f"{URL}/disclosures/{external_id}", json=decision(**body), headers=headers)
        assert response.status_code in (200, 201), response.get_json()

    put(mkt, "a1", "2025-10-15", decision_date="2025-09-30", document_no="1")  # on time
    put(mkt, "a2", "2025-10-20", decision_date="2025-09-30", document_no="2")  # late
    put(mkt, "a3", "2025-10-01", decision_date="2025-09-30", document_no="3", publish=False)  # pending
    put(mkt, "a4", "2025-10-10", decision_date="2025-10-09", document_no="4", minor=True)  # withheld
    put(env, "b1", "2025-10-10", decision_date="2025-10-09", category="levy", document_no="5")
    put(env, "b2", "2025-10-10", decision_date="2025-10-09", subject_type="person", subject_name="张三",
        subject_id="350502199001011234", document_no="6")  # fmt: skip
    _assert_counters_match()
    at(frozen_clock, "2025-10-21")
    items = [{**decision(document_no=f"bulk{n}", decision_date=f"2025-10-{10 + n}"), "external_id": f"k{n}"}
             for n in range(6)]  # fmt: skip
    assert client.post(f"{URL}/disclosures:bulk", json={"items": items}, headers=env).status_code in (200, 201, 207)
    _assert_counters_match()
    assert compact() > 0
    _assert_counters_match()
    # Corrections: a new decision date (new deadline, now late), the pending item published late.
    put(mkt, "a1", "2025-10-22", decision_date="2025-10-01", document_no="1")
    put(mkt, "a3", "2025-10-22", decision_date="2025-09-30", document_no="3")
    put(mkt, "a5", "2025-10-22", decision_date="2025-10-20", document_no="7", publish=False)
    _assert_counters_match()
    at(frozen_clock, "2025-11-20")
    withdrawn = client.post(
        f"{URL}/disclosures/a2/withdraw", json={"reason": "revoked", "explanation": "复议决定撤销。"}, headers=mkt
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()
    _assert_counters_match()
    compact()
    at(frozen_clock, "2026-12-01")  # a person's penalty leaves public view after its disclosure period
    assert expire_due() >= 1
    _assert_counters_match()
    assert compact() > 0
    assert compact() == 0  # nothing left to fold: folding twice never counts twice
    _assert_counters_match()


def test_the_counters_stay_equal_under_concurrent_writes_and_folds(committed):
    """Real commits from several threads (bulk and single publishes, corrections, withdrawals of one
    agency's overlapping dates) while another thread keeps folding: nothing counted twice or lost."""
    import threading

    from backend.accounts.services import create_client
    from backend.agencies.services import create_agency
    from backend.extensions import db
    from backend.supervision.counts import compact

    app = committed
    with app.app_context():
        create_agency(code="RACE", name="泉州市市场监督管理局", region_code="350500", actor="test")
        issued = create_client("RACE", actor="test")
        credentials = {"client_id": issued.client.client_id, "client_secret": issued.secret}
    token = app.test_client().post("/api/v1/auth/token", json=credentials).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    writers = 3
    start = threading.Barrier(writers + 1)
    done = threading.Event()
    failures: list[str] = []

    def write(w: int) -> None:
        client = app.test_client()
        start.wait()
        for round_ in range(4):
            items = [
                decision(document_no=f"{w}-{round_}-{n}", decision_date=f"2025-10-{10 + n}")
                | {"external_id": f"{w}-{n}"}
                for n in range(5)
            ]
            # Rounds after the first correct the same items (a new title: a new version, same counters
            # unless the decision date moves); the third round moves every date by a day.
            if round_ == 2:
                for item in items:
                    item["decision_date"] = item["decision_date"][:-2] + str(int(item["decision_date"][-2:]) + 1)
            response = client.post(f"{URL}/disclosures:bulk", json={"items": items}, headers=headers)
            if response.status_code not in (200, 201, 207):
                failures.append(f"bulk {response.status_code}")
            single = client.put(
                f"{URL}/disclosures/{w}-single-{round_}",
                json=decision(document_no=f"s{w}{round_}", publish=round_ % 2 == 0),
                headers=headers,
            )
            if single.status_code not in (200, 201):
                failures.append(f"put {single.status_code}")
        withdrawn = client.post(
            f"{URL}/disclosures/{w}-0/withdraw",
            json={"reason": "revoked", "explanation": "复议决定撤销。"},
            headers=headers,
        )
        if withdrawn.status_code != 200:
            failures.append(f"withdraw {withdrawn.status_code}")

    def fold() -> None:
        start.wait()
        while not done.is_set():
            with app.app_context():
                compact()
                db.session.remove()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    folder = threading.Thread(target=fold)
    for thread in [*threads, folder]:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    folder.join()
    assert failures == []
    with app.app_context():
        _assert_counters_match()
        assert sum(_counter_rows().values()) == writers * (5 + 4)
        compact()
        _assert_counters_match()

"""A 司法行政部门's roll-up of its region's annual statistics, across three levels of divisions, by hand count."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from backend.complaints import services as complaints
from backend.supervision.annual import publish_due
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision

URL = "/api/v1/publish/disclosures"


def at(clock, day: str, hour: int = 10) -> None:
    """Move the app clock to ``day`` at ``hour`` Beijing time."""
    clock.at = dt.datetime.fromisoformat(day).replace(hour=hour - 8, tzinfo=dt.UTC)


def inspection(**overrides):
    body = {
        "phase": "post",
        "type": "inspection_result",
        "title": "双随机抽查结果",
        "decision_date": "2025-08-01",
        "subject_type": "organization",
        "subject_name": "泉州市某超市",
        "content": "抽查食品经营许可情况。",
    }
    return body | overrides


@pytest.fixture
def region_2025(client, auth, db_session, frozen_clock):
    """Fujian (350000) > Quanzhou (350500) > Licheng district (350502), a Xiamen agency (350200) in the same
    province, a Shenzhen one (440300) outside it. Each figure is counted by hand in the tests."""
    for code, name, level, region, supervises in (
        ("SFT", "福建省司法厅", "province", "350000", True),
        ("SFJ", "泉州市司法局", "city", "350500", True),
        ("MKT", "泉州市市场监督管理局", "city", "350500", False),
        ("LC", "鲤城区市场监督管理局", "county", "350502", False),
        ("LCCG", "鲤城区城市管理局", "county", "350502", False),
        ("LCSFJ", "鲤城区司法局", "county", "350502", True),
        ("XM", "厦门市市场监督管理局", "city", "350200", False),
        ("SZ", "深圳市市场监督管理局", "city", "440300", False),
    ):
        AgencyFactory(code=code, name=name, level=level, region_code=region, supervises=supervises)
    at(frozen_clock, "2026-01-06")  # tokens issued at the end outlive every moment the year replays
    headers = {code: auth.headers(code) for code in ("MKT", "LC", "LCCG", "XM", "SZ")}

    def put(code, external_id, body, on_day=None):
        at(frozen_clock, on_day or body["decision_date"])
        response = client.put(f"{URL}/{external_id}", json=body, headers=headers[code])
        assert response.status_code == 201, response.get_json()

    def fined(decided, outcome="罚款", **amounts):
        return decision(decision_date=decided, outcome=outcome, document_no=f"罚{decided}", details=amounts)

    put("MKT", "m1", fined("2025-06-10", fine_amount=5000))
    put("MKT", "m2", decision(decision_date="2025-07-01", category="licensing", outcome="准予许可"))
    put("MKT", "m3", inspection(outcome="合格"))
    put("LC", "l1", fined("2025-06-12", fine_amount="2000", confiscation_amount="1500.50"))
    # Decided 2025-10-09, due 10-17 (10-11 a make-up working day), published 10-20: late.
    put("LC", "l2", fined("2025-10-09", outcome="不予处罚"), on_day="2025-10-20")
    put("LC", "l3", inspection(outcome="合格", decision_date="2025-08-04"))
    put("LC", "l4", inspection(outcome="责令整改", decision_date="2025-08-05"))
    put("LC", "l0", fined("2024-05-06", fine_amount=777))  # another year
    put("LCCG", "c1", fined("2025-09-01", fine_amount=200))
    put("XM", "x1", fined("2025-06-20", fine_amount=10000, confiscation_amount=300))
    put("SZ", "s1", fined("2025-06-20", fine_amount=99999))  # another province
    at(frozen_clock, "2025-11-03")
    for agency in ("LC", "XM", "SZ"):
        complaints.submit(
            {"category": "attitude", "content": "检查时未出示执法证件。", "agency": agency}, channel="web"
        )
    return headers


def regional(client, code, **params):
    response = client.get(f"/api/v1/agencies/{code}/regional-report", query_string={"year": 2025, **params})
    assert response.status_code == 200, response.get_json()
    return response


def test_each_level_gets_its_regions_totals(client, region_2025, frozen_clock):
    at(frozen_clock, "2026-01-05")
    city = regional(client, "SFJ").get_json()
    assert city["region"] == "350500" and city["agency"] == {"code": "SFJ", "name": "泉州市司法局"}
    # MKT 2 + LC 2 (l0 is 2024) + LCCG 1.
    assert city["decisions"]["total"] == 5
    assert city["decisions"]["by_category"]["penalty"]["outcomes"] == {"罚款": 3, "不予处罚": 1}
    assert city["decisions"]["by_category"]["licensing"]["outcomes"] == {"准予许可": 1}
    assert city["inspections"] == {"total": 3, "outcomes": {"合格": 2, "责令整改": 1}}
    # 5000 + 2000 + 200; 1500.50; three decisions carry an amount.
    assert city["amounts"] == {"fine": "7200.00", "confiscation": "1500.50", "decisions": 3}
    # 5 decisions + 3 inspection results due, l2 late.
    assert city["on_time"] == {"due": 8, "on_time": 7, "late": 1, "pending_overdue": 0, "on_time_rate": 0.875}
    assert city["complaints"]["received"] == 1
    province = regional(client, "SFT").get_json()
    assert province["decisions"]["total"] == 6  # and XM's
    assert province["decisions"]["by_category"]["penalty"]["outcomes"] == {"罚款": 4, "不予处罚": 1}
    assert province["amounts"] == {"fine": "17200.00", "confiscation": "1800.50", "decisions": 4}
    assert province["on_time"] == {"due": 9, "on_time": 8, "late": 1, "pending_overdue": 0, "on_time_rate": 0.8889}
    assert province["complaints"]["received"] == 2
    district = regional(client, "LCSFJ").get_json()
    assert district["decisions"]["total"] == 3 and district["inspections"]["total"] == 2
    assert district["amounts"] == {"fine": "2200.00", "confiscation": "1500.50", "decisions": 2}
    assert [a["code"] for a in district["agencies"]] == ["LC", "LCCG", "LCSFJ"]
    assert [a["code"] for a in province["agencies"]] == ["SFT", "XM", "MKT", "SFJ", "LC", "LCCG", "LCSFJ"]
    # The agency's own report stays its own.
    own = client.get("/api/v1/agencies/LC/annual-report", query_string={"year": 2025}).get_json()
    assert own["amounts"] == {"fine": "2000.00", "confiscation": "1500.50", "decisions": 1}
    assert own["inspections"]["total"] == 2


def test_only_a_supervising_agency_has_a_regional_report(client, region_2025):
    response = client.get("/api/v1/agencies/MKT/regional-report", query_string={"year": 2025})
    assert response.status_code == 404 and "code" in response.get_json()["errors"]
    assert client.get("/api/v1/agencies/NOPE/regional-report", query_string={"year": 2025}).status_code == 404
    bad = client.get("/api/v1/agencies/SFJ/regional-report", query_string={"year": "last", "format": "pdf"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]["query"]) == {"year", "format"}


def test_reports_are_submitted_when_published_and_late_after_15_january(client, auth, region_2025, frozen_clock):
    at(frozen_clock, "2026-01-05")
    listed = regional(client, "SFJ").get_json()
    assert listed["report_due"] == "2026-01-15"
    assert [(a["code"], a["submitted"], a["late"]) for a in listed["agencies"]] == [
        ("MKT", False, False),
        ("SFJ", False, False),
        ("LC", False, False),
        ("LCCG", False, False),
        ("LCSFJ", False, False),
    ]
    # LC's own system publishes its report on 10 January.
    at(frozen_clock, "2026-01-10")
    own = {"phase": "post", "type": "annual_statistics", "title": "鲤城区市场监督管理局2025年度行政执法数据统计"}
    own["details"] = {"year": 2025, "counts": {"执法决定/合计": 2}}
    lc = auth.headers("LC")
    response = client.put(f"{URL}/annual-statistics-2025", json=own, headers=lc)
    assert response.status_code == 201, response.get_json()
    at(frozen_clock, "2026-01-16")
    listed = regional(client, "SFJ").get_json()
    states = {a["code"]: (a["submitted"], a["submitted_at"], a["late"]) for a in listed["agencies"]}
    assert states["LC"] == (True, "2026-01-10T10:00:00+08:00", False)
    assert states["MKT"] == (False, None, True)
    assert listed["submissions"] == {"agencies": 5, "submitted": 1, "late": 4}
    # The job did not run before the 16th: every other agency's report and the three roll-ups come late.
    assert publish_due() == 7 - 1 + 1 + 3  # every agency but LC (SZ included), then SFT, SFJ and LCSFJ
    listed = regional(client, "SFJ").get_json()
    assert listed["submissions"] == {"agencies": 5, "submitted": 5, "late": 4}
    assert {a["code"] for a in listed["agencies"] if not a["late"]} == {"LC"}
    items = client.get(f"{URL}", query_string={"type": "annual_statistics"}, headers=auth.headers("LC")).get_json()
    assert items["items"][0]["overdue"] is False  # LC's own: due 31 January
    rolled = client.get(f"{URL}/regional-statistics-2025", headers=auth.headers("SFJ")).get_json()
    assert rolled["publish_deadline"] == "2026-01-15" and rolled["overdue"] is True


def test_the_roll_up_is_published_by_15_january_as_the_bureaus_own_item(
    client, auth, region_2025, frozen_clock, indexer
):
    at(frozen_clock, "2026-01-05")
    assert publish_due() == 8 + 3  # every agency's own report, then the three roll-ups
    assert publish_due() == 0
    indexer.sync()
    found = client.get("/api/v1/disclosures", query_string={"type": "annual_statistics", "agency": "SFJ"}).get_json()
    assert found["total"] == 2  # its own and the region's
    (rolled,) = [hit for hit in found["items"] if "本行政区域" in hit["title"]]
    item = client.get(f"/api/v1/disclosures/{rolled['id']}").get_json()
    assert item["details"]["region"] == "350500" and item["details"]["year"] == 2025
    assert item["details"]["counts"]["执法决定/合计"] == 5 and item["details"]["counts"]["抽查检查/合计"] == 3
    assert "罚没金额 罚款（元）：7200.00" in item["content"]
    assert "报送情况 鲤城区市场监督管理局（LC）：已报送 2026-01-05" in item["content"]
    sfj = auth.headers("SFJ")
    mine = client.get(f"{URL}/regional-statistics-2025", headers=sfj).get_json()
    assert mine["publish_deadline"] == "2026-01-15" and mine["overdue"] is False
    assert client.get(f"{URL}/annual-statistics-2025", headers=sfj).get_json()["publish_deadline"] == "2026-01-31"
    listed = regional(client, "SFJ").get_json()
    assert listed["submissions"] == {"agencies": 5, "submitted": 5, "late": 0}


def test_the_roll_up_exports_csv_and_xlsx(client, region_2025, frozen_clock):
    at(frozen_clock, "2026-01-16")
    as_csv = regional(client, "SFJ", format="csv")
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert "SFJ-2025-regional-report.csv" in as_csv.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert ["行政区划", "本行政区域汇总", "350500"] in rows and ["执法决定", "合计", "5"] in rows
    assert ["罚没金额", "罚款（元）", "7200.00"] in rows and ["抽查检查", "责令整改", "1"] in rows
    assert ["报送情况", "泉州市市场监督管理局（MKT）", "未报送，逾期"] in rows
    as_xlsx = regional(client, "SFT", format="xlsx")
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    values = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    assert ("执法决定", "行政处罚/罚款", 4) in values and ("公示时限", "公示率", 0.8889) in values
    (fine,) = [row[2] for row in values if row[:2] == ("罚没金额", "罚款（元）")]
    assert Decimal(str(fine)) == Decimal("17200")

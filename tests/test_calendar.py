"""Holiday schedules loaded by operators: ``flask calendar load`` validates, stores, audits, is used
before the package's data by every process, and makes provisional deadlines final at once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import chinese_calendar
import pytest
from sqlalchemy import select

from backend import workdays
from backend.audit.models import AuditEntry
from backend.calendars import services as calendars
from backend.calendars.models import HolidayCalendar
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision

URL = "/api/v1/publish/disclosures"
SHIPPED = Path(__file__).resolve().parent.parent / "deploy" / "calendars"


def synthetic_2027(**overrides) -> dict:
    """A made-up 2027 schedule for these tests only (not the State Council's): New Year's Day on
    Friday 1 January through the weekend, and Saturday 9 January worked in exchange."""
    schedule = {
        "year": 2027,
        "document_no": "测试〔2026〕1号",
        "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}],
        "makeup_workdays": ["2027-01-09"],
    }
    schedule.update(overrides)
    return schedule


@pytest.fixture(autouse=True)
def no_schedule_left_behind():
    """The rolled-back database forgets a loaded schedule; this process's copy must forget it too."""
    yield
    workdays.use_loaded_schedules([], "")
    calendars._checked_at = float("-inf")


@pytest.fixture
def load(runner, tmp_path):
    def load(schedule: dict | str):
        path = tmp_path / "schedule.json"
        path.write_text(schedule if isinstance(schedule, str) else json.dumps(schedule, ensure_ascii=False))
        return runner.invoke(args=["calendar", "load", str(path)])

    return load


@pytest.fixture
def headers(auth, db_session):
    AgencyFactory(code="CAL")
    return auth.headers("CAL")


def test_a_loaded_schedule_makes_2027_deadlines_final_and_is_followed(client, headers, load, db_session, frozen_clock):
    put = client.put(f"{URL}/n", json=decision(decision_date="2026-12-28", publish=False), headers=headers)
    assert (put.json["publish_deadline"], put.json["deadline_provisional"]) == ("2027-01-06", True)

    result = load(synthetic_2027())
    assert result.exit_code == 0, result.output
    assert "2027: loaded 测试〔2026〕1号" in result.output and "recomputed 1 deadlines" in result.output

    # 12-29, 12-30, 12-31, (1-1 to 1-3 元旦), 1-4, 1-5, 1-6, 1-7.
    after = client.get(f"{URL}/n", headers=headers).json
    assert (after["publish_deadline"], after["deadline_provisional"]) == ("2027-01-07", False)
    explained = client.get(f"{URL}/n/deadline", headers=headers).json
    assert "2027年1月1日至1月3日 元旦" in explained["explanation"] and "尚未发布" not in explained["explanation"]

    # The make-up Saturday counts: 1-6, 1-7, 1-8, 1-9 (Saturday worked), 1-11, 1-12, 1-13.
    later = client.put(f"{URL}/m", json=decision(decision_date="2027-01-05", publish=False), headers=headers).json
    assert (later["publish_deadline"], later["deadline_provisional"]) == ("2027-01-13", False)


def test_the_load_is_audited_and_a_repeat_changes_nothing(load, db_session):
    assert load(synthetic_2027()).exit_code == 0
    again = load(synthetic_2027())
    assert again.exit_code == 0 and "already loaded, nothing changed" in again.output
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "calendar.load")).all()
    assert len(entries) == 1
    (entry,) = entries
    assert (entry.actor, entry.target_type, entry.target_id) == ("cli", "holiday_calendar", "2027")
    assert entry.detail["document_no"] == "测试〔2026〕1号" and entry.detail["replaced"] is None


def test_another_process_counts_on_the_schedule_before_it_stores_a_deadline(client, headers, load, frozen_clock):
    assert load(synthetic_2027()).exit_code == 0
    # A worker that started before the load still holds the package's data only.
    workdays.use_loaded_schedules([], "")
    body = client.put(f"{URL}/n", json=decision(decision_date="2026-12-28", publish=False), headers=headers).json
    assert (body["publish_deadline"], body["deadline_provisional"]) == ("2027-01-07", False)


def test_a_corrected_schedule_replaces_the_first_and_its_deadlines(client, headers, load, db_session, frozen_clock):
    assert load(synthetic_2027()).exit_code == 0
    first = client.put(f"{URL}/n", json=decision(decision_date="2026-12-28", publish=False), headers=headers).json
    assert first["publish_deadline"] == "2027-01-07"  # now in this process's cache of counted clocks

    corrected = synthetic_2027(
        document_no="测试〔2026〕2号", holidays=[{"name": "元旦", "from": "2027-01-01", "to": "2027-01-04"}]
    )
    result = load(corrected)
    assert result.exit_code == 0, result.output
    assert "replacing 测试〔2026〕1号" in result.output and "recomputed 1 deadlines" in result.output
    assert client.get(f"{URL}/n", headers=headers).json["publish_deadline"] == "2027-01-08"
    same_day = client.put(f"{URL}/m", json=decision(decision_date="2026-12-28", publish=False), headers=headers).json
    assert same_day["publish_deadline"] == "2027-01-08"  # not the clock counted on the first schedule
    replaced = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "calendar.load")).all()[-1]
    assert replaced.detail["replaced"] == "测试〔2026〕1号"


@pytest.mark.parametrize(
    ("schedule", "field", "problem"),
    [
        (
            synthetic_2027(holidays=[{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}] * 2),
            "holidays",
            "2027-01-01 is listed twice: in 元旦 and in 元旦",
        ),
        (
            synthetic_2027(makeup_workdays=["2027-01-02"]),
            "makeup_workdays",
            "2027-01-02 is both a holiday (元旦) and a make-up working day",
        ),
        (
            synthetic_2027(makeup_workdays=["2027-02-10"]),
            "makeup_workdays",
            "2027-02-10 is a Wednesday: make-up working days fall on weekends",
        ),
        (
            synthetic_2027(holidays=[{"name": "元旦", "from": "2026-12-31", "to": "2027-01-02"}]),
            "holidays",
            "2026-12-31 (元旦) is not in 2027",
        ),
        (synthetic_2027(makeup_workdays=["2028-01-08"]), "makeup_workdays", "2028-01-08 is not in 2027"),
        (
            synthetic_2027(holidays=[{"name": " ", "from": "2027-01-01", "to": "2027-01-03"}]),
            "name",
            "a holiday needs its name",
        ),
        (
            synthetic_2027(holidays=[{"name": "元旦", "from": "2027-01-03", "to": "2027-01-01"}]),
            "to",
            "ends (2027-01-01) before it begins (2027-01-03)",
        ),
        ({k: v for k, v in synthetic_2027().items() if k != "document_no"}, "document_no", "Missing data"),
        (synthetic_2027(makeup_workdays=["2027-13-01"]), "makeup_workdays", "Not a valid date"),
        (synthetic_2027(workdays=[]), "workdays", "Unknown field"),
        ('{"year": 2027, "document_no": ', "file", "line 1 column 31"),
        ("[2027]", "file", "must be a JSON object"),
    ],
    ids=[
        "date-twice",
        "holiday-and-makeup",
        "makeup-on-weekday",
        "holiday-outside-year",
        "makeup-outside-year",
        "unnamed-holiday",
        "backwards-range",
        "no-document-number",
        "not-a-date",
        "unknown-field",
        "malformed-json",
        "not-an-object",
    ],
)
def test_an_invalid_schedule_is_refused_naming_the_problem(load, db_session, schedule, field, problem):
    result = load(schedule)
    assert result.exit_code == 1
    assert "节假日安排文件" in result.output and f"'{field}'" in result.output and problem in result.output
    assert "Traceback" not in result.output
    assert db_session.scalars(select(HolidayCalendar)).all() == []
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "calendar.load")).all() == []


def test_show_lists_the_loaded_years_and_prints_one(load, runner):
    assert load(synthetic_2027()).exit_code == 0
    assert "2027  测试〔2026〕1号  loaded" in runner.invoke(args=["calendar", "show"]).output
    shown = runner.invoke(args=["calendar", "show", "2027"]).output
    assert "元旦: 2027-01-01 to 2027-01-03" in shown and "2027-01-09" in shown
    missing = runner.invoke(args=["calendar", "show", "2031"])
    assert missing.exit_code == 1 and "no schedule loaded for 2031" in missing.output


def test_the_shipped_2026_schedule_loads_and_agrees_with_the_package_day_by_day(load, db_session):
    result = load((SHIPPED / "2026.json").read_text(encoding="utf-8"))
    assert result.exit_code == 0, result.output
    day = dt.date(2026, 1, 1)
    while day.year == 2026:
        assert workdays.is_working_day(day) == (chinese_calendar.is_workday(day), False), day
        day += dt.timedelta(days=1)

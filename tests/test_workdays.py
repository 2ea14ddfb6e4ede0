"""Working-day deadlines on the official calendar.

Expected dates below were worked out by hand from the State Council schedules and are cross-checked
against chinese_calendar itself. They rely on chinesecalendar==1.11.0 (data for 2004..2026): when the
package gains 2027 data, the provisional cases here must be revisited.
"""

import datetime as dt

import chinese_calendar
import pytest

from backend.workdays import (
    Deadline,
    SkippedDay,
    add_working_days,
    has_calendar_data,
    is_working_day,
    working_days_between,
)

D = dt.date

# 2025 国庆节、中秋节: off 10-01 (Wed) .. 10-08 (Wed); Sunday 09-28 and Saturday 10-11 are worked.
NATIONAL_DAY_2025 = [
    # 10-09 Thu (1), 10-10 Fri (2), 10-11 Sat make-up (3), 10-12 Sun off, 10-13..10-16 (4..7).
    pytest.param(D(2025, 9, 30), 7, D(2025, 10, 16), id="2025-national-day-publish-7"),
    # As above, then 10-17 (8), 10-20..24 (9..13), 10-27..31 (14..18), 11-03 (19), 11-04 (20).
    pytest.param(D(2025, 9, 30), 20, D(2025, 11, 4), id="2025-national-day-publish-20"),
    # From Friday 09-26: 09-27 Sat off, 09-28 Sun make-up (1), 09-29 (2), 09-30 (3), holiday,
    # 10-09 (4), 10-10 (5), 10-11 Sat make-up (6), 10-12 Sun off, 10-13 Mon (7).
    pytest.param(D(2025, 9, 26), 7, D(2025, 10, 13), id="2025-makeup-sunday-counts"),
    # Complaint accepted within 3: 10-09 (1), 10-10 (2), Saturday 10-11 (3) is the due date itself.
    pytest.param(D(2025, 9, 30), 3, D(2025, 10, 11), id="2025-makeup-saturday-is-due"),
    pytest.param(D(2025, 10, 9), 2, D(2025, 10, 11), id="2025-makeup-saturday-after-holiday"),
]

# 2026 春节 as chinese_calendar 1.11.0 has it: off 02-15 (Sun) .. 02-23 (Mon); Saturdays 02-14 and 02-28 worked.
SPRING_FESTIVAL_2026 = [
    # From Wednesday 02-11: 02-12 (1), 02-13 (2), 02-14 Sat make-up (3), holiday, 02-24..02-27 (4..7).
    pytest.param(D(2026, 2, 11), 7, D(2026, 2, 27), id="2026-spring-festival-publish-7"),
    # As above, then 02-28 Sat make-up (8), 03-01 Sun off, 03-02..06 (9..13), 03-09..13 (14..18),
    # 03-16 (19), 03-17 (20).
    pytest.param(D(2026, 2, 11), 20, D(2026, 3, 17), id="2026-spring-festival-publish-20"),
    # From Friday 02-13: 02-14 (1), holiday, 02-24..02-27 (2..5), 02-28 Sat (6), 03-01 off, 03-02 (7).
    pytest.param(D(2026, 2, 13), 7, D(2026, 3, 2), id="2026-spring-festival-both-makeup-days"),
    # Complaint answered within 15 from Monday 02-09: 02-10..02-13 (1..4), 02-14 (5), holiday,
    # 02-24..02-27 (6..9), 02-28 (10), 03-02..03-06 (11..15).
    pytest.param(D(2026, 2, 9), 15, D(2026, 3, 6), id="2026-spring-festival-answer-15"),
]

# An ordinary November week, no holidays or make-up days near it.
ORDINARY_WEEKS = [
    pytest.param(D(2025, 11, 7), 1, D(2025, 11, 10), id="friday-1-is-monday"),
    pytest.param(D(2025, 11, 7), 5, D(2025, 11, 14), id="friday-5-is-next-friday"),
    pytest.param(D(2025, 11, 7), 7, D(2025, 11, 18), id="friday-7-crosses-weekend"),
    pytest.param(D(2025, 11, 8), 1, D(2025, 11, 10), id="saturday-1-is-monday"),
    pytest.param(D(2025, 11, 8), 5, D(2025, 11, 14), id="saturday-5-is-friday"),
    pytest.param(D(2025, 11, 10), 3, D(2025, 11, 13), id="monday-3-is-thursday"),
]

OFFICIAL_CASES = NATIONAL_DAY_2025 + SPRING_FESTIVAL_2026 + ORDINARY_WEEKS


@pytest.mark.parametrize(("start", "n", "due"), OFFICIAL_CASES)
def test_due_date_on_the_official_calendar(start, n, due):
    deadline = add_working_days(start, n)
    assert deadline.due == due
    assert (deadline.start, deadline.working_days, deadline.provisional) == (start, n, False)
    # The package agrees: due is a working day and exactly n of them lie in (start, due].
    assert chinese_calendar.is_workday(due)
    assert len(chinese_calendar.get_workdays(start + dt.timedelta(days=1), due)) == n


@pytest.mark.parametrize(("start", "n", "due"), OFFICIAL_CASES)
def test_skipped_and_makeup_days_partition_the_interval(start, n, due):
    deadline = add_working_days(start, n)
    interval = [start + dt.timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert [item.date for item in deadline.skipped] == [day for day in interval if chinese_calendar.is_holiday(day)]
    assert list(deadline.makeup_days) == [
        day for day in interval if day.weekday() >= 5 and chinese_calendar.is_workday(day)
    ]


def test_national_day_2025_details():
    deadline = add_working_days(D(2025, 9, 26), 7)
    assert deadline.makeup_days == (D(2025, 9, 28), D(2025, 10, 11))
    assert deadline.skipped == (
        SkippedDay(D(2025, 9, 27), "周末"),
        *(SkippedDay(D(2025, 10, day), "国庆节") for day in range(1, 6)),
        # chinese_calendar names 10-06, the Mid-Autumn day itself, after 中秋节 alone.
        SkippedDay(D(2025, 10, 6), "中秋节"),
        SkippedDay(D(2025, 10, 7), "国庆节"),
        SkippedDay(D(2025, 10, 8), "国庆节"),
        SkippedDay(D(2025, 10, 12), "周末"),
    )


def test_spring_festival_2026_details():
    deadline = add_working_days(D(2026, 2, 11), 20)
    assert deadline.makeup_days == (D(2026, 2, 14), D(2026, 2, 28))
    festival = tuple(SkippedDay(D(2026, 2, day), "春节") for day in range(15, 24))
    weekends = tuple(SkippedDay(D(2026, 3, day), "周末") for day in (1, 7, 8, 14, 15))
    assert deadline.skipped == festival + weekends


def test_explain_national_day_2025():
    text = add_working_days(D(2025, 9, 26), 7).explain()
    assert text == (
        "自 2025年9月26日（不计当日）起算 7 个工作日，截止 2025年10月13日。"
        "跳过：2025年9月27日 周末，2025年10月1日至10月8日 国庆节、中秋节，2025年10月12日 周末；"
        "调休上班：2025年9月28日（周日）、2025年10月11日（周六）。"
    )


def test_explain_without_skipped_days():
    assert add_working_days(D(2025, 11, 10), 3).explain() == (
        "自 2025年11月10日（不计当日）起算 3 个工作日，截止 2025年11月13日。"
    )


def test_explain_range_across_years_names_both_years():
    # 2025-12-27/28 is an ordinary weekend; 2026-01-01..03 is 元旦 and Sunday 01-04 is worked.
    text = add_working_days(D(2025, 12, 26), 5).explain()
    assert "跳过：2025年12月27日至12月28日 周末，2026年1月1日至1月3日 元旦；调休上班：2026年1月4日（周日）。" in text


def test_explain_provisional_2027():
    text = add_working_days(D(2026, 12, 28), 7).explain()
    assert "截止 2027年1月6日" in text
    assert text.endswith("（2027 年官方节假日安排尚未发布，按周一至周五计算，发布后将重新计算）")
    assert "2026 年官方" not in text  # 2026 has data even though the deadline starts there


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (D(2026, 1, 1), "元旦"),
        (D(2026, 2, 16), "春节"),
        (D(2026, 4, 6), "清明节"),
        (D(2026, 5, 1), "劳动节"),
        (D(2026, 6, 19), "端午节"),
        (D(2026, 9, 25), "中秋节"),
        (D(2026, 10, 1), "国庆节"),
        (D(2015, 9, 3), "法定节假日"),  # "Anti-Fascist 70th Day", not one of the regular festivals
        (D(2026, 3, 7), "周末"),
        (D(2027, 3, 6), "周末"),
    ],
)
def test_skipped_reason(day, reason):
    assert add_working_days(day - dt.timedelta(days=1), 1).skipped[0] == SkippedDay(day, reason)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 9, 28), (True, False)),  # Sunday 调休上班
        (D(2025, 9, 27), (False, False)),  # ordinary Saturday
        (D(2025, 10, 6), (False, False)),  # Monday inside the holiday
        (D(2025, 10, 9), (True, False)),
        (D(2027, 1, 1), (True, True)),  # Friday; 元旦 in reality, but 2027 is not published yet
        (D(2027, 1, 2), (False, True)),
        (D(2003, 12, 31), (True, True)),  # before the package's data too
    ],
)
def test_is_working_day(day, expected):
    assert is_working_day(day) == expected


def test_is_working_day_matches_the_package_for_every_covered_day():
    day, last = D(2004, 1, 1), D(2026, 12, 31)
    while day <= last:
        assert is_working_day(day) == (chinese_calendar.is_workday(day), False), day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("day", "covered"),
    [(D(2004, 1, 1), True), (D(2026, 12, 31), True), (D(2027, 1, 1), False), (D(2003, 12, 31), False)],
)
def test_has_calendar_data(day, covered):
    assert has_calendar_data(day) is covered


@pytest.mark.parametrize(
    ("start", "n", "due", "provisional"),
    [
        # Weekdays only in 2027: Friday 03-05 -> 03-08..03-12 (1..5), 03-15 (6), 03-16 (7).
        pytest.param(D(2027, 3, 5), 7, D(2027, 3, 16), True, id="within-2027"),
        # 12-29..12-31 (1..3), 2027-01-01 Fri (4, counted as a weekday), 01-04..01-06 (5..7).
        pytest.param(D(2026, 12, 28), 7, D(2027, 1, 6), True, id="december-2026-into-2027"),
        pytest.param(D(2026, 12, 31), 1, D(2027, 1, 1), True, id="only-the-due-date-in-2027"),
        # 12-21..12-25 (1..5), 12-28 (6), 12-29 (7): never leaves 2026.
        pytest.param(D(2026, 12, 18), 7, D(2026, 12, 29), False, id="late-2026-within-2026"),
        pytest.param(D(2026, 12, 30), 1, D(2026, 12, 31), False, id="last-covered-day"),
    ],
)
def test_provisional(start, n, due, provisional):
    deadline = add_working_days(start, n)
    assert (deadline.due, deadline.provisional) == (due, provisional)


def test_deadline_is_immutable():
    deadline = add_working_days(D(2025, 9, 30), 7)
    assert isinstance(deadline, Deadline)
    with pytest.raises(AttributeError):
        deadline.due = D(2025, 10, 1)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 15, 20, 60])
@pytest.mark.parametrize(
    "start", [D(2025, 9, 26), D(2025, 9, 30), D(2025, 10, 4), D(2026, 2, 14), D(2026, 12, 20), D(2027, 6, 5)]
)
def test_working_days_between_inverts_add_working_days(start, n):
    due = add_working_days(start, n).due
    assert working_days_between(start, due) == n
    # The day before due is one working day short, whatever lies between.
    assert working_days_between(start, due - dt.timedelta(days=1)) == n - 1


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (D(2025, 9, 30), D(2025, 9, 30), 0),
        (D(2025, 10, 9), D(2025, 9, 30), 0),
        (D(2025, 9, 30), D(2025, 10, 8), 0),  # only holidays in between
        (D(2025, 9, 30), D(2025, 10, 9), 1),
        (D(2025, 9, 26), D(2025, 9, 28), 1),  # the make-up Sunday
        (D(2025, 10, 16), D(2025, 10, 20), 2),  # days late: 10-17 and 10-20
    ],
)
def test_working_days_between(start, end, count):
    assert working_days_between(start, end) == count


@pytest.mark.parametrize("n", [0, -1])
def test_n_must_be_positive(n):
    with pytest.raises(ValueError):
        add_working_days(D(2025, 9, 30), n)

"""Statutory deadlines counted in working days (工作日) on China's official holiday calendar.

Decisions must be published within 7 working days (行政许可/行政处罚) or 20 (others) of the decision
date; complaints must be accepted within 3 working days and answered within 15. The start date is
never counted: the 1st working day is the first working day strictly after it.

The official calendar is each year's State Council schedule (statutory holidays and the weekend days
worked in exchange, 调休上班). A schedule an operator loaded (``flask calendar load``, installed here
by backend/calendars) comes first; otherwise ``chinese_calendar`` knows the years up to its release.
For a year neither has (the schedule is published each November for the following year) we count
Monday to Friday and mark the result provisional, so callers can recompute once the data arrives.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import chinese_calendar

# The package's own Chinese names are abbreviated ("清明", "端午", "中秋"); citizens read the full ones.
_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}
_UNKNOWN_HOLIDAY = "法定节假日"
_WEEKEND = "周末"
_WEEKDAY_NAMES = "一二三四五六日"
_ONE_DAY = dt.timedelta(days=1)

# The same bounds chinese_calendar checks before raising NotImplementedError, read once so that
# asking about an uncovered year costs a comparison instead of an exception.
_FIRST_YEAR = min(chinese_calendar.holidays).year
_LAST_YEAR = max(chinese_calendar.holidays).year


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's published schedule (放假安排), as loaded by an operator."""

    year: int
    holidays: Mapping[dt.date, str]  # every day off under the notice, with its holiday's name
    makeup_workdays: frozenset[dt.date]  # weekend days worked in exchange (调休上班)


@dataclass(frozen=True, eq=False, slots=True)
class _Loaded:
    """The loaded schedules one computation uses; compared and hashed by identity, so that a cached
    classification made under an earlier set is never returned under a later one."""

    version: str
    years: Mapping[int, YearSchedule]


_loaded = _Loaded("", MappingProxyType({}))


def use_loaded_schedules(schedules: Iterable[YearSchedule], version: str) -> None:
    """Count on these schedules from now on, in preference to the package's data for their years."""
    global _loaded
    _loaded = _Loaded(version, MappingProxyType({schedule.year: schedule for schedule in schedules}))


def loaded_version() -> str:
    """The version of the schedules in use ("" for none), as backend/calendars computes it."""
    return _loaded.version


def calendar_version() -> tuple[int, int, str]:
    """Changes whenever any year's data changes: for caches of results counted on the calendar."""
    return _FIRST_YEAR, _LAST_YEAR, _loaded.version


@dataclass(frozen=True, slots=True)
class SkippedDay:
    date: dt.date
    reason: str  # "周末", or the holiday's Chinese name (元旦, 春节, ... or 法定节假日)


@dataclass(frozen=True, slots=True)
class Deadline:
    start: dt.date
    working_days: int
    due: dt.date  # the Nth working day after start, so always a working day itself
    provisional: bool  # some day examined fell in a year without official data
    skipped: tuple[SkippedDay, ...]  # non-working days in (start, due], in order
    makeup_days: tuple[dt.date, ...]  # weekend days in (start, due] that counted (调休上班), in order

    def explain(self) -> str:
        """One Chinese paragraph telling citizens and agencies how the due date was reached."""
        start, due = _format_date(self.start), _format_date(self.due)
        text = f"自 {start}（不计当日）起算 {self.working_days} 个工作日，截止 {due}。"
        sections = []
        if self.skipped:
            sections.append("跳过：" + "，".join(_describe_skipped(self.skipped)))
        if self.makeup_days:
            makeup = (f"{_format_date(day)}（周{_WEEKDAY_NAMES[day.weekday()]}）" for day in self.makeup_days)
            sections.append("调休上班：" + "、".join(makeup))
        if sections:
            text += "；".join(sections) + "。"
        if self.provisional:
            # Name only the years lacking data among the days examined, which begin the day after start.
            first_year = (self.start + _ONE_DAY).year
            years = [year for year in range(first_year, self.due.year + 1) if not _has_year(year, _loaded)]
            text += f"（{'、'.join(map(str, years))} 年官方节假日安排尚未发布，按周一至周五计算，发布后将重新计算）"
        return text


def has_calendar_data(day: dt.date) -> bool:
    return _has_year(day.year, _loaded)


def _has_year(year: int, loaded: _Loaded) -> bool:
    return year in loaded.years or _FIRST_YEAR <= year <= _LAST_YEAR


@lru_cache(maxsize=16384)  # about 45 years of days; bounded because dates can come from requests
def _classify(day: dt.date, loaded: _Loaded) -> tuple[bool, bool, SkippedDay | None]:
    """(is_working, provisional, why it is skipped); the SkippedDay is built once here so that
    add_working_days only has to collect cached objects."""
    schedule = loaded.years.get(day.year)
    if schedule is not None:
        if day in schedule.holidays:
            return False, False, SkippedDay(day, schedule.holidays[day])
        if day.weekday() < 5 or day in schedule.makeup_workdays:
            return True, False, None
        return False, False, SkippedDay(day, _WEEKEND)
    if not _has_year(day.year, loaded):
        if day.weekday() < 5:
            return True, True, None
        return False, True, SkippedDay(day, _WEEKEND)
    # get_holiday_detail gives (False, name) for a 调休 working weekend, (True, name) for a statutory
    # holiday (including the weekend days inside it) and (True, None) for an ordinary weekend.
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    if not on_holiday:
        return True, False, None
    if name is None:
        return False, False, SkippedDay(day, _WEEKEND)
    return False, False, SkippedDay(day, _HOLIDAY_NAMES.get(name, _UNKNOWN_HOLIDAY))


def is_working_day(day: dt.date) -> tuple[bool, bool]:
    """(is_working, provisional); in a year without data Monday to Friday are working days."""
    working, provisional, _ = _classify(day, _loaded)
    return working, provisional


def add_working_days(start: dt.date, n: int) -> Deadline:
    """The deadline N working days after start (start itself not counted)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    skipped: list[SkippedDay] = []
    makeup_days: list[dt.date] = []
    provisional = False
    loaded = _loaded  # one set of schedules for the whole count, even if an operator loads one meanwhile
    day = start
    remaining = n
    while remaining:
        day += _ONE_DAY
        working, day_provisional, skipped_day = _classify(day, loaded)
        provisional = provisional or day_provisional
        if working:
            remaining -= 1
            if day.weekday() >= 5:
                makeup_days.append(day)
        else:
            skipped.append(skipped_day)
    return Deadline(start, n, day, provisional, tuple(skipped), tuple(makeup_days))


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days d with start < d <= end, counted the same way as add_working_days, so that
    "days remaining" and "days late" agree with the due date; 0 when end <= start."""
    count = 0
    loaded = _loaded
    day = start
    while day < end:
        day += _ONE_DAY
        count += _classify(day, loaded)[0]
    return count


def working_days_left(deadline: dt.date | None, on: dt.date) -> int | None:
    """Working days until the deadline (0: due today); negative: working days late."""
    if deadline is None:
        return None
    if on <= deadline:
        return working_days_between(on, deadline)
    return -working_days_between(deadline, on)


def _format_date(day: dt.date, with_year: bool = True) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if with_year else f"{day.month}月{day.day}日"


def _describe_skipped(skipped: tuple[SkippedDay, ...]) -> list[str]:
    """Runs of consecutive skipped days as "2025年10月1日至10月8日 国庆节、中秋节".

    Consecutive weekend days form one run; consecutive holiday days form one run even when their names
    differ, because a combined holiday such as 2025's 国庆节、中秋节 is one block in the official schedule
    while the package names each day after one festival (10月6日 is 中秋节, the rest 国庆节).
    """
    runs: list[list[SkippedDay]] = []
    for item in skipped:
        previous = runs[-1][-1] if runs else None
        if (
            previous is not None
            and item.date - previous.date == _ONE_DAY
            and (item.reason == _WEEKEND) == (previous.reason == _WEEKEND)
        ):
            runs[-1].append(item)
        else:
            runs.append([item])
    descriptions = []
    for run in runs:
        first, last = run[0].date, run[-1].date
        span = _format_date(first)
        if last != first:
            span += "至" + _format_date(last, with_year=last.year != first.year)
        reasons = "、".join(dict.fromkeys(item.reason for item in run))  # distinct, in order of appearance
        descriptions.append(f"{span} {reasons}")
    return descriptions

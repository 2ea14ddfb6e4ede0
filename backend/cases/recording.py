"""Which recording a step of a case needs, and whether a record has it (执法全过程记录, seed 001 二(二)2).

Each agency publishes one 音像记录事项清单 (an ``av_matter_list`` disclosure): the steps, for every case
category or for some, that need audio-video (``av``); those that need it without a break from the step's
start to its end (``continuous``, 全程音像记录: acts touching personal liberty, life and health or major
property, such as 查封扣押财产 and 强制拆除); and those a text record fully covers (``text``,
"文字记录能够全面有效记录"). Until it publishes one, the statute's list applies. The list in force when a
record arrives is stored on the record, so its flags never change when the agency changes its list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select

from backend.agencies.models import Agency
from backend.disclosures.models import PHASE_OF_TYPE, Disclosure, Status
from backend.errors import Conflict
from backend.extensions import db
from backend.timezone import CHINA, today

from .models import Recording

LIST_TYPE = "av_matter_list"
STATUTE = "statute"
AV_KINDS = ("audio", "video")

# The statute's list (DOMAIN §2, seed 001), as an av_matter_list's details carry it: on-site evidence,
# preservation, hearings and service on audio-video, and so coercive and inspection investigations;
# coercive execution (强制拆除) and preservation (查封扣押) recorded in full.
STATUTE_MATTERS: tuple[Mapping[str, Any], ...] = (
    {"step": "evidence", "recording": "av"},
    {"step": "preservation", "recording": "av"},
    {"step": "hearing", "recording": "av"},
    {"step": "service", "recording": "av"},
    {"step": "investigation", "categories": ["coercion", "inspection"], "recording": "av"},
    {"step": "execution", "categories": ["coercion"], "recording": "continuous"},
    {"step": "preservation", "categories": ["coercion"], "recording": "continuous"},
)
# The rule records stored before lists were (migration 0017) were flagged under when they arrived.
BEFORE_LISTS: tuple[Mapping[str, Any], ...] = (
    {"step": "evidence", "recording": "av"},
    {"step": "hearing", "recording": "av"},
    {"step": "service", "recording": "av"},
    {"step": "investigation", "categories": ["coercion", "inspection"], "recording": "av"},
    {"step": "execution", "categories": ["coercion"], "recording": "av"},
)


BEFORE = "before"


@dataclass(frozen=True)
class RecordingList:
    """A list's entries and where it came from: ``statute``, or the item's id and the transparency log entry
    of the content applied, ``<id>#<log_index>`` (a correction of the list gets a new entry)."""

    source: str
    matters: Sequence[Mapping[str, Any]]

    def need(self, category: str, step: str) -> Recording:
        """An entry naming the case's category wins over one for every category; a step listed nowhere
        needs its text record only. An agency's list may ask more than the statute's, or allow text where a
        text record suffices, but never lowers what the statute records in full (全程音像记录 of acts on
        personal liberty and major property is required, not the agency's choice)."""
        listed = self.listed(category, step)
        if self.source in (STATUTE, BEFORE) or listed == Recording.continuous:
            return listed
        return Recording.continuous if STATUTE_FLOOR.listed(category, step) == Recording.continuous else listed

    def listed(self, category: str, step: str) -> Recording:
        """What this list's own entries say."""
        general = Recording.text
        for matter in self.matters:
            if matter["step"] != step:
                continue
            categories = matter.get("categories")
            if not categories:
                general = Recording(matter["recording"])
            elif category in categories:
                return Recording(matter["recording"])
        return general


STATUTE_FLOOR = RecordingList(STATUTE, tuple(m for m in STATUTE_MATTERS if m["recording"] == "continuous"))


def stored_rule(stored: str | None, category: str, step: str) -> Recording:
    """The rule a stored record was flagged under on arrival: the one stored with it, or for a record from
    before migration 0017, the statute's rule of that time."""
    return Recording(stored) if stored else RecordingList(BEFORE, BEFORE_LISTS).need(category, step)


def _published_lists(agency: Agency) -> Select[tuple[Disclosure]]:
    return select(Disclosure).where(
        Disclosure.agency_id == agency.id,
        # The type is only ever pre-phase; naming the phase lets the (agency, phase, type) index answer.
        Disclosure.phase == PHASE_OF_TYPE[LIST_TYPE],
        Disclosure.type == LIST_TYPE,
        Disclosure.status == Status.published,
    )


def list_in_force(agency: Agency) -> RecordingList:
    """The agency's published list if it is in effect today (Beijing), else the statute's."""
    on = today()
    item = db.session.scalar(
        _published_lists(agency)
        .where(
            or_(Disclosure.effective_from.is_(None), Disclosure.effective_from <= on),
            or_(Disclosure.effective_until.is_(None), Disclosure.effective_until >= on),
        )
        # One per agency (check_one_list); the newest wins should two ever meet.
        .order_by(Disclosure.published_at.desc(), Disclosure.id.desc())
        .limit(1)
    )
    if item is None:
        return RecordingList(STATUTE, STATUTE_MATTERS)
    return RecordingList(f"{item.id}#{item.log_index}", item.details["matters"])


def check_one_list(agency: Agency, external_id: str, data: Mapping[str, Any]) -> None:
    """An agency has one 音像记录事项清单: it changes it by updating that item (a logged correction), so a
    second one published beside it is refused (409)."""
    if data["type"] != LIST_TYPE or not data["publish"]:
        return
    other = db.session.scalar(
        _published_lists(agency)
        .where(Disclosure.external_id != external_id)
        .with_only_columns(Disclosure.external_id)
        .limit(1)
    )
    if other is not None:
        raise Conflict(
            "本机关已公开音像记录事项清单，请更新原清单",
            errors={"external_id": [f"the agency's av_matter_list is {other!r}: update or withdraw it first"]},
        )


def record_flags(
    need: Recording, step: str, start: dt.datetime, end: dt.datetime | None, evidence: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One record's recording flags (without its seq), from its evidence as stored: ``missing_av`` when it
    needed audio-video and has none; ``recording_gap`` when it needed continuous recording and its clips do
    not cover [start, end], with the uncovered intervals, the clips without times (they cover nothing),
    and whether the record lacks its end."""
    if need == Recording.text:
        return []
    clips = [e for e in evidence if e["kind"] in AV_KINDS]
    if not clips:
        return [{"flag": "missing_av", "step": step}]
    if need == Recording.av:
        return []
    parse = dt.datetime.fromisoformat
    timed = [(parse(e["started_at"]), parse(e["ended_at"])) for e in clips if "started_at" in e]
    gaps = uncovered(start, end, timed) if end is not None else []
    if end is not None and not gaps:
        return []
    return [
        {
            "flag": "recording_gap",
            "step": step,
            "gaps": [{"from": a.astimezone(CHINA).isoformat(), "to": b.astimezone(CHINA).isoformat()} for a, b in gaps],
            "untimed": [e["sha256"] for e in clips if "started_at" not in e],
            "ended_at_missing": end is None,
        }
    ]


def uncovered(
    start: dt.datetime, end: dt.datetime, clips: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of [start, end] no clip covers; clips may overlap, touch or stick out."""
    gaps = []
    cursor = start
    for clip_start, clip_end in sorted(clips):
        if cursor >= end:
            break
        if clip_start > cursor:
            gaps.append((cursor, min(clip_start, end)))
        cursor = max(cursor, clip_end)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps

"""持证上岗: every badge on a case record is a registered officer whose credential was in force at the
record's time (seed 003: "未经执法资格考试合格，不得授予执法资格，不得从事执法活动"), in an enforcement domain
the case's category allows where the agency declared which do (``Agency.case_domains``).

The status in force is read from the officers' status history (``OfficerStatusChange``), so a badge
suspended on the day of a record and reinstated since is still refused for that record.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from backend.agencies.models import Agency
from backend.errors import Invalid
from backend.extensions import db
from backend.officers.models import CredentialStatus, Officer, OfficerStatusChange
from backend.timezone import china_date


class Credentials:
    """The officers bearing some badges and their status histories, read in two queries for a whole batch.

    ``category``: the case's; where the agency declared domains for it, an officer holding none of them is refused.
    """

    def __init__(self, agency: Agency, badges: set[str], category: str | None = None) -> None:
        self._agency_id = agency.id
        declared = (agency.case_domains or {}).get(category) if category else None
        self._category = category
        self._allowed: list[str] | None = list(declared) if declared is not None else None
        officers = db.session.scalars(select(Officer).where(Officer.badge_no.in_(badges))).all() if badges else []
        # Badge numbers are unique per agency: the case's own agency's officer is tried first, then an officer
        # of another agency with that badge (joint enforcement).
        self._by_badge: dict[str, list[Officer]] = defaultdict(list)
        for officer in sorted(officers, key=lambda o: (o.agency_id != agency.id, o.id)):
            self._by_badge[officer.badge_no].append(officer)
        self._history: dict[int, list[OfficerStatusChange]] = defaultdict(list)
        self._times: dict[int, list[dt.datetime]] = defaultdict(list)  # of each history, for bisect
        if officers:
            changes = db.session.scalars(
                select(OfficerStatusChange)
                .where(OfficerStatusChange.officer_id.in_([o.id for o in officers]))
                .order_by(OfficerStatusChange.at, OfficerStatusChange.id)
            )
            for change in changes:
                self._history[change.officer_id].append(change)
                self._times[change.officer_id].append(change.at)

    def refusal(self, badge: str, at: dt.datetime) -> str | None:
        """Why ``badge`` could not act at ``at``; None when it could."""
        candidates = self._by_badge.get(badge)
        if not candidates:
            return "not a registered officer"
        if candidates[0].agency_id == self._agency_id:  # the agency's own officer answers for its badge
            return self._officer_refusal(candidates[0], at)
        reasons = [self._officer_refusal(officer, at) for officer in candidates]
        return None if None in reasons else reasons[0]

    def _officer_refusal(self, officer: Officer, at: dt.datetime) -> str | None:
        history = self._history[officer.id]
        # The last change at or before ``at``; none means the credential was still as issued: active.
        position = bisect.bisect_right(self._times[officer.id], at)
        if position:
            change = history[position - 1]
            if change.status != CredentialStatus.active:
                return f"{change.status} on {china_date(change.at).isoformat()}"
        day = china_date(at)
        if officer.valid_until is not None and officer.valid_until < day:
            return f"expired: valid until {officer.valid_until.isoformat()}"
        if officer.valid_from is not None and day < officer.valid_from:
            return f"not yet valid: valid from {officer.valid_from.isoformat()}"
        if self._allowed is not None and not set(officer.domains or ()) & set(self._allowed):
            held = "、".join(officer.domains or ()) or "no domain"
            return f"out of domain: holds {held}, case category {self._category} allows {'、'.join(self._allowed)}"
        return None


def check_record_officers(agency: Agency, records: list[dict[str, Any]], category: str | None = None) -> None:
    """Refuse the batch (422) when any record names a badge that could not act at the record's time (in a case
    of ``category``); every such badge of every record is reported, under the record's index as the request's
    own validation does."""
    credentials = Credentials(agency, {badge for data in records for badge in data["officers"]}, category)
    errors: dict[str, dict[str, list[str]]] = {}
    for index, data in enumerate(records):
        problems = [
            f"{badge}: {reason}"
            for badge in dict.fromkeys(data["officers"])
            if (reason := credentials.refusal(badge, data["time"])) is not None
        ]
        if problems:
            errors[str(index)] = {"officers": problems}
    if errors:
        raise Invalid("执法人员须持有效执法证件方可从事执法活动", errors={"json": {"records": errors}})

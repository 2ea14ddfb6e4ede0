"""The audit trail's integrity, anchored in the transparency log: once a Beijing day is over, its digest
(backend/audit/trail.py) is appended as an ``audit_digest`` entry (item_id: the day; committed: the sha256;
detail: count, first and last id). The trail stays private; the log shows anyone, for each day, that a trail
of that many entries existed and, through a signed checkpoint, that its digest has not changed since.
``verify`` recomputes every anchored day: an entry altered, added or deleted afterwards shows as a mismatch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from backend.audit import trail
from backend.extensions import db
from backend.progress import Track, untracked
from backend.timezone import today

from . import services

ACTOR = "system:audit_digest"
# Entries are platform-wide: the log's agency field names the platform, not an agency or region.
PLATFORM = "platform"


def anchor_due() -> int:
    """Anchor every finished day (up to yesterday, Beijing) not anchored yet, from the trail's first day on;
    days without entries get a digest too (a count of zero is a claim as well). Returns how many days."""
    start = trail.first_day()
    if start is None:
        return 0
    anchored = trail.anchored_days()
    days = [start + dt.timedelta(days=n) for n in range((today() - start).days)]
    due = [day for day in days if day not in anchored]
    for day in due:
        made = trail.digest(day)
        detail = {"count": made.count, "first_id": made.first_id, "last_id": made.last_id}
        made_event = services.event(
            trail.DIGEST_EVENT, day.isoformat(), PLATFORM, ACTOR, detail=detail, committed=made.sha256
        )
        services.append([made_event])
    db.session.commit()
    return len(due)


@dataclass
class Verification:
    days: int = 0
    problems: list[str] = field(default_factory=list)


def verify(track: Track = untracked) -> Verification:
    """Recompute each anchored day and compare it with its log entry. Days before the latest purge
    (trail.purge, itself audited) are skipped: their digest is what remains of them. ``track`` sees each day."""
    report = Verification()
    purged_before = trail.purged_before()
    anchored = sorted(trail.anchored_days().items())
    for day, entry in track(anchored, len(anchored)):
        if purged_before is not None and day < purged_before:
            continue
        report.days += 1
        now = trail.digest(day)
        if now.sha256 != entry.commitment or now.count != entry.detail.get("count"):
            report.problems.append(
                f"{day.isoformat()}: {now.count} entries now, {entry.detail.get('count')} when anchored at log "
                f"index {entry.index}; the digest differs: the day's audit trail was changed"
            )
    return report

"""The 公示率 counters (see ``models``): the trigger that keeps them, folding deltas, reading them.

The trigger (created by migration 0009, for PostgreSQL and SQLite) lives in the database, not in the
services, so every write is counted however it is made (the API, bulk publish, expiry, recomputed
deadlines, a Core insert or an operator's SQL).
``direct_counts`` computes the same figures from the disclosures themselves; the tests compare the
two after every kind of write.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select, text, union_all
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend.agencies.models import Agency
from backend.disclosures.models import Disclosure
from backend.extensions import db

from .models import DisclosureCount, DisclosureCountDelta

KEY = ("agency_id", "decision_date", "publish_deadline", "status", "published_late", "published")
# Any lock id: only compactions take it, so two never fold the same deltas into the same rows at once.
_COMPACT_LOCK = 0x5358_0009

# What the counters count, from the disclosures themselves (the migration's first fill, the tests).
COUNTED = and_(
    Disclosure.phase == "post", Disclosure.publish_deadline.is_not(None), Disclosure.decision_date.is_not(None)
)


def direct_rows() -> Select:
    """(key..., n) from the disclosures, grouped: what the counters must always add up to."""
    published = Disclosure.published_at.is_not(None)
    return (
        select(
            Disclosure.agency_id,
            Disclosure.decision_date,
            Disclosure.publish_deadline,
            Disclosure.status,
            Disclosure.published_late,
            published.label("published"),
            func.count().label("n"),
        )
        .where(COUNTED)
        .group_by(
            Disclosure.agency_id,
            Disclosure.decision_date,
            Disclosure.publish_deadline,
            Disclosure.status,
            Disclosure.published_late,
            published,
        )
    )


def counted_rows() -> Any:
    """Folded counters plus the deltas not yet folded, as one subquery (read in one statement)."""
    folded = select(*(getattr(DisclosureCount, c) for c in KEY), DisclosureCount.n)
    pending = select(*(getattr(DisclosureCountDelta, c) for c in KEY), DisclosureCountDelta.n)
    return union_all(folded, pending).subquery("counted")


def rates_query(scope: Any, date_from: dt.date, date_to: dt.date, on: dt.date, rows: Any) -> Select:
    """公示率 per agency from ``rows`` (counted_rows() or direct_rows().subquery()): of the items decided in
    the period (withheld ones aside), how many were published by their deadline, late, or are overdue."""
    n = rows.c.n
    late = rows.c.published_late.is_(True)
    return (
        select(
            Agency.code,
            Agency.name,
            func.sum(n),
            func.sum(case((and_(rows.c.published.is_(True), ~late), n), else_=0)),
            func.sum(case((late, n), else_=0)),
            func.sum(case((and_(rows.c.status == "pending", rows.c.publish_deadline < on), n), else_=0)),
        )
        .join(rows, rows.c.agency_id == Agency.id)
        .where(scope, rows.c.status != "withheld", rows.c.decision_date.between(date_from, date_to))
        .group_by(Agency.code, Agency.name)
        .having(func.sum(n) > literal(0))
        .order_by(Agency.code)
    )


def compact() -> int:
    """Fold the deltas into the counters; returns how many deltas were folded. Safe to run at any
    time and concurrently: a delta is deleted and added in the same transaction, exactly once."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_COMPACT_LOCK)))
        columns = ", ".join(KEY)
        folded = session.execute(
            text(
                f"""
                WITH moved AS (DELETE FROM disclosure_count_deltas RETURNING {columns}, n),
                summed AS (SELECT {columns}, sum(n) AS n, count(*) AS deltas FROM moved GROUP BY {columns}),
                merged AS (
                    INSERT INTO disclosure_counts ({columns}, n) SELECT {columns}, n FROM summed
                    ON CONFLICT ({columns}) DO UPDATE SET n = disclosure_counts.n + excluded.n
                )
                SELECT coalesce(sum(deltas), 0) FROM summed
                """
            )
        ).scalar_one()
    else:
        # SQLite has one writer at a time; DELETE ... RETURNING hands over exactly the deleted rows.
        moved = session.execute(
            DisclosureCountDelta.__table__.delete().returning(
                *(DisclosureCountDelta.__table__.c[c] for c in KEY), DisclosureCountDelta.__table__.c.n
            )
        ).all()
        sums: Counter[tuple] = Counter()
        for *key, n in moved:
            sums[tuple(key)] += n
        if sums:
            stmt = sqlite_insert(DisclosureCount.__table__)
            stmt = stmt.on_conflict_do_update(
                index_elements=list(KEY), set_={"n": DisclosureCount.__table__.c.n + stmt.excluded.n}
            )
            session.connection().execute(stmt, [dict(zip(KEY, key, strict=True), n=n) for key, n in sums.items()])
        folded = len(moved)
    session.execute(DisclosureCount.__table__.delete().where(DisclosureCount.n == 0))
    session.commit()
    return int(folded)

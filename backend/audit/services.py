from __future__ import annotations

from typing import Any

from backend.extensions import clock, db

from .models import AuditEntry


def record(
    actor: str, action: str, target_type: str, target_id: str, *, ip: str | None = None, **detail: Any
) -> AuditEntry:
    """Add an audit entry to the current transaction; it commits (or not) with the change it describes.

    ``ip``: the client address of the request that made the change (none for the CLI and jobs)."""
    entry = AuditEntry(
        at=clock.now(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail,
        ip=ip,
    )
    db.session.add(entry)
    return entry

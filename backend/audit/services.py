from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from backend.extensions import clock, db

from .models import AuditEntry


def record(actor: str, action: str, target_type: str, target_id: str, **detail: Any) -> AuditEntry:
    """Add an audit entry to the current transaction; it commits (or not) with the change it describes."""
    entry = AuditEntry(
        at=clock.now(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry

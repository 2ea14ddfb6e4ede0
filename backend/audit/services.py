from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.extensions import clock, db

from .models import AuditEntry

if TYPE_CHECKING:
    from backend.accounts.models import AdminUser

# Whose reads are privileged (who looked at what is audited): the supervisors and admins who read every
# agency's data in their scope, and the external 监督员 who read what a round assigns them.
PRIVILEGED_READERS = frozenset({"supervisor", "admin", "observer", "auditor", "security"})
READ = "supervision.read"


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


def record_read(user: AdminUser, path: str, query: dict[str, Any], ip: str | None) -> None:
    """A privileged read (PRIVILEGED_READERS): who read which page or resource, with which query, when and from
    where; committed before the answer leaves, so a read that cannot be audited is not served."""
    if str(user.role) not in PRIVILEGED_READERS:
        return
    record(f"admin:{user.username}", READ, "path", path, ip=ip, query=query)
    db.session.commit()

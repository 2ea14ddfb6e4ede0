"""Which agencies an admin user may see: a handler their own, a supervisor their region and below."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from backend.accounts.models import AdminRole, AdminUser
from backend.agencies.models import Agency


def region_prefix(region_code: str) -> str:
    """350000 -> 35, 350500 -> 3505, 350502 -> 350502: the codes below a division share its prefix."""
    if region_code.endswith("0000"):
        return region_code[:2]
    if region_code.endswith("00"):
        return region_code[:4]
    return region_code


def visible_agencies(user: AdminUser) -> ColumnElement[bool]:
    """A condition on Agency for what ``user`` may see (a reviewer, an observer or a publisher: none)."""
    if user.role == AdminRole.admin:
        return true()
    if user.role == AdminRole.handler:
        return Agency.id == user.agency_id
    if user.role == AdminRole.supervisor:
        return Agency.region_code.like(region_prefix(user.region_code or "") + "%")
    # A reviewer, an observer or a publisher sees nothing of this (reviews.py and evaluation.py scope what
    # the first two work on; a publisher's pages use its agency's own services);
    # falling through to the supervisor's condition would match every agency.
    return false()

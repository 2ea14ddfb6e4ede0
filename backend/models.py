"""Imports every model so the metadata is complete (Alembic, tests)."""

from backend.accounts.models import AdminUser, AgencyClient
from backend.agencies.models import Agency
from backend.audit.models import AuditEntry
from backend.disclosures.models import Disclosure, DisclosureVersion
from backend.officers.models import BadgeScan, Officer, OfficerPhoto
from search_index.indexing import SearchOutbox

__all__ = [
    "AdminUser",
    "Agency",
    "AgencyClient",
    "AuditEntry",
    "BadgeScan",
    "Disclosure",
    "DisclosureVersion",
    "Officer",
    "OfficerPhoto",
    "SearchOutbox",
]

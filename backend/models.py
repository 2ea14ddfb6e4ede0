"""Imports every model so the metadata is complete (Alembic, tests)."""

from backend.accounts.models import AdminUser, AgencyClient
from backend.agencies.models import Agency
from backend.audit.models import AuditEntry
from backend.complaints.models import Complaint, ComplaintEvent, Notification
from backend.disclosures.models import Disclosure, DisclosureVersion
from backend.officers.models import BadgeScan, Officer, OfficerPhoto
from backend.transparency.models import Checkpoint, LogEntry, LogHead, MerkleNode
from search_index.indexing import SearchOutbox

__all__ = [
    "AdminUser",
    "Agency",
    "AgencyClient",
    "AuditEntry",
    "BadgeScan",
    "Checkpoint",
    "Complaint",
    "ComplaintEvent",
    "Disclosure",
    "DisclosureVersion",
    "LogEntry",
    "LogHead",
    "MerkleNode",
    "Notification",
    "Officer",
    "OfficerPhoto",
    "SearchOutbox",
]

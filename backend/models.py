"""Imports every model so the metadata is complete (Alembic, tests)."""

from backend.accounts.models import AdminUser, AgencyClient
from backend.agencies.models import Agency
from backend.audit.models import AuditEntry
from backend.calendars.models import HolidayCalendar
from backend.cases.models import Case, CaseRecord, CaseReview, LegalReviewer
from backend.complaints.models import Complaint, ComplaintEvent, Notification
from backend.disclosures.models import Disclosure, DisclosureVersion
from backend.exchange.models import ExchangeClient, HotlineWorkOrder, PushDelivery, PushSubscription
from backend.officers.models import BadgeScan, Officer, OfficerPhoto
from backend.search.indexing import SearchOutbox
from backend.supervision.evaluation_models import EvaluationCase, EvaluationRound
from backend.supervision.models import DisclosureCount, DisclosureCountDelta, NegativeListEntry
from backend.transparency.models import Checkpoint, LogEntry, LogHead, MerkleNode
from miniapp_api.models import BadgeScene

__all__ = [
    "AdminUser",
    "Agency",
    "AgencyClient",
    "AuditEntry",
    "BadgeScan",
    "BadgeScene",
    "Case",
    "CaseRecord",
    "CaseReview",
    "Checkpoint",
    "Complaint",
    "ComplaintEvent",
    "Disclosure",
    "DisclosureCount",
    "DisclosureCountDelta",
    "DisclosureVersion",
    "EvaluationCase",
    "EvaluationRound",
    "ExchangeClient",
    "HolidayCalendar",
    "HotlineWorkOrder",
    "LegalReviewer",
    "LogEntry",
    "LogHead",
    "MerkleNode",
    "NegativeListEntry",
    "Notification",
    "Officer",
    "OfficerPhoto",
    "PushDelivery",
    "PushSubscription",
    "SearchOutbox",
]

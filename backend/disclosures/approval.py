"""Pre-publication approval ("经法制部门审核后公示", seed 000): a 司法局 requires that an agency's pre-phase
lists of a type are approved before they go public; held submissions wait in a queue until an approver
releases or returns them.

Approvers: a supervisor whose region covers the agency, an admin, and for 随机抽查事项清单 the handler
accounts of the agency the requirement names (the region's 市场监督管理局, which leads 双随机抽查).
Setting or lifting a requirement, approving and returning are audited and appended to the transparency log.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import ColumnElement, and_, exists, false, select

from backend.accounts.models import AdminRole, AdminUser
from backend.accounts.scope import visible_agencies
from backend.agencies.models import Agency
from backend.agencies.services import get_agency
from backend.audit.services import record
from backend.errors import Conflict, Invalid, NotFound
from backend.extensions import clock, db
from backend.extensions.smorest import Page, paginate
from backend.transparency import services as transparency

from . import publishing
from .models import (
    APPROVABLE_TYPES,
    APPROVER_AGENCY_TYPES,
    ApprovalRequest,
    ApprovalRequirement,
    ApprovalState,
    Status,
)
from .schemas import DisclosurePutSchema

SUPERVISING = (AdminRole.supervisor, AdminRole.admin)


# -- requirements ---------------------------------------------------------------------------------
def requirements(user: AdminUser) -> list[ApprovalRequirement]:
    """The requirements on agencies the user supervises."""
    if user.role not in SUPERVISING:
        return []
    return list(
        db.session.scalars(
            select(ApprovalRequirement)
            .join(ApprovalRequirement.agency)
            .where(visible_agencies(user))
            .order_by(Agency.code, ApprovalRequirement.type)
        )
    )


def _supervised(user: AdminUser, code: str) -> Agency:
    """An agency the user supervises; any other is not found (its existence is not revealed)."""
    agency = db.session.scalar(select(Agency).where(Agency.code == code, visible_agencies(user)))
    if agency is None or user.role not in SUPERVISING:
        raise NotFound("未找到该执法主体", errors={"agency": [f"no agency {code!r} in your region"]})
    return agency


def require(
    user: AdminUser, code: str, type_: str, approver_agency: str | None, *, ip: str | None = None
) -> tuple[ApprovalRequirement, bool]:
    """Require approval of ``code``'s items of ``type_``; (the requirement, whether it is new). Setting it again
    changes only the approver agency."""
    agency = _supervised(user, code)
    if type_ not in APPROVABLE_TYPES:
        raise Invalid("该类公示信息无需审核", errors={"type": [f"one of {', '.join(APPROVABLE_TYPES)}"]})
    if approver_agency and type_ not in APPROVER_AGENCY_TYPES:
        raise Invalid(
            "仅随机抽查事项清单可由其他机关审核", errors={"approver_agency": [f"only for {APPROVER_AGENCY_TYPES[0]}"]}
        )
    approver = _approver_agency(approver_agency)
    requirement = db.session.scalar(
        select(ApprovalRequirement).where(ApprovalRequirement.agency_id == agency.id, ApprovalRequirement.type == type_)
    )
    created = requirement is None
    actor = f"admin:{user.username}"
    if created:
        requirement = ApprovalRequirement(agency=agency, type=type_, set_by=actor, created_at=clock.now())
        db.session.add(requirement)
    requirement.approver_agency = approver
    detail = {"type": type_, "approver_agency": approver.code if approver else None}
    transparency.log_event(transparency.event("approval_required", type_, agency.code, actor, detail=detail))
    record(actor, "approval.require", "agency", agency.code, ip=ip, **detail)
    db.session.commit()
    return requirement, created


def _approver_agency(code: str | None) -> Agency | None:
    if not code:
        return None
    try:
        return get_agency(code)
    except NotFound as missing:
        raise Invalid(missing.message, errors={"approver_agency": [f"no agency with code {code!r}"]}) from None


def lift(user: AdminUser, code: str, type_: str, *, ip: str | None = None) -> None:
    """Lift a requirement: later pushes go public at once (submissions already held stay in the queue)."""
    agency = _supervised(user, code)
    requirement = db.session.scalar(
        select(ApprovalRequirement).where(ApprovalRequirement.agency_id == agency.id, ApprovalRequirement.type == type_)
    )
    if requirement is None:
        raise NotFound("该机关此类信息无需审核", errors={"type": [f"no requirement for {type_!r}"]})
    db.session.delete(requirement)
    actor = f"admin:{user.username}"
    transparency.log_event(transparency.event("approval_lifted", type_, agency.code, actor, detail={"type": type_}))
    record(actor, "approval.lift", "agency", agency.code, ip=ip, type=type_)
    db.session.commit()


# -- the queue ------------------------------------------------------------------------------------
def approvable(user: AdminUser) -> ColumnElement[bool]:
    """A condition on ApprovalRequest: the requests ``user`` may decide."""
    if user.role in SUPERVISING:
        return ApprovalRequest.agency_id.in_(select(Agency.id).where(visible_agencies(user)))
    if user.role == AdminRole.handler and user.agency_id is not None:
        return and_(
            ApprovalRequest.type.in_(APPROVER_AGENCY_TYPES),
            exists().where(
                ApprovalRequirement.agency_id == ApprovalRequest.agency_id,
                ApprovalRequirement.type == ApprovalRequest.type,
                ApprovalRequirement.approver_agency_id == user.agency_id,
            ),
        )
    return false()


def queue(user: AdminUser, *, page: int = 1, page_size: int = 20) -> Page:
    """Submissions waiting for the user's decision, the oldest first."""
    waiting = (
        select(ApprovalRequest)
        .where(ApprovalRequest.state == ApprovalState.pending, approvable(user))
        .order_by(ApprovalRequest.submitted_at, ApprovalRequest.id)
    )
    return paginate(waiting, page=page, page_size=page_size)


def for_approver(user: AdminUser, request_id: int) -> ApprovalRequest:
    found = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == request_id, approvable(user)))
    if found is None:
        raise NotFound("未找到该待审核信息", errors={"id": [f"no request {request_id} for you to decide"]})
    return found


def _pending(user: AdminUser, request_id: int) -> ApprovalRequest:
    """The request, locked, if still waiting: a second decision is a conflict, not an overwrite."""
    found = db.session.scalar(
        select(ApprovalRequest)
        .where(ApprovalRequest.id == request_id, approvable(user))
        .with_for_update(of=ApprovalRequest)
    )
    if found is None:
        raise NotFound("未找到该待审核信息", errors={"id": [f"no request {request_id} for you to decide"]})
    if found.state != ApprovalState.pending:
        raise Conflict("该信息已处理", errors={"state": [f"request is {found.state}"]})
    return found


# -- decisions ------------------------------------------------------------------------------------
def approve(user: AdminUser, request_id: int, *, ip: str | None = None) -> ApprovalRequest:
    """Release the held submission: the item is published (or its public content corrected) as pushed."""
    request = _pending(user, request_id)
    item = request.disclosure
    try:
        data = DisclosurePutSchema().load(request.submitted)
    except ma.ValidationError as error:  # the rules changed since it was pushed: the agency must push again
        errors = {"submitted": error.normalized_messages()}
        raise Conflict("提交的内容已不符合现行规则，请退回", errors=errors) from None
    publishing.release(item, data, request.submitted_by)
    actor = _decide(user, request, ApprovalState.approved, None)
    record(actor, "disclosure.approve", "disclosure", item.id, ip=ip, request=request.id, type=item.type)
    db.session.commit()
    return request


def return_(user: AdminUser, request_id: int, reasons: str, *, ip: str | None = None) -> ApprovalRequest:
    """Send the held submission back with reasons; a public (or withdrawn) item stays as it was, one that
    was waiting is ``returned``."""
    request = _pending(user, request_id)
    item = request.disclosure
    if item.status == Status.pending_approval:
        item.status = Status.returned
    actor = _decide(user, request, ApprovalState.returned, reasons)
    record(actor, "disclosure.return", "disclosure", item.id, ip=ip, request=request.id, reasons=reasons)
    db.session.commit()
    return request


def _decide(user: AdminUser, request: ApprovalRequest, state: ApprovalState, reasons: str | None) -> str:
    """Mark the decision and log who made it (the reasons stay in the audit trail and the agency's view)."""
    actor = f"admin:{user.username}"
    request.state, request.decided_by, request.decided_at, request.reasons = state, actor, clock.now(), reasons
    item = request.disclosure
    kind = "approve" if state == ApprovalState.approved else "return"
    detail: dict[str, Any] = {"request": request.id, "type": item.type}
    made = transparency.event(kind, item.id, item.agency.code, actor, detail=detail)
    request.log_index, _ = transparency.log_event(made)
    return actor

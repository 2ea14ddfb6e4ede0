"""Filing, following and working complaints.

Citizens hold a tracking number and a secret query code (only its hash is stored). Handlers act
through the admin page; each action is one function here, audited, timed on the working-day
calendar, and told to the citizen through the notification port.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from backend import workdays
from backend.accounts.models import AdminRole, AdminUser
from backend.accounts.scope import visible_agencies
from backend.agencies.models import Agency
from backend.audit.services import record
from backend.calendars import services as calendars
from backend.canonical import content_digest
from backend.disclosures.models import Disclosure
from backend.divisions import region_ancestors
from backend.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from backend.extensions import cache, clock, db
from backend.extensions.smorest import Page, paginate
from backend.officers import services as officer_services
from backend.officers.models import Officer
from backend.timezone import china_date, chinese_date, today

from . import evidence as evidence_files
from . import listeners, notify
from .models import (
    CATEGORY_LABELS,
    EVENT_LABELS,
    GOVERNMENT_HOTLINE,
    STATUS_LABELS,
    Complaint,
    ComplaintEvent,
    Notification,
    Status,
)
from .schemas import QUERY_CODE_HEADER

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed on phones
REOPEN_DAYS = 15
RECEIPT_MAX_AGE = 7 * 24 * 3600
DEDUPE_SECONDS = 600


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _due(start: dt.date, days: int) -> dt.date:
    calendars.sync()
    return workdays.add_working_days(start, days).due


def _earlier(statutory: dt.date, requested: dt.date | None) -> dt.date:
    """The deadline that runs: the statutory one, or the sender's (a 12345 要求办结时限) when that is earlier."""
    return min(statutory, requested) if requested else statutory


# -- citizens -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filed:
    complaint: Complaint
    query_code: str
    created: bool


def limit_submissions(address: str | None) -> None:
    cache.enforce("complaint", address or "-", current_app.config["COMPLAINT_RATE_LIMIT_PER_HOUR"], 3600)


def filed_view(filed: Filed) -> dict:
    complaint = filed.complaint
    return {
        "tracking_no": complaint.tracking_no,
        "query_code": filed.query_code,
        "status": complaint.status,
        "agency": {"code": complaint.agency.code, "name": complaint.agency.name},
        "accept_due": complaint.accept_due,
    }


def submit(
    data: dict[str, Any],
    *,
    channel: str,
    openid: str | None = None,
    needs_review: bool = False,
    reference: str | None = None,
    evidence: Sequence[evidence_files.Cleaned] = (),
) -> Filed:
    """File a complaint, routed to the agency it is about; an identical resubmission within ten
    minutes returns the first complaint instead of a second one.

    ``reference``: the sender's own number for it (a 12345 work order's): two complaints with different
    numbers are never twins, one sent again with its number is.

    ``evidence``: files already checked and cleaned (``evidence.prepare``), stored in the same transaction.

    The database decides what is identical: a twin filed earlier is looked up by content, and two filed
    at once (by different workers) carry the same ``dedupe_key``, which a unique index lets only one
    of them store. The query code is derived from that key, so whoever finds the twin can hand back its
    code, whichever worker filed it.

    Long because: each retry builds the complaint with every column listed once and commits it.
    """
    digest = content_digest(
        {
            k: data.get(k)
            for k in ("category", "content", "badge_no", "agency", "disclosure_id", "place", "contact_phone")
        }
        | {"who": openid or ""}
        | ({"reference": reference} if reference else {})
        | ({"evidence": [item.sha256 for item in evidence]} if evidence else {})
    )
    now = clock.now()
    twin = _twin(digest, now)
    if twin is not None:
        return Filed(twin, _query_code(twin.dedupe_key), created=False)
    scan = _read_receipt(data.get("receipt"))
    badge_no = scan["b"] if scan else data.get("badge_no")
    officer_agency = scan["a"] if scan else data.get("agency")
    agency, routed_by = _route(badge_no, officer_agency, data.get("disclosure_id"), data.get("region"))
    dedupe_key = hashlib.sha256(f"{digest}:{int(now.timestamp() // DEDUPE_SECONDS)}".encode()).hexdigest()
    code = _query_code(dedupe_key)
    for _attempt in range(5):
        complaint = Complaint(
            tracking_no=f"TS{china_date(now):%Y%m%d}{secrets.randbelow(10**6):06d}",
            query_code_hash=_hash_code(code),
            category=data["category"],
            content=data["content"],
            badge_no=badge_no,
            officer_agency_code=officer_agency if badge_no else None,
            disclosure_id=data.get("disclosure_id"),
            place=data.get("place"),
            occurred_at=data.get("occurred_at"),
            contact_phone=data.get("contact_phone"),
            contact_name=data.get("contact_name"),
            scan_verified=scan is not None,
            scanned_at=dt.datetime.fromtimestamp(scan["t"], dt.UTC) if scan else None,
            channel=channel,
            openid=openid,
            notify_consent=bool(data.get("notify_consent")),
            content_hash=digest,
            dedupe_key=dedupe_key,
            agency=agency,
            routed_by=routed_by,
            status=Status.submitted,
            needs_review=needs_review,
            created_at=now,
            accept_due=_earlier(
                _due(china_date(now), current_app.config["COMPLAINT_ACCEPT_DAYS"]), data.get("requested_due")
            ),
            requested_due=data.get("requested_due"),
        )
        complaint.evidence = evidence_files.rows(evidence, actor=f"citizen:{channel}")
        complaint.events.append(
            ComplaintEvent(
                at=now, kind="submitted", actor=f"citizen:{channel}", public=True, text=f"已转交{agency.name}办理"
            )
        )
        db.session.add(complaint)
        try:
            db.session.commit()
            return Filed(complaint, code, created=True)
        except IntegrityError:  # the twin filed at the same moment, or a random tracking number already taken
            db.session.rollback()
            twin = db.session.scalar(select(Complaint).where(Complaint.dedupe_key == dedupe_key))
            if twin is not None:
                return Filed(twin, code, created=False)
    raise Conflict("暂时无法生成受理编号，请重试")


def _twin(digest: str, now: dt.datetime) -> Complaint | None:
    """The complaint with this content filed within the dedupe window before ``now``, if any."""
    return db.session.scalar(
        select(Complaint)
        .where(
            Complaint.content_hash == digest,
            Complaint.created_at > now - dt.timedelta(seconds=DEDUPE_SECONDS),
            Complaint.dedupe_key.is_not(None),
        )
        .order_by(Complaint.created_at)
        .limit(1)
    )


def _query_code(dedupe_key: str) -> str:
    """The complaint's secret query code: keyed by SECRET_KEY, so only the server can derive it."""
    secret = current_app.config["SECRET_KEY"].encode()
    number = int.from_bytes(hmac.new(secret, f"complaint-query-code:{dedupe_key}".encode(), hashlib.sha256).digest())
    letters = []
    for _ in range(8):
        number, index = divmod(number, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[index])
    return "".join(letters)


def _read_receipt(receipt: str | None) -> dict[str, Any] | None:
    """A receipt signed by the badge page proves which badge was scanned, and when."""
    if not receipt:
        return None
    try:
        return officer_services.receipt_serializer().loads(receipt, max_age=RECEIPT_MAX_AGE)
    except BadSignature:
        raise Invalid("扫码凭证无效或已过期", errors={"receipt": ["invalid or older than 7 days"]}) from None


def _route(
    badge_no: str | None, agency_code: str | None, disclosure_id: str | None, region: str | None
) -> tuple[Agency, str]:
    """To the officer's agency, else the decision's, else the named agency, else the region's 司法局."""
    if badge_no:
        query = select(Officer).where(Officer.badge_no == badge_no)
        if agency_code:
            query = query.join(Officer.agency).where(Agency.code == agency_code)
        officers = db.session.scalars(query).all()
        if len(officers) == 1:
            return officers[0].agency, "officer"
    if disclosure_id:
        disclosure = db.session.get(Disclosure, disclosure_id)
        if disclosure is not None:
            return disclosure.agency, "disclosure"
    if agency_code:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is not None:
            return agency, "agency"
    return supervisor_for(region or current_app.config["DEFAULT_REGION"]), "region"


def supervisor_for(region: str) -> Agency:
    """The 司法局 nearest above a region: its own, else the city's, else the province's."""
    for code in reversed(region_ancestors(region)):
        agency = db.session.scalar(
            select(Agency).where(Agency.supervises.is_(True), Agency.region_code == code).order_by(Agency.id)
        )
        if agency is not None:
            return agency
    raise Invalid("该地区没有受理投诉的司法行政部门", errors={"region": [f"no supervising agency for {region}"]})


def supervising_agency(agency: Agency) -> Agency:
    """The 司法局 that supervises ``agency``: its region's, or for a 司法局 itself the one a level up."""
    supervisor = supervisor_for(agency.region_code)
    if supervisor.id == agency.id:
        parent_region = region_ancestors(agency.region_code)[:-1]
        supervisor = supervisor_for(parent_region[-1]) if parent_region else supervisor
    return supervisor


def refuse_code_in_url(query: Mapping[str, str]) -> None:
    """A query code sent in the query string is refused rather than used: the URL lands in access logs and
    Referer headers, and a client that works today would keep leaking it."""
    if "code" in query:
        raise BadRequest(
            "查询码不能放在网址中，请放在请求头 X-Query-Code（评价、重新办理时放在请求正文）中",
            errors={
                "query": {"code": [f"send the query code in the {QUERY_CODE_HEADER} header or the body, not the URL"]}
            },
        )


def for_citizen(tracking_no: str, code: str) -> Complaint:
    """A complaint for whoever holds its query code; a wrong code looks exactly like no complaint."""
    complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_no == tracking_no))
    if complaint is None or not hmac.compare_digest(complaint.query_code_hash, _hash_code(code)):
        raise NotFound("未找到该投诉，请核对受理编号和查询码", errors={"tracking_no": ["no complaint with this code"]})
    return complaint


def deadlines(complaint: Complaint, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Each deadline that applies, in the agency's undertaking to the citizen (将于…前受理 / 答复), with whether it
    passed unmet. The handler's instruction (请于…前答复) is the admin page's wording, never the citizen's."""
    on = on or today()
    rows = [("accept", complaint.accept_due, "受理", complaint.status != Status.submitted)]
    if complaint.reply_due is not None:
        rows.append(("reply", complaint.reply_due, "答复", complaint.status not in (Status.submitted, Status.accepted)))
    return [
        {
            "kind": kind,
            "due": due,
            "text": f"将于 {chinese_date(due)} 前{verb}",
            "met": met,
            "passed": not met and due < on,
        }
        for kind, due, verb, met in rows
    ]


def escalation_for(complaint: Complaint) -> dict[str, Any]:
    """Whom a citizen turns to when a deadline passed: the supervising 司法局 (the one already asked, if escalated)
    with the phone it publishes, and the 12345 hotline (alone where the platform knows no 司法局 above the agency)."""
    try:
        supervisor = complaint.escalated_to or supervising_agency(complaint.agency)
    except Invalid:
        supervisor = None
    hotline = f"拨打 {GOVERNMENT_HOTLINE} 政务服务便民热线"
    if supervisor is None:
        return {"agency": None, "hotline": GOVERNMENT_HOTLINE, "text": f"办理已超过期限，可{hotline}反映"}
    phone = supervisor.complaint_phone or supervisor.phone
    return {
        "agency": {"code": supervisor.code, "name": supervisor.name, "phone": phone},
        "hotline": GOVERNMENT_HOTLINE,
        "text": f"办理已超过期限，可向{supervisor.name}反映"
        + (f"（电话 {phone}）" if phone else "")
        + f"，或{hotline}",
    }


def citizen_view(complaint: Complaint) -> dict[str, Any]:
    reopen_until = _reopen_until(complaint)
    due = deadlines(complaint)
    return {
        "tracking_no": complaint.tracking_no,
        "status": complaint.status,
        "status_label": STATUS_LABELS[complaint.status],
        "category": complaint.category,
        "category_label": CATEGORY_LABELS[complaint.category],
        "created_at": complaint.created_at,
        "agency": {"code": complaint.agency.code, "name": complaint.agency.name},
        "accept_due": complaint.accept_due,
        "reply_due": complaint.reply_due,
        "deadlines": due,
        "escalation": escalation_for(complaint) if any(item["passed"] for item in due) else None,
        "timeline": [
            {"at": e.at, "kind": e.kind, "label": EVENT_LABELS[e.kind], "text": e.text}
            for e in complaint.events
            if e.public
        ],
        "rating": complaint.rating,
        "can_rate": complaint.status == Status.closed and complaint.rating is None,
        "can_reopen": reopen_until is not None and clock.now() <= reopen_until,
        "reopen_until": reopen_until,
    }


def _reopen_until(complaint: Complaint) -> dt.datetime | None:
    if complaint.status != Status.closed or complaint.reopened_at is not None or complaint.closed_at is None:
        return None
    return complaint.closed_at + dt.timedelta(days=REOPEN_DAYS)


def rate(complaint: Complaint, score: int, comment: str | None) -> Complaint:
    if complaint.status != Status.closed:
        raise Conflict("办结后才能评价", errors={"status": [f"complaint is {complaint.status}"]})
    if complaint.rating is not None:
        raise Conflict("已经评价过了", errors={"rating": ["already rated"]})
    complaint.rating, complaint.rating_comment = score, comment
    _event(complaint, "rated", "citizen", public=True, text=f"评分 {score}")
    db.session.commit()
    return complaint


def reopen(complaint: Complaint, reason: str) -> Complaint:
    """Once, within 15 days of closure: back to the handler, with a new reply deadline."""
    until = _reopen_until(complaint)
    if until is None or clock.now() > until:
        raise Conflict("该投诉不能再重新办理", errors={"status": ["reopen only once, within 15 days of closure"]})
    now = clock.now()
    complaint.status, complaint.reopened_at, complaint.closed_at = Status.accepted, now, None
    complaint.reply_due = _due(china_date(now), current_app.config["COMPLAINT_REPLY_DAYS"])
    _event(complaint, "reopened", "citizen", public=True, text=reason)
    notify.enqueue(complaint, "reopened")
    db.session.commit()
    return complaint


def _event(complaint: Complaint, kind: str, actor: str, *, public: bool, text: str | None = None) -> None:
    event = ComplaintEvent(at=clock.now(), kind=kind, actor=actor, public=public, text=text)
    complaint.events.append(event)
    if public:
        listeners.emit(complaint, event)


# -- handlers and supervisors -------------------------------------------------------------------
def visible_complaints(user: AdminUser) -> Any:
    """Handlers see their agency's complaints and those escalated to it; supervisors their region."""
    if user.role == AdminRole.handler:
        return or_(Complaint.agency_id == user.agency_id, Complaint.escalated_to_id == user.agency_id)
    return visible_agencies(user)


def queue(
    user: AdminUser,
    *,
    status: str | None = None,
    agency: str | None = None,
    category: str | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Page[Complaint]:
    conditions = [visible_complaints(user)]
    if status:
        conditions.append(Complaint.status == status)
    if agency:
        conditions.append(Agency.code == agency)
    if category:
        conditions.append(Complaint.category == category)
    if overdue is not None:
        conditions.append(_overdue() if overdue else ~_overdue())
    if escalated is not None:
        conditions.append(Complaint.escalated_at.is_not(None) if escalated else Complaint.escalated_at.is_(None))
    due = func.coalesce(Complaint.reply_due, Complaint.accept_due)
    ordered = select(Complaint).join(Complaint.agency).where(*conditions).order_by(_open().desc(), due, Complaint.id)
    return paginate(ordered, page=page, page_size=page_size)


def _open() -> Any:
    return Complaint.status.in_([Status.submitted, Status.accepted])


def _overdue() -> Any:
    on = today()
    return or_(
        and_(Complaint.status == Status.submitted, Complaint.accept_due < on),
        and_(Complaint.status == Status.accepted, Complaint.reply_due < on),
    )


def deadlines_at_risk() -> dict[str, int]:
    """Open complaints whose running deadline (acceptance, then reply) is today or tomorrow (``due_soon``) or
    has passed (``overdue``): two indexed counts, for the metrics scrape."""
    on = today()
    due = case((Complaint.status == Status.submitted, Complaint.accept_due), else_=Complaint.reply_due)
    soon, overdue = db.session.execute(
        select(
            func.count().filter(due.between(on, on + dt.timedelta(days=1))),
            func.count().filter(due < on),
        ).where(_open())
    ).one()
    return {"due_soon": soon, "overdue": overdue}


def is_overdue(complaint: Complaint, on: dt.date | None = None) -> bool:
    on = on or today()
    if complaint.status == Status.submitted:
        return complaint.accept_due < on
    return complaint.status == Status.accepted and complaint.reply_due is not None and complaint.reply_due < on


def for_admin(user: AdminUser, tracking_no: str) -> Complaint:
    complaint = db.session.scalar(
        select(Complaint).join(Complaint.agency).where(Complaint.tracking_no == tracking_no, visible_complaints(user))
    )
    if complaint is None:
        raise NotFound("未找到该投诉", errors={"tracking_no": [f"no complaint {tracking_no!r} in your scope"]})
    return complaint


def _require(complaint: Complaint, *statuses: Status) -> None:
    if complaint.status not in statuses:
        raise Conflict("当前状态不能执行该操作", errors={"status": [f"complaint is {complaint.status}"]})


def _act(
    user: AdminUser, complaint: Complaint, kind: str, *, public: bool, text: str | None = None, ip: str | None
) -> None:
    _event(complaint, kind, f"admin:{user.username}", public=public, text=text)
    record(
        f"admin:{user.username}",
        f"complaint.{kind}",
        "complaint",
        complaint.tracking_no,
        ip=ip,
        **({"text": text} if text and not public else {}),
    )
    if public:
        notify.enqueue(complaint, kind)
    db.session.commit()


def accept(user: AdminUser, complaint: Complaint, *, ip: str | None = None) -> None:
    _require(complaint, Status.submitted)
    now = clock.now()
    complaint.status, complaint.accepted_at, complaint.needs_review = Status.accepted, now, False
    statutory = _due(china_date(now), current_app.config["COMPLAINT_REPLY_DAYS"])
    complaint.reply_due = _earlier(statutory, complaint.requested_due)
    _act(user, complaint, "accepted", public=True, text=f"将于 {chinese_date(complaint.reply_due)} 前答复", ip=ip)


def reject(user: AdminUser, complaint: Complaint, reason: str, *, ip: str | None = None) -> None:
    _require(complaint, Status.submitted)
    complaint.status, complaint.closed_at = Status.rejected, clock.now()
    _act(user, complaint, "rejected", public=True, text=reason, ip=ip)


def assign(user: AdminUser, complaint: Complaint, username: str, *, ip: str | None = None) -> None:
    _require(complaint, Status.submitted, Status.accepted)
    assignee = db.session.scalar(select(AdminUser).where(AdminUser.username == username))
    if (
        assignee is None
        or assignee.role != AdminRole.handler
        or assignee.agency_id not in (complaint.agency_id, complaint.escalated_to_id)
    ):
        raise Invalid("只能分派给本单位的办理人员", errors={"username": ["not a handler of this complaint's agency"]})
    complaint.assigned_to = assignee
    _act(user, complaint, "assigned", public=False, text=username, ip=ip)


def reply(user: AdminUser, complaint: Complaint, text: str, *, ip: str | None = None) -> None:
    _require(complaint, Status.accepted)
    complaint.status, complaint.replied_at = Status.replied, clock.now()
    _act(user, complaint, "replied", public=True, text=text, ip=ip)


def close(user: AdminUser, complaint: Complaint, summary: str | None = None, *, ip: str | None = None) -> None:
    _require(complaint, Status.replied)
    complaint.status, complaint.closed_at = Status.closed, clock.now()
    _act(user, complaint, "closed", public=True, text=summary, ip=ip)


def add_note(user: AdminUser, complaint: Complaint, text: str, *, ip: str | None = None) -> None:
    _act(user, complaint, "note", public=False, text=text, ip=ip)


def escalate(user: AdminUser | None, complaint: Complaint, reason: str, *, ip: str | None = None) -> None:
    """Hand the complaint up to the supervising 司法局 of its agency's region (督办); no ``user``: the deadline job."""
    _require(complaint, Status.submitted, Status.accepted)
    if user is not None and user.role == AdminRole.handler and user.agency_id != complaint.agency_id:
        raise Forbidden("只有承办单位可以提请升级", errors={"agency": ["not your agency's complaint"]})
    supervisor = supervising_agency(complaint.agency)
    complaint.escalated_to, complaint.escalated_at = supervisor, clock.now()
    text = f"已提请{supervisor.name}督办：{reason}"
    if user is None:
        _event(complaint, "escalated", "system:deadline", public=True, text=text)
        record("system:deadline", "complaint.escalated", "complaint", complaint.tracking_no, reason=reason)
        notify.enqueue(complaint, "escalated")
    else:
        _act(user, complaint, "escalated", public=True, text=text, ip=ip)


def escalate_overdue() -> int:
    """The clock's job: every complaint past its deadline and not yet escalated goes up."""
    rows = (
        db.session.scalars(
            select(Complaint).where(_overdue(), Complaint.escalated_at.is_(None)).order_by(Complaint.id).limit(500)
        )
        .unique()
        .all()
    )
    for complaint in rows:
        stage = "受理" if complaint.status == Status.submitted else "答复"
        escalate(None, complaint, f"超过{stage}期限")
    db.session.commit()
    return len(rows)


# -- retention ----------------------------------------------------------------------------------
CONTACT_FIELDS = ("contact_phone", "contact_name", "openid")


def erase_expired_contacts(limit: int = 500) -> int:
    """The clock's job: erase the contact details of complaints closed more than COMPLAINT_CONTACT_RETENTION_DAYS
    ago, keeping the complaint, its content and its timeline; each erasure audited. Idempotent: an erased
    complaint has no contact left to find (a reopened one has no ``closed_at`` until it closes again)."""
    now = clock.now()
    cutoff = now - dt.timedelta(days=current_app.config["COMPLAINT_CONTACT_RETENTION_DAYS"])
    rows = (
        db.session.scalars(
            select(Complaint)
            .where(
                Complaint.closed_at < cutoff,
                or_(*(getattr(Complaint, field).is_not(None) for field in CONTACT_FIELDS)),
            )
            .order_by(Complaint.id)
            .limit(limit)
        )
        .unique()
        .all()
    )
    for complaint in rows:
        erased = [field for field in CONTACT_FIELDS if getattr(complaint, field) is not None]
        for field in CONTACT_FIELDS:
            setattr(complaint, field, None)
        complaint.contact_erased_at = now
        # Both were digests over the phone and openid, and a phone number is found from its hash by trying
        # them all: they only ever served to spot a twin within minutes of filing, so they go too.
        complaint.content_hash = content_digest({"erased": complaint.tracking_no})
        complaint.dedupe_key = None
        # The WeChat openid is also the address of the messages about it; one still unsent is given up.
        for message in db.session.scalars(select(Notification).where(Notification.complaint_id == complaint.id)):
            message.recipient = ""
            if message.sent_at is None:
                message.attempts, message.last_error = notify.MAX_ATTEMPTS, "contact erased after retention"
        record(
            "system:retention",
            "complaint.contact_erased",
            "complaint",
            complaint.tracking_no,
            fields=erased,
            closed_at=complaint.closed_at.isoformat(),
        )
    db.session.commit()
    return len(rows)


# -- admin page helpers (read-only) -------------------------------------------------------------
def linked_officer(complaint: Complaint) -> Officer | None:
    """The officer a complaint names, by badge number within the officer's agency; None if not one match."""
    if not complaint.badge_no:
        return None
    query = select(Officer).where(Officer.badge_no == complaint.badge_no)
    if complaint.officer_agency_code:
        query = query.join(Officer.agency).where(Agency.code == complaint.officer_agency_code)
    officers = db.session.scalars(query).all()
    return officers[0] if len(officers) == 1 else None


def assignable_handlers(complaint: Complaint) -> list[AdminUser]:
    """The enabled handlers ``assign`` accepts: of the complaint's agency and of the one it was escalated to."""
    agencies = [complaint.agency_id] + ([complaint.escalated_to_id] if complaint.escalated_to_id else [])
    return list(
        db.session.scalars(
            select(AdminUser)
            .where(
                AdminUser.role == AdminRole.handler,
                AdminUser.agency_id.in_(agencies),
                AdminUser.disabled_at.is_(None),
            )
            .order_by(AdminUser.username)
        )
    )

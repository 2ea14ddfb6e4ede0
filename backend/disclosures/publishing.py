"""Publishing: an agency's items created or updated one by one or in bulk, through the privacy gate, the
statutory clock and the transparency log.

An agency touches only its own items: every lookup is by (agency, external_id), so another
agency's item is simply not found (404, which does not reveal that it exists).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.agencies.models import Agency
from backend.calendars import services as calendars
from backend.canonical import canonical_json, digest_of
from backend.cases.policy import check_disclosure, note_catalogue
from backend.cases.recording import check_one_list
from backend.errors import Conflict, Invalid
from backend.extensions import clock, db
from backend.extensions.database import insert_rows
from backend.search.indexing import enqueue
from backend.timezone import china_date
from backend.transparency import services as transparency
from search_index.mappings import DISCLOSURES

from .deadlines import statutory_clock
from .models import (
    APPROVABLE_TYPES,
    SUPERVISOR_TYPES,
    ApprovalRequest,
    ApprovalRequirement,
    ApprovalState,
    Disclosure,
    DisclosureVersion,
    Status,
    flatten_text,
)
from .privacy import apply_privacy
from .schemas import BulkItemSchema

PUBLIC_TEXT_FIELDS = ("title", "content", "legal_basis")
# What a Draft holds: every column but the version (1 for a new item).
DISCLOSURE_COLUMNS = tuple(column.key for column in Disclosure.__table__.columns if column.key != "version")
# Fields a submission may leave out: a resubmission without one clears it.
OPTIONAL_FIELDS = (
    "content",
    "legal_basis",
    "effective_from",
    "effective_until",
    "category",
    "document_no",
    "decision_date",
    "case_no",
    "outcome",
    "subject_type",
    "subject_name",
    "subject_id",
)


class Draft:
    """A new item of a bulk call, before it is inserted: plain attributes, none of the ORM's
    per-attribute bookkeeping. It goes through the same gate, clock and log as a Disclosure; then all
    of a call's new items, their versions and their outbox rows are inserted in one COPY each on
    PostgreSQL, one executemany each elsewhere (see _insert_drafts)."""

    is_public = Disclosure.is_public
    version = None

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(dict.fromkeys(DISCLOSURE_COLUMNS), **values)

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DISCLOSURE_COLUMNS} | {"version": 1}


@dataclass
class Upserted:
    item: Disclosure | Draft
    outcome: str  # created, updated or unchanged
    # What the transparency log must record about this change, if anything.
    event: transparency.Event | None = None
    # The DisclosureVersion this change adds (a Draft's is inserted with it).
    version: dict[str, Any] | None = None
    # A Draft's ApprovalRequest, inserted with it.
    approval: dict[str, Any] | None = None

    @property
    def status_code(self) -> int:
        return 201 if self.outcome == "created" else 200


def _check_external_id(external_id: str) -> None:
    if not 1 <= len(external_id) <= 128:
        raise Invalid("外部编号长度须为 1-128", errors={"external_id": ["1-128 characters"]})


def upsert(agency: Agency, external_id: str, data: dict[str, Any], actor: str) -> Upserted:
    """Create or update the agency's item ``external_id``; a repeat of the same content changes nothing.

    Two identical requests racing to create the same item meet at the unique constraint: the
    loser retries and finds the winner's item unchanged.
    """
    _check_external_id(external_id)
    calendars.sync()
    for attempt in (1, 2):
        existing = db.session.scalar(
            select(Disclosure).where(Disclosure.agency_id == agency.id, Disclosure.external_id == external_id)
        )
        result = _apply(agency, external_id, data, existing, actor)
        if result.outcome == "unchanged":
            return result
        _log([result])
        try:
            db.session.commit()
            return result
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def preview(agency: Agency, external_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """What citizens would see of ``data`` (validated by DisclosurePutSchema), through the same rules and
    privacy gate as ``upsert``, without saving anything: the web form's step before it publishes."""
    _check_external_id(external_id)
    existing = db.session.scalar(
        select(Disclosure).where(Disclosure.agency_id == agency.id, Disclosure.external_id == external_id)
    )
    if existing is not None and existing.status in (Status.withdrawn, Status.expired):
        raise Conflict("已撤下或已到期的公示信息不能再修改", errors={"external_id": [f"item is {existing.status}"]})
    _check_rules(agency, external_id, data)
    draft = Draft(id=None, agency=agency, agency_id=agency.id, external_id=external_id)
    _fill(draft, agency, data, digest_of(data)[1], clock.now())
    return draft.public


def release(item: Disclosure, data: dict[str, Any], actor: str) -> Upserted:
    """Apply a held submission an approver released (approval.approve) in the current transaction: the item
    is published, or its public content corrected, and logged as any push would be."""
    result = _apply(item.agency, item.external_id, data, item, actor, approved=True)
    _log([result])
    return result


def bulk_upsert(agency: Agency, raw_items: list[Any], actor: str) -> list[dict[str, Any]]:
    """Upsert up to MAX_BULK_ITEMS items in one transaction; each item gets its own result."""
    results: list[dict[str, Any]] = [{} for _ in raw_items]
    calendars.sync()
    valid = _validate(raw_items, results)
    existing = (
        {
            d.external_id: d
            for d in db.session.scalars(
                select(Disclosure).where(Disclosure.agency_id == agency.id, Disclosure.external_id.in_(list(valid)))
            )
        }
        if valid
        else {}
    )
    done, refused = [], {}
    for ext, (index, data) in valid.items():
        try:
            done.append((index, _apply(agency, ext, data, existing.get(ext), actor, draft=True)))
        except Conflict as conflict:
            refused[index] = {
                "index": index,
                "external_id": ext,
                "status": 409,
                "result": "conflict",
                "errors": conflict.errors,
            }
        except Invalid as invalid:  # e.g. a decision without its case_no: refused alone, like a schema error
            refused[index] = _invalid(index, ext, invalid.errors or {})
    _log([result for _, result in done])
    try:
        _insert_drafts([result for _, result in done if isinstance(result.item, Draft)])
        db.session.commit()
    except IntegrityError:
        # Another request created some of these items meanwhile: redo one by one.
        db.session.rollback()
        done = [
            (index, upsert(agency, ext, data, actor)) for ext, (index, data) in valid.items() if index not in refused
        ]
    results_by_index = dict(refused)
    for index, result in done:
        results_by_index[index] = {
            "index": index,
            "external_id": result.item.external_id,
            "status": result.status_code,
            "id": result.item.id,
            "result": result.outcome,
        }
    for index, result in results_by_index.items():
        results[index] = result
    return results


def _validate(raw_items: list[Any], results: list[dict[str, Any]]) -> dict[str, tuple[int, dict[str, Any]]]:
    """The valid items of a bulk call by external id, with their index; an invalid or repeated one gets
    its result in ``results`` instead."""
    valid: dict[str, tuple[int, dict[str, Any]]] = {}
    schema = BulkItemSchema()
    for index, raw in enumerate(raw_items):
        external_id = raw.get("external_id") if isinstance(raw, dict) else None
        try:
            data = schema.load(raw)
        except ma.ValidationError as error:
            results[index] = _invalid(index, external_id, error.normalized_messages())
            continue
        if data["external_id"] in valid:
            results[index] = _invalid(index, external_id, {"external_id": ["repeated in this request"]})
            continue
        valid[data.pop("external_id")] = (index, data)
    return valid


def _invalid(index: int, external_id: Any, errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": index,
        "external_id": external_id if isinstance(external_id, str) else None,
        "status": 422,
        "result": "invalid",
        "errors": errors,
    }


def _apply(
    agency: Agency,
    external_id: str,
    data: dict[str, Any],
    item: Disclosure | None,
    actor: str,
    *,
    draft: bool = False,
    approved: bool = False,
) -> Upserted:
    """Apply one validated submission to a new or existing item, in the session, without committing.

    With ``draft`` a new item is a Draft, left for the caller to insert with _insert_drafts. A submission
    that needs approval (ApprovalRequirement) is held: a public item keeps what citizens see and the
    submission waits in an ApprovalRequest; any other item waits as pending_approval. ``approved``: an
    approver releases a held submission (approval.approve)."""
    submitted, digest = digest_of(data)
    same = item is not None and item.content_hash == digest
    if same and not approved and item.status != Status.returned:
        return Upserted(item, "unchanged")
    if item is not None and item.status in (Status.withdrawn, Status.expired):
        raise Conflict(
            "已撤下或已到期的公示信息不能再修改；重新作出的决定请以新的编号发布",
            errors={"external_id": [f"item is {item.status}; publish a re-made decision under a new external_id"]},
        )
    _check_rules(agency, external_id, data)
    # The version this submission makes, from the version it changes, read before anything below can flush the
    # item (its counter would then be ahead, and this number taken by the next change: a unique violation).
    number = (item.version or 0) + 1 if item is not None else 1
    now = clock.now()
    held = not approved and needs_approval(agency, data, item)
    if held and item is not None and item.is_public:
        return _hold_change(item, submitted, digest, actor, now)
    created = item is None
    was_public = item is not None and item.is_public
    before = committed_content(item) if was_public else None
    if created:
        new = Draft if draft else Disclosure
        item = new(id=uuid.uuid4().hex, agency=agency, agency_id=agency.id, external_id=external_id, created_at=now)
        if not draft:
            db.session.add(item)
    _fill(item, agency, data, digest, now)
    _schedule(item, publish=data["publish"], now=now, held=held)
    if item.type == "review_catalogue" and item.is_public:
        # Cases it covers are major from now. Not flushed first: the item is written once, with its log index.
        with db.session.no_autoflush:
            note_catalogue(agency, item.details.get("matters", []), now)
    event = _transition(item, was_public, before, actor, now)
    approval = _hold(item, submitted, digest, actor, now) if held else None
    if not held and not approved:
        _settle_held(item, created)
    version = {"number": number, "submitted": json.loads(submitted), "public": item.public}
    version |= {"content_hash": digest, "actor": actor, "created_at": now}
    if not isinstance(item, Draft) and not same:
        db.session.add(DisclosureVersion(disclosure=item, **version))
    return Upserted(item, "created" if created else "updated", event, version, approval)


def _check_rules(agency: Agency, external_id: str, data: dict[str, Any]) -> None:
    """The rules a submission meets beyond its schema: cases and review, one 音像记录事项清单, who publishes what."""
    check_disclosure(agency, data)
    check_one_list(agency, external_id, data)
    if data["type"] in SUPERVISOR_TYPES and not agency.supervises:
        raise Invalid(
            "该类公示信息仅由司法行政部门发布",
            errors={"type": [f"{data['type']} is published by a 司法行政部门 (supervising agency) only"]},
        )


def _fill(item: Disclosure | Draft, agency: Agency, data: dict[str, Any], digest: str, now: dt.datetime) -> None:
    """Set the item's columns from a submission, and its public text through the privacy gate."""
    fields = {k: v for k, v in data.items() if k not in ("publish", "region")}
    for name in OPTIONAL_FIELDS:
        fields.setdefault(name, None)
    fields["content"] = fields["content"] or ""
    fields["attachments"] = data.get("attachments") or []
    fields["details"] = data.get("details") or {}
    for name, value in fields.items():
        setattr(item, name, value)
    item.region_code = data.get("region") or agency.region_code
    item.content_hash = digest
    item.updated_at = now
    _gate(item)


def needs_approval(agency: Agency, data: Mapping[str, Any], item: Disclosure | None) -> bool:
    """Whether this submission would make content public that the agency's 司法局 wants approved first."""
    if data["type"] not in APPROVABLE_TYPES or data.get("minor") or data.get("confidential"):
        return False
    if not data["publish"] and (item is None or item.published_at is None):
        return False  # registered only: nothing goes public, nothing to approve
    return (
        db.session.scalar(
            select(ApprovalRequirement.id).where(
                ApprovalRequirement.agency_id == agency.id, ApprovalRequirement.type == data["type"]
            )
        )
        is not None
    )


def _open_request(item: Disclosure | Draft) -> ApprovalRequest | None:
    if isinstance(item, Draft):
        return None
    # Locked: a push racing an approver waits for the decision, then finds the request decided and opens
    # a new one instead of changing what was just approved.
    return db.session.scalar(
        select(ApprovalRequest)
        .where(ApprovalRequest.disclosure_id == item.id, ApprovalRequest.state == ApprovalState.pending)
        .with_for_update(of=ApprovalRequest)
    )


def _hold_change(item: Disclosure, submitted: str, digest: str, actor: str, now: dt.datetime) -> Upserted:
    """A new version of a public item waits for approval; what citizens see does not change."""
    waiting = _open_request(item)
    if waiting is not None and waiting.content_hash == digest:
        return Upserted(item, "unchanged")
    _hold(item, submitted, digest, actor, now)
    return Upserted(item, "updated")


def _hold(item: Disclosure | Draft, submitted: str, digest: str, actor: str, now: dt.datetime) -> dict[str, Any] | None:
    """Open (or refresh) the item's request for approval; a Draft's request is returned for _insert_drafts."""
    values = {"submitted": json.loads(submitted), "content_hash": digest, "submitted_by": actor, "submitted_at": now}
    waiting = _open_request(item)
    if waiting is not None:
        for name, value in values.items():
            setattr(waiting, name, value)
        return None
    row = {
        "agency_id": item.agency_id,
        "type": item.type,
        "state": ApprovalState.pending,
        **values,
        **dict.fromkeys(("decided_by", "decided_at", "reasons", "log_index")),
    }
    if isinstance(item, Draft):
        return row
    db.session.add(ApprovalRequest(disclosure=item, **row))
    db.session.expire(item, ["approvals"])  # the item's view shows the new request
    return None


def _settle_held(item: Disclosure | Draft, created: bool) -> None:
    """A push that needs no approval (registered only, or the requirement was lifted) ends a waiting request."""
    if created or item.type not in APPROVABLE_TYPES:
        return
    waiting = _open_request(item)
    if waiting is not None:
        waiting.state = ApprovalState.superseded


def _insert_drafts(results: list[Upserted]) -> None:
    """Insert new items, their first versions and their outbox rows in the current transaction."""
    if not results:
        return
    connection = db.session.connection()
    insert_rows(connection, Disclosure.__table__, [result.item.row() for result in results])
    insert_rows(
        connection,
        DisclosureVersion.__table__,
        [{"disclosure_id": result.item.id, **result.version} for result in results],
    )
    enqueue(db.session, DISCLOSURES, [(result.item.id, 1) for result in results])
    held = [{"disclosure_id": result.item.id, **result.approval} for result in results if result.approval]
    if held:
        insert_rows(connection, ApprovalRequest.__table__, held)


def committed_content(item: Disclosure) -> dict[str, Any]:
    """What the log commits to: exactly what citizens are shown of the item."""
    return {
        "id": item.id,
        "agency": item.agency.code,
        "phase": item.phase,
        "type": item.type,
        "category": item.category,
        "document_no": item.document_no,
        "decision_date": item.decision_date.isoformat() if item.decision_date else None,
        "region": item.region_code,
        "public": item.public,
    }


def _transition(
    item: Disclosure, was_public: bool, before: dict[str, Any] | None, actor: str, now: dt.datetime
) -> transparency.Event | None:
    """The log event a change makes: first publication, a correction of public content, or a withholding."""
    if item.is_public:
        if not was_public:
            kind = "publish"
        elif canonical_json(before or {}) != canonical_json(committed_content(item)):
            kind = "correct"
            item.corrected_at = now
        else:
            return None
        event = transparency.event(kind, item.id, item.agency.code, actor, committed_content(item))
        item.commitment_salt = event.salt
        return event
    if was_public:
        return transparency.event("withhold", item.id, item.agency.code, actor)
    return None


def _log(results: list[Upserted]) -> None:
    """Append the results' events to the log in the current transaction; each item keeps its index."""
    pending = [result for result in results if result.event is not None]
    entries = transparency.append([result.event for result in pending])
    for result, entry in zip(pending, entries, strict=True):
        if result.event.event == "withhold":
            result.item.removal_log_index = entry.index
        else:
            result.item.log_index = entry.index


def _gate(item: Disclosure) -> None:
    """The privacy gate: compute the only text that may ever be shown."""
    texts: dict[str, str | None] = {name: getattr(item, name) for name in PUBLIC_TEXT_FIELDS}
    texts.update(flatten_text("details", item.details))
    texts.update({f"attachments/{i}/name": a.get("name") for i, a in enumerate(item.attachments)})
    gated = apply_privacy(texts, subject_type=item.subject_type, subject_name=item.subject_name)
    public: dict[str, Any] = {name: gated.public[name] for name in PUBLIC_TEXT_FIELDS}
    public["details"] = _unflatten("details", item.details, gated.public)
    public["attachments"] = [
        {**a, "name": gated.public[f"attachments/{i}/name"]} for i, a in enumerate(item.attachments)
    ]
    public["subject_name"] = gated.public_subject_name
    if item.subject_type == "organization":
        public["subject_id"] = item.subject_id
    item.public = public
    item.privacy_report = gated.report


def _unflatten(prefix: str, value: Any, masked: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        return {key: _unflatten(f"{prefix}/{key}", sub, masked) for key, sub in value.items()}
    if isinstance(value, list):
        return [_unflatten(f"{prefix}/{i}", sub, masked) for i, sub in enumerate(value)]
    return masked.get(prefix, value) if isinstance(value, str) else value


def _schedule(item: Disclosure, *, publish: bool, now: dt.datetime, held: bool = False) -> None:
    """Status and statutory clock. Minors' cases and confidential items are never public; a held item waits."""
    clock_ = statutory_clock(item)
    item.publish_deadline = clock_.deadline if clock_ else None
    item.deadline_provisional = bool(clock_ and clock_.provisional)
    if item.minor or item.confidential:
        item.status = Status.withheld
    elif held:
        item.status = Status.pending_approval
    elif publish:
        item.status = Status.published
        item.published_at = item.published_at or now
    else:
        item.status = Status.pending if item.published_at is None else Status.published
    item.published_late = bool(
        item.published_at and item.publish_deadline and china_date(item.published_at) > item.publish_deadline
    )
    item.expires_on = _expiry(item)


def _expiry(item: Disclosure) -> dt.date | None:
    """The end of a decision's disclosure period, by category and subject type (DISCLOSURE_PERIODS)."""
    periods = current_app.config["DISCLOSURE_PERIODS"].get(item.category or "", {})
    days = periods.get(item.subject_type or "organization")
    start = item.decision_date or (china_date(item.published_at) if item.published_at else None)
    return start + dt.timedelta(days=days) if days and start else None

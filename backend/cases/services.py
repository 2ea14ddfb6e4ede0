"""Cases, their records and their legal review.

Records are append-only and hash-chained per case; every record is also an entry of the
transparency log, so a record changed in the database breaks both its chain and the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.agencies.models import Agency
from backend.audit import services as audit
from backend.canonical import canonical_json, content_digest
from backend.errors import Conflict, Invalid, NotFound
from backend.extensions import clock, db
from backend.extensions.database import insert_rows
from backend.transparency import services as transparency

from .credentials import check_record_officers
from .models import (
    AV_STEPS,
    AV_STEPS_BY_CATEGORY,
    CHECKLIST,
    ON_SITE_STEPS,
    Case,
    CaseRecord,
    CaseReview,
    LegalReviewer,
    ReviewOutcome,
)
from .policy import check_decision_record, latest_review, note_first_case, note_major

EVIDENCE_DEADLINE = dt.timedelta(hours=24)
CASE_FIELDS = ("category", "major", "matter", "matter_code", "officers", "subject_type", "subject_name", "opened_on")


# -- cases --------------------------------------------------------------------------------------
def get_own(agency: Agency, case_no: str) -> Case:
    case = db.session.scalar(select(Case).where(Case.agency_id == agency.id, Case.case_no == case_no))
    if case is None:
        raise NotFound("未找到该案件", errors={"case_no": [f"no case {case_no!r} of this agency"]})
    return case


def upsert_case(agency: Agency, case_no: str, data: dict[str, Any]) -> tuple[Case, str]:
    digest = content_digest(data)
    for attempt in (1, 2):
        case = db.session.scalar(select(Case).where(Case.agency_id == agency.id, Case.case_no == case_no))
        if case is not None and case.content_hash == digest:
            return case, "unchanged"
        now = clock.now()
        outcome = "updated" if case else "created"
        if case is None:
            case = Case(
                agency=agency,
                case_no=case_no,
                created_at=now,
                record_count=0,
                missing_av=0,
                late_evidence=0,
                had_hearing=False,
                decided=False,
            )
            db.session.add(case)
        for name in CASE_FIELDS:
            setattr(case, name, data.get(name))
        case.content_hash, case.updated_at = digest, now
        try:
            # Inside the try: their queries flush the new case, which may meet a twin created meanwhile.
            note_major(case, now)
            note_first_case(agency, now)
            db.session.commit()
            return case, outcome
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def set_case_domains(agency: Agency, domains: dict[str, list[str]], actor: str, *, ip: str | None = None) -> dict:
    """The agency declares which enforcement domains may act in its cases of each category (replacing what it
    declared before); audited and logged. It can only narrow who records in its own cases."""
    declared = {category: sorted(set(names)) for category, names in sorted(domains.items())}
    if declared != (agency.case_domains or {}):
        audit.record(
            actor, "agency.case_domains", "agency", agency.code, ip=ip, before=agency.case_domains, after=declared
        )
        transparency.log_event(
            transparency.event("setting", f"{agency.code}/case_domains", agency.code, actor, detail=declared)
        )
        agency.case_domains = declared
        db.session.commit()
    return declared


# -- records ---------------------------------------------------------------------------------
def record_body(case: Case, record: CaseRecord) -> dict[str, Any]:
    """What a record's hash covers (with the previous hash)."""
    return _body(
        case.agency.code,
        case.case_no,
        record.seq,
        record.step,
        record.at,
        record.officers,
        record.place,
        record.text,
        record.evidence,
        record.corrects,
    )


def _body(
    agency: str,
    case_no: str,
    seq: int,
    step: str,
    at: dt.datetime,
    officers: list[str],
    place: str | None,
    text: str,
    evidence: list[dict[str, Any]],
    corrects: int | None,
) -> dict[str, Any]:
    return {
        "agency": agency,
        "case_no": case_no,
        "seq": seq,
        "step": step,
        "at": at.astimezone(dt.UTC).isoformat(),
        "officers": officers,
        "place": place,
        "text": text,
        "evidence": evidence,
        "corrects": corrects,
    }


def chain_hash(prev_hash: str | None, body: dict[str, Any]) -> str:
    return hashlib.sha256(((prev_hash or "") + canonical_json(body)).encode()).hexdigest()


def append_records(agency: Agency, case_no: str, records: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
    """Append records to a case's chain, in order, in one transaction (the case row is locked).

    Records are never updated, so they are built and inserted as plain rows: an ORM object per
    record would only cost time. Everything that does not need the transparency log's lock (checks,
    hashes, flags) is done before appending to the log, which every writer of the platform shares.

    Long because: one loop builds, hashes and flags each row, carrying seq, head and flags on to the next.
    """
    case = db.session.scalar(select(Case).where(Case.agency_id == agency.id, Case.case_no == case_no).with_for_update())
    if case is None:
        raise NotFound("未找到该案件", errors={"case_no": [f"no case {case_no!r} of this agency"]})
    check_record_officers(agency, records, case.category)
    now = clock.now()
    needed = AV_STEPS | AV_STEPS_BY_CATEGORY.get(case.category, set())
    seq, head = case.record_count, case.head_hash
    missing_av = late_evidence = 0
    had_hearing, decided = case.had_hearing, case.decided
    rows: list[dict[str, Any]] = []
    for data in records:
        _check_record(seq, data)
        if data["step"] == "decision":
            check_decision_record(case, data["time"], had_hearing=had_hearing)
        seq += 1
        step, officers, place, written = data["step"], data["officers"], data.get("place"), data["text"]
        corrects = data.get("corrects")
        evidence = data.get("evidence") or []
        stored = [_evidence(e) for e in evidence]
        digest = chain_hash(
            head, _body(agency.code, case.case_no, seq, step, data["time"], officers, place, written, stored, corrects)
        )
        rows.append(
            {
                "case_id": case.id,
                "seq": seq,
                "step": step,
                "at": data["time"],
                "officers": officers,
                "place": place,
                "text": written,
                "evidence": stored,
                "corrects": corrects,
                "received_at": now,
                "prev_hash": head,
                "hash": digest,
            }
        )
        head = digest
        # The same flags av_flags() reports for the stored chain, counted as the records arrive.
        if step in needed and not any(e["kind"] in ("audio", "video") for e in evidence):
            missing_av += 1
        late_evidence += sum(now - e["captured_at"] > EVIDENCE_DEADLINE for e in evidence)
        had_hearing = had_hearing or step == "hearing"
        decided = decided or step == "decision"
    with db.session.no_autoflush:
        entries = transparency.append(
            [
                transparency.event(
                    "record",
                    f"{agency.code}/{case_no}#{row['seq']}",
                    agency.code,
                    actor,
                    detail={"step": row["step"]},
                    committed=row["hash"],
                )
                for row in rows
            ]
        )
        for row, entry in zip(rows, entries, strict=True):
            row["log_index"] = entry.index
        insert_rows(db.session.connection(), CaseRecord.__table__, rows)
        case.record_count, case.head_hash = seq, head
        case.missing_av += missing_av
        case.late_evidence += late_evidence
        case.had_hearing, case.decided = had_hearing, decided
        if had_hearing:  # the only way records make a case major
            note_major(case, now)
    db.session.commit()
    return rows


def _evidence(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "captured_at": item["captured_at"].astimezone(dt.UTC).isoformat()}


def _check_record(record_count: int, data: dict[str, Any]) -> None:
    """``record_count``: records in the chain before this one."""
    if data["step"] in ON_SITE_STEPS and len(set(data["officers"])) < 2:
        raise Invalid("现场执法须有两名以上执法人员", errors={"officers": ["at least two officers for on-site acts"]})
    corrects = data.get("corrects")
    if corrects is not None and not 1 <= corrects <= record_count:
        raise Invalid("更正的记录不存在", errors={"corrects": [f"no record {corrects} in this case"]})


def records_view(case: Case) -> dict[str, Any]:
    """The chain, checked: every hash recomputed from the stored records."""
    records = list(db.session.scalars(select(CaseRecord).where(CaseRecord.case_id == case.id).order_by(CaseRecord.seq)))
    check = verify_chain(case, records)
    return {
        "case_no": case.case_no,
        "records": records,
        "valid": check.valid,
        "problems": check.problems,
        "flags": av_flags(case, records),
    }


@dataclass
class ChainCheck:
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def verify_chain(case: Case, records: list[CaseRecord]) -> ChainCheck:
    check = ChainCheck()
    previous: str | None = None
    for expected, record in enumerate(records, start=1):
        if record.seq != expected:
            check.problems.append(f"record {expected} is missing")
            return check
        if record.prev_hash != previous:
            check.problems.append(f"record {record.seq} does not follow record {record.seq - 1}")
        if chain_hash(record.prev_hash, record_body(case, record)) != record.hash:
            check.problems.append(f"record {record.seq} was altered after it was recorded")
        previous = record.hash
    if len(records) != case.record_count or (records and case.head_hash != previous):
        check.problems.append("the chain's end does not match the case: a record was removed")
    return check


def av_flags(case: Case, records: list[CaseRecord]) -> list[dict[str, Any]]:
    """Acts that needed audio-video and have none; evidence stored more than 24 hours after capture."""
    needed = AV_STEPS | AV_STEPS_BY_CATEGORY.get(case.category, set())
    flags = []
    for record in records:
        kinds = {e["kind"] for e in record.evidence}
        if record.step in needed and not kinds & {"audio", "video"}:
            flags.append({"seq": record.seq, "flag": "missing_av", "step": record.step})
        for evidence in record.evidence:
            captured = dt.datetime.fromisoformat(evidence["captured_at"])
            if record.received_at - captured > EVIDENCE_DEADLINE:
                flags.append({"seq": record.seq, "flag": "late_evidence", "sha256": evidence["sha256"]})
    return flags


# -- legal review -------------------------------------------------------------------------------
def register_reviewer(agency: Agency, badge_no: str, name: str, active: bool) -> LegalReviewer:
    reviewer = db.session.scalar(
        select(LegalReviewer).where(LegalReviewer.agency_id == agency.id, LegalReviewer.badge_no == badge_no)
    )
    if reviewer is None:
        reviewer = LegalReviewer(agency_id=agency.id, badge_no=badge_no, registered_at=clock.now())
        db.session.add(reviewer)
    reviewer.name, reviewer.active = name, active
    db.session.commit()
    return reviewer


def submit_review(agency: Agency, case_no: str, checklist: dict[str, str], actor: str) -> CaseReview:
    case = get_own(agency, case_no)
    latest = latest_review(case)
    if latest is not None and latest.outcome is None:
        raise Conflict("上一次提交的审核尚未出具意见", errors={"review": [f"review {latest.number} is pending"]})
    missing = [key for key in CHECKLIST if not checklist.get(key)]
    if missing:
        raise Invalid("审核材料须逐项说明", errors={"checklist": {key: ["required"] for key in missing}})
    review = CaseReview(
        case_id=case.id,
        number=(latest.number if latest else 0) + 1,
        submitted_at=clock.now(),
        submitted_by=actor,
        checklist=checklist,
    )
    db.session.add(review)
    db.session.commit()
    return review


def record_opinion(
    agency: Agency,
    case_no: str,
    number: int,
    *,
    reviewer_badge: str,
    outcome: str,
    reasons: dict[str, str],
    comment: str | None,
) -> CaseReview:
    """The reviewer's written opinion, with a reason per checklist item; never by an officer of the case."""
    case = get_own(agency, case_no)
    review = db.session.scalar(select(CaseReview).where(CaseReview.case_id == case.id, CaseReview.number == number))
    if review is None:
        raise NotFound("未找到该次审核", errors={"number": [f"no review {number} for this case"]})
    if review.outcome is not None:
        raise Conflict("该次审核已出具意见", errors={"number": ["already decided; submit again for a new opinion"]})
    reviewer = db.session.scalar(
        select(LegalReviewer).where(
            LegalReviewer.agency_id == agency.id,
            LegalReviewer.badge_no == reviewer_badge,
            LegalReviewer.active.is_(True),
        )
    )
    if reviewer is None:
        raise Invalid("审核人员未登记", errors={"reviewer": ["not a registered legal reviewer of this agency"]})
    on_case = set(case.officers) | {
        o for r in db.session.scalars(select(CaseRecord.officers).where(CaseRecord.case_id == case.id)) for o in r
    }
    if reviewer_badge in on_case:
        raise Conflict("审核人员不得审核本人承办的案件", errors={"reviewer": ["is an officer on this case"]})
    missing = [key for key in CHECKLIST if not reasons.get(key)]
    if missing:
        raise Invalid("审核意见须逐项说明理由", errors={"reasons": {key: ["required"] for key in missing}})
    review.outcome, review.reviewer_badge, review.reasons = ReviewOutcome(outcome), reviewer_badge, reasons
    review.comment, review.decided_at = comment, clock.now()
    db.session.commit()
    return review


def reviews(case: Case) -> list[CaseReview]:
    return list(db.session.scalars(select(CaseReview).where(CaseReview.case_id == case.id).order_by(CaseReview.number)))

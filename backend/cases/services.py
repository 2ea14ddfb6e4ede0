"""Cases and their records (legal review: reviews.py).

Records are append-only and hash-chained per case; every record is also an entry of the
transparency log, so a record changed in the database breaks both its chain and the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from backend.agencies.models import Agency
from backend.audit import services as audit
from backend.canonical import canonical_json, content_digest
from backend.deadlines import decision_clock
from backend.errors import Invalid, NotFound
from backend.extensions import clock, db
from backend.extensions.database import insert_rows
from backend.timezone import CHINA, china_date
from backend.transparency import services as transparency

from .credentials import check_record_officers
from .models import (
    ON_SITE_STEPS,
    Case,
    CaseRecord,
)
from .policy import check_decision_record, note_first_case, note_major
from .recording import list_in_force, record_flags, stored_rule

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
                recording_gaps=0,
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
        ended_at=record.ended_at,
        recording=record.recording,
        recording_list=record.recording_list,
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
    *,
    ended_at: dt.datetime | None,
    recording: str | None,
    recording_list: str | None,
) -> dict[str, Any]:
    """The fields added by migration 0017 (the step's end, the recording rule applied) are in the body only
    when set, so a record stored before them keeps its hash."""
    body = {
        "agency": agency,
        "case_no": case_no,
        "seq": seq,
        "step": step,
        "at": _utc(at),
        "officers": officers,
        "place": place,
        "text": text,
        "evidence": evidence,
        "corrects": corrects,
    }
    later = {"ended_at": _utc(ended_at) if ended_at else None, "recording": recording, "recording_list": recording_list}
    return body | {key: value for key, value in later.items() if value is not None}


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


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
    rules = list_in_force(agency)
    seq, head = case.record_count, case.head_hash
    flagged: Counter[str] = Counter()
    late_evidence = 0
    had_hearing, decided = case.had_hearing, case.decided
    decision_at: dt.datetime | None = None
    rows: list[dict[str, Any]] = []
    for data in records:
        _check_record(seq, data)
        if data["step"] == "decision":
            check_decision_record(case, data["time"], had_hearing=had_hearing)
        seq += 1
        step, officers, place, written = data["step"], data["officers"], data.get("place"), data["text"]
        corrects, ended_at = data.get("corrects"), data.get("ended_at")
        evidence = data.get("evidence") or []
        stored = [_evidence(e) for e in evidence]
        need = rules.need(case.category, step)
        applied = {"ended_at": ended_at, "recording": need.value, "recording_list": rules.source}
        body = _body(
            agency.code, case.case_no, seq, step, data["time"], officers, place, written, stored, corrects, **applied
        )
        digest = chain_hash(head, body)
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
                **applied,
                "received_at": now,
                "prev_hash": head,
                "hash": digest,
            }
        )
        head = digest
        # The same flags av_flags() reports for the stored chain, counted as the records arrive.
        flagged.update(f["flag"] for f in record_flags(need, step, data["time"], ended_at, stored))
        late_evidence += sum(now - e["captured_at"] > EVIDENCE_DEADLINE for e in evidence)
        had_hearing = had_hearing or step == "hearing"
        if step == "decision" and not decided:
            decision_at = data["time"]
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
        case.missing_av += flagged["missing_av"]
        case.recording_gaps += flagged["recording_gap"]
        case.late_evidence += late_evidence
        case.had_hearing, case.decided = had_hearing, decided
        if had_hearing:  # the only way records make a case major
            note_major(case, now)
        if decision_at is not None:
            set_decision_deadline(case, china_date(decision_at))
    db.session.commit()
    return rows


def set_decision_deadline(case: Case, decided_on: dt.date) -> None:
    """The date of the case's first decision record and the deadline its decision disclosure is expected by."""
    clock_ = decision_clock(case.category, decided_on)
    case.decided_on, case.publish_deadline, case.deadline_provisional = decided_on, clock_.deadline, clock_.provisional
    case.publish_by = dt.datetime.combine(clock_.deadline + dt.timedelta(days=1), dt.time(), CHINA)


def recompute_deadlines(years: Collection[int] = ()) -> int:
    """Decided cases' deadlines counted without official calendar data, or across one of ``years`` (a
    schedule loaded for them), counted again; the number changed (disclosures' are lifecycle's)."""
    crossing = [
        and_(Case.decided_on <= dt.date(year, 12, 31), Case.publish_deadline >= dt.date(year, 1, 1)) for year in years
    ]
    changed = 0
    for case in db.session.scalars(
        select(Case).where(Case.decided_on.is_not(None), or_(Case.deadline_provisional.is_(True), *crossing))
    ):
        before = (case.publish_deadline, case.deadline_provisional)
        set_decision_deadline(case, case.decided_on)
        changed += before != (case.publish_deadline, case.deadline_provisional)
    db.session.commit()
    return changed


def _evidence(item: dict[str, Any]) -> dict[str, Any]:
    """Evidence as stored and hashed: its times in UTC; a clip's start and end only when given."""
    times = ("captured_at", "started_at", "ended_at")
    return {**item, **{name: _utc(item[name]) for name in times if name in item}}


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
    """Each record's recording flags under the rule stored on it when it arrived (missing_av,
    recording_gap), and evidence stored more than 24 hours after capture (late_evidence)."""
    flags = []
    for record in records:
        need = stored_rule(record.recording, case.category, record.step)
        for flag in record_flags(need, record.step, record.at, record.ended_at, record.evidence):
            flags.append({"seq": record.seq, **flag})
        for evidence in record.evidence:
            captured = dt.datetime.fromisoformat(evidence["captured_at"])
            if record.received_at - captured > EVIDENCE_DEADLINE:
                flags.append({"seq": record.seq, "flag": "late_evidence", "sha256": evidence["sha256"]})
    return flags

"""案卷评查 by a draw anyone can recompute (seed 004: 案卷抽查、年度案卷评查、交叉评查).

A supervisor starts a round: a scope (one agency, or a region and the divisions below it), a period, a sample
size or percentage, evaluators and a scoring sheet. Eligible cases are those in scope whose ``closing`` (结案)
record is dated in the period, named publicly as ``<agency code>/<case no>`` and sorted. The round is announced
first: audited and appended to the transparency log with its parameters and a hash of the eligible list, at
log index N. The draw then uses the first signed checkpoint whose tree size exceeds N, so nobody knew its
root when the parameters and the eligible list were fixed:

    seed   = sha256(canonical JSON of {"checkpoint": root hash (hex), "parameters": ..., "eligible": [...]})
    rank   = sha256(bytes.fromhex(seed) + case id as UTF-8), hex; ascending, ties by case id
    sample = the first k: sample_size (at most all), or ceil(eligible × sample_percent / 100)

Canonical JSON is ``json.dumps(..., sort_keys=True, ensure_ascii=False, separators=(",", ":"))``. Everything in
it is public (``public_round``), and ``flask supervision redraw ROUND`` and README's script recompute it.

Each sampled case goes to an evaluator, round-robin in the order given, skipping anyone whose agency is the
case's (交叉评查). Evaluators are supervisors or ``observer`` accounts (监督员); they score each item of the
sheet up to its points, with a comment for every deduction; scores are audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, select

from backend.accounts.models import AdminRole, AdminUser
from backend.accounts.scope import region_prefix, visible_agencies
from backend.agencies.models import Agency
from backend.audit.services import record
from backend.canonical import canonical_json, content_digest
from backend.cases.models import Case, CaseRecord, Step
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import clock, db
from backend.timezone import CHINA
from backend.transparency import services as transparency
from backend.transparency.models import Checkpoint, LogEntry

from .evaluation_models import DEFAULT_SHEET, SHEET_POINTS, EvaluationCase, EvaluationRound

SUPERVISING = (AdminRole.supervisor, AdminRole.admin)
EVALUATOR_ROLES = (AdminRole.supervisor, AdminRole.observer)
MAX_COMMENT = 500


# -- the draw: pure functions of public data ------------------------------------------------------
def draw(root_hash: str, parameters: dict[str, Any], eligible: Sequence[str]) -> tuple[str, list[str]]:
    """(seed, sample) from a checkpoint's root hash (hex), the round's parameters and its eligible case ids."""
    seed = hashlib.sha256(
        canonical_json({"checkpoint": root_hash, "parameters": parameters, "eligible": list(eligible)}).encode()
    ).hexdigest()
    ranked = sorted(eligible, key=lambda case: (hashlib.sha256(bytes.fromhex(seed) + case.encode()).hexdigest(), case))
    return seed, ranked[: sample_count(parameters, len(eligible))]


def sample_count(parameters: dict[str, Any], eligible: int) -> int:
    if parameters.get("sample_size") is not None:
        return min(eligible, parameters["sample_size"])
    return min(eligible, math.ceil(eligible * parameters["sample_percent"] / 100))


def public_id(case: Case) -> str:
    return f"{case.agency.code}/{case.case_no}"


# -- starting a round -----------------------------------------------------------------------------
def create_round(user: AdminUser, spec: dict[str, Any], *, ip: str | None = None) -> EvaluationRound:
    """Announce a round (committed), then draw it from the first checkpoint after the announcement."""
    if user.role not in SUPERVISING:
        raise Forbidden("仅监督人员可发起案卷评查")
    scope, condition = _scope(user, spec.get("agency"), spec.get("region"))
    if (spec.get("sample_size") is None) == (spec.get("sample_percent") is None):
        raise Invalid("请填写抽取件数或抽取比例之一", errors={"sample_size": ["give sample_size or sample_percent"]})
    if spec["date_from"] > spec["date_to"]:
        raise Invalid("评查期间有误", errors={"date_to": ["must not be before date_from"]})
    sheet = _sheet(spec.get("sheet") or DEFAULT_SHEET)
    evaluators = _evaluators(spec["evaluators"])
    cases = eligible_cases(condition, spec["date_from"], spec["date_to"])
    if not cases:
        raise Invalid("评查期间内没有已结案件", errors={"date_from": ["no case closed in scope in the period"]})
    for case in cases.values():
        if not any(e.agency_id != case.agency_id for e in evaluators):
            raise Invalid("评查人员不能评查本机关案件", errors={"evaluators": [f"none outside {case.agency.code}"]})
    actor = f"admin:{user.username}"
    made = EvaluationRound(
        date_from=spec["date_from"],
        date_to=spec["date_to"],
        sheet=sheet,
        evaluators=[e.username for e in evaluators],
        eligible=sorted(cases),
        announce_index=-1,
        parameters={},
        sample=[],
        created_by=actor,
        created_at=clock.now(),
    )
    db.session.add(made)
    db.session.flush()
    made.parameters = {
        "round": made.id,
        "scope": scope,
        "date_from": spec["date_from"].isoformat(),
        "date_to": spec["date_to"].isoformat(),
        "sample_size": spec.get("sample_size"),
        "sample_percent": spec.get("sample_percent"),
    }
    _announce(made, actor, ip)
    return _draw(made, cases, evaluators, actor, ip)


def _scope(user: AdminUser, agency: str | None, region: str | None) -> tuple[dict[str, str], ColumnElement[bool]]:
    """The round's public scope and the condition on Agency it stands for, within what ``user`` supervises."""
    if bool(agency) == bool(region):
        raise Invalid("请填写执法主体或行政区划之一", errors={"agency": ["give agency or region"]})
    if agency:
        found = db.session.scalar(select(Agency.id).where(Agency.code == agency, visible_agencies(user)))
        if found is None:
            raise NotFound("未找到该执法主体", errors={"agency": [f"no agency {agency!r} in your region"]})
        return {"agency": agency}, Agency.code == agency
    mine = region_prefix(user.region_code or "") if user.role == AdminRole.supervisor else ""
    if len(region) != 6 or not region.isdigit() or not region_prefix(region).startswith(mine):
        raise NotFound("该行政区划不在您的监督范围内", errors={"region": [f"{region!r} is not in your region"]})
    return {"region": region}, Agency.region_code.like(region_prefix(region) + "%")


def _sheet(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points sum to SHEET_POINTS on every sheet, so that scores of rounds with different sheets average together."""
    keys = [item["key"] for item in items]
    if len(set(keys)) != len(keys) or sum(int(item["points"]) for item in items) != SHEET_POINTS:
        raise Invalid("评查表项目不能重复，分值合计须为 100", errors={"sheet": ["unique keys, points summing to 100"]})
    return [{"key": item["key"], "label": item["label"], "points": int(item["points"])} for item in items]


def _evaluators(usernames: Sequence[str]) -> list[AdminUser]:
    """The evaluators in the order given (the round-robin's), each an enabled supervisor or observer."""
    found = {
        u.username: u
        for u in db.session.scalars(
            select(AdminUser).where(
                AdminUser.username.in_(usernames),
                AdminUser.role.in_(EVALUATOR_ROLES),
                AdminUser.disabled_at.is_(None),
            )
        )
    }
    missing = [name for name in usernames if name not in found]
    if missing or not usernames:
        raise Invalid("评查人员须为监督人员或监督员账号", errors={"evaluators": [f"not an evaluator: {missing}"]})
    return [found[name] for name in dict.fromkeys(usernames)]


def eligible_cases(condition: ColumnElement[bool], date_from: dt.date, date_to: dt.date) -> dict[str, Case]:
    """Cases in scope closed (a ``closing`` record dated) in the period, by public id."""
    start = dt.datetime.combine(date_from, dt.time(), CHINA)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA)
    closed = exists().where(
        CaseRecord.case_id == Case.id, CaseRecord.step == Step.closing, CaseRecord.at >= start, CaseRecord.at < end
    )
    cases = db.session.scalars(select(Case).join(Case.agency).where(condition, closed))
    return {public_id(case): case for case in cases}


def _announce(made: EvaluationRound, actor: str, ip: str | None) -> None:
    detail = {
        "parameters": made.parameters,
        "eligible_count": len(made.eligible),
        "eligible_sha256": _list_digest(made.eligible),
    }
    scope = next(iter(made.parameters["scope"].values()))
    logged = transparency.log_event(
        transparency.event("evaluation_announced", f"evaluation/{made.id}", scope, actor, detail=detail)
    )
    made.announce_index = logged.index
    record(actor, "evaluation.announce", "evaluation_round", str(made.id), ip=ip, **detail)
    db.session.commit()


def _list_digest(items: Sequence[str]) -> str:
    return content_digest({"eligible": list(items)})


def first_checkpoint_after(index: int) -> Checkpoint | None:
    return db.session.scalar(select(Checkpoint).where(Checkpoint.tree_size > index).order_by(Checkpoint.tree_size))


def _draw(
    made: EvaluationRound, cases: dict[str, Case], evaluators: list[AdminUser], actor: str, ip: str | None
) -> EvaluationRound:
    """Sign a checkpoint if none covers the announcement yet (another may be signed meanwhile: take the first)."""
    checkpoint = first_checkpoint_after(made.announce_index)
    if checkpoint is None:
        transparency.checkpoint()
        checkpoint = first_checkpoint_after(made.announce_index)
    made.checkpoint_size = checkpoint.tree_size
    made.seed, made.sample = draw(checkpoint.root_hash.hex(), made.parameters, made.eligible)
    sampled = [cases[case] for case in made.sample]
    for rank, (case, evaluator) in enumerate(zip(sampled, assign(sampled, evaluators), strict=True), start=1):
        db.session.add(EvaluationCase(round=made, rank=rank, case_id=case.id, evaluator_id=evaluator.id))
    made.drawn_at = clock.now()
    detail = {"checkpoint_size": made.checkpoint_size, "seed": made.seed, "sample": made.sample}
    scope = next(iter(made.parameters["scope"].values()))
    transparency.log_event(transparency.event("evaluation_drawn", f"evaluation/{made.id}", scope, actor, detail=detail))
    record(actor, "evaluation.draw", "evaluation_round", str(made.id), ip=ip, **detail)
    db.session.commit()
    return made


def assign(cases: Sequence[Case], evaluators: Sequence[AdminUser]) -> list[AdminUser]:
    """Round-robin in the evaluators' order, skipping whoever belongs to the case's agency (交叉评查)."""
    chosen, turn = [], 0
    for case in cases:
        for step in range(len(evaluators)):
            evaluator = evaluators[(turn + step) % len(evaluators)]
            if evaluator.agency_id != case.agency_id:
                chosen.append(evaluator)
                turn = (turn + step + 1) % len(evaluators)
                break
        else:
            raise Invalid("评查人员不能评查本机关案件", errors={"evaluators": [f"none outside {case.agency.code}"]})
    return chosen


# -- public data and its recomputation --------------------------------------------------------------
def get_round(round_id: int) -> EvaluationRound:
    made = db.session.get(EvaluationRound, round_id)
    if made is None or made.checkpoint_size is None:
        raise NotFound("未找到该评查", errors={"round": [f"no evaluation round {round_id}"]})
    return made


def public_round(round_id: int) -> dict[str, Any]:
    """Everything the draw is made of, for anyone to recompute; no evaluator, score or person's name."""
    made = get_round(round_id)
    checkpoint = db.session.get(Checkpoint, made.checkpoint_size)
    return {
        "id": made.id,
        "parameters": made.parameters,
        "sheet": made.sheet,
        "announcement_index": made.announce_index,
        "checkpoint": checkpoint,
        "seed": made.seed,
        "eligible": made.eligible,
        "sample": made.sample,
    }


def redraw(round_id: int) -> dict[str, Any]:
    """Recompute the stored round's draw from its public data, and check the announcement preceded it."""
    made = get_round(round_id)
    checkpoint = db.session.get(Checkpoint, made.checkpoint_size)
    seed, sample = draw(checkpoint.root_hash.hex(), made.parameters, made.eligible)
    announced = db.session.get(LogEntry, made.announce_index)
    return {
        "round": made.id,
        "checkpoint_size": checkpoint.tree_size,
        "seed": seed,
        "sample": sample,
        "matches": sample == made.sample and seed == made.seed,
        "announced_before_checkpoint": made.announce_index < checkpoint.tree_size,
        "eligible_as_announced": announced is not None
        and announced.detail.get("eligible_sha256") == _list_digest(made.eligible)
        and announced.detail.get("parameters") == made.parameters,
        "first_checkpoint_after_announcement": first_checkpoint_after(made.announce_index) == checkpoint,
    }


# -- who sees what -------------------------------------------------------------------------------------
def rounds(user: AdminUser) -> list[EvaluationRound]:
    """The rounds over agencies ``user`` supervises, newest first (supervisors and admins only)."""
    if user.role not in SUPERVISING:
        return []
    made = db.session.scalars(
        select(EvaluationRound).where(EvaluationRound.checkpoint_size.is_not(None)).order_by(EvaluationRound.id.desc())
    )
    return [r for r in made if _supervises(user, r)]


def _supervises(user: AdminUser, made: EvaluationRound) -> bool:
    if user.role == AdminRole.admin:
        return True
    if user.role != AdminRole.supervisor:
        return False
    scope = made.parameters["scope"]
    if "agency" in scope:
        visible = select(Agency.id).where(Agency.code == scope["agency"], visible_agencies(user))
        return db.session.scalar(visible) is not None
    return region_prefix(scope["region"]).startswith(region_prefix(user.region_code or ""))


def round_for(user: AdminUser, round_id: int) -> EvaluationRound:
    made = get_round(round_id)
    if not _supervises(user, made):
        raise NotFound("未找到该评查", errors={"round": [f"no evaluation round {round_id} in your region"]})
    return made


def assignments(user: AdminUser) -> list[EvaluationCase]:
    """The cases assigned to ``user``, unscored first."""
    return list(
        db.session.scalars(
            select(EvaluationCase)
            .where(EvaluationCase.evaluator_id == user.id)
            .order_by(EvaluationCase.scored_at.is_not(None), EvaluationCase.round_id, EvaluationCase.rank)
        )
    )


def assigned(user: AdminUser, round_id: int, rank: int) -> EvaluationCase:
    """A sampled case: for its evaluator, or a supervisor of the round; to anyone else, not found."""
    item = db.session.scalar(
        select(EvaluationCase).where(EvaluationCase.round_id == round_id, EvaluationCase.rank == rank)
    )
    if item is None or not (item.evaluator_id == user.id or _supervises(user, item.round)):
        raise NotFound("未找到该评查案件", errors={"case": [f"no case {rank} of round {round_id} for you"]})
    return item


# -- scoring -----------------------------------------------------------------------------------------------
def score(user: AdminUser, item: EvaluationCase, given: dict[str, Any], *, ip: str | None = None) -> EvaluationCase:
    """Score an assigned case once: ``{item key: {score, comment}}`` for every sheet item, each score at most the
    item's points, a comment for every deduction."""
    if item.evaluator_id != user.id:
        raise Forbidden("该案件未分配给您评查")
    if item.scored_at is not None:
        raise Conflict("该案件已评分", errors={"case": ["already scored"]})
    scores, errors = {}, {}
    for entry in item.round.sheet:
        key, points = entry["key"], entry["points"]
        entered = given.get(key) if isinstance(given.get(key), dict) else {}
        value, comment = _points(entered.get("score")), entered.get("comment") or ""
        if not isinstance(comment, str):
            errors[f"scores.{key}.comment"] = ["a text"]
        elif value is None or not 0 <= value <= points:
            errors[f"scores.{key}.score"] = [f"an integer from 0 to {points}"]
        elif value < points and not comment.strip():
            errors[f"scores.{key}.comment"] = ["say why points were deducted"]
        elif len(comment) > MAX_COMMENT:
            errors[f"scores.{key}.comment"] = [f"at most {MAX_COMMENT} characters"]
        else:
            scores[key] = {"score": value, "comment": comment.strip()}
    if errors:
        raise Invalid("评分有误：每项不超过其分值，扣分须说明理由", errors=errors)
    item.scores, item.total, item.scored_at = scores, sum(s["score"] for s in scores.values()), clock.now()
    record(
        f"admin:{user.username}",
        "evaluation.score",
        "evaluation_case",
        f"{item.round_id}/{item.rank}",
        ip=ip,
        case=public_id(item.case),
        total=item.total,
        scores=scores,
    )
    db.session.commit()
    return item


def _points(value: Any) -> int | None:
    """An integer, or its digits as a form posts them."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- results ------------------------------------------------------------------------------------------------
def _tally(items: Sequence[EvaluationCase]) -> list[dict[str, Any]]:
    """Per agency: cases evaluated, their summed score, points deducted per sheet item (by the sheets' labels)."""
    by_agency: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.scored_at is None:
            continue
        agency = item.case.agency
        empty = {"agency": agency.code, "name": agency.name, "cases_evaluated": 0, "total": 0, "deductions": {}}
        row = by_agency.setdefault(agency.code, empty)
        row["cases_evaluated"] += 1
        row["total"] += item.total
        for entry in item.round.sheet:
            lost = entry["points"] - item.scores[entry["key"]]["score"]
            row["deductions"][entry["label"]] = row["deductions"].get(entry["label"], 0) + lost
    return [row for _, row in sorted(by_agency.items())]


def _mean(total: int, count: int) -> float | None:
    return round(total / count, 1) if count else None


def results(items: Sequence[EvaluationCase]) -> list[dict[str, Any]]:
    """Per agency: cases evaluated, mean score, points deducted per sheet item."""
    return [
        {**{k: v for k, v in row.items() if k != "total"}, "mean_score": _mean(row["total"], row["cases_evaluated"])}
        for row in _tally(items)
    ]


def round_results(made: EvaluationRound) -> dict[str, Any]:
    scored = sum(1 for item in made.cases if item.scored_at is not None)
    return {"round": made.id, "assigned": len(made.cases), "scored": scored, "agencies": results(made.cases)}


def _scored(condition: ColumnElement[bool], start: dt.datetime, end: dt.datetime) -> list[EvaluationCase]:
    return list(
        db.session.scalars(
            select(EvaluationCase)
            .join(EvaluationCase.case)
            .join(Case.agency)
            .where(condition, EvaluationCase.scored_at >= start, EvaluationCase.scored_at < end)
        )
    )


def scored_in(condition: ColumnElement[bool], start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """``results`` over the cases of agencies matching ``condition`` (on Agency) scored in [start, end)."""
    return results(_scored(condition, start, end))


def annual_figures(agency_ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The annual report's 案卷评查 section: every case of the given agencies scored in the year, together."""
    rows = _tally(_scored(Agency.id.in_(agency_ids), start, end))
    evaluated = sum(r["cases_evaluated"] for r in rows)
    deductions: dict[str, int] = {}
    for row in rows:
        for label, lost in row["deductions"].items():
            deductions[label] = deductions.get(label, 0) + lost
    total = sum(r["total"] for r in rows)
    return {"cases_evaluated": evaluated, "mean_score": _mean(total, evaluated), "deductions": deductions}

"""案卷评查 rounds: the published draw (parameters, checkpoint, eligible cases, sample) and each sampled case's
evaluator and score."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.accounts.models import AdminUser
from backend.cases.models import Case
from backend.extensions.database import Model, UTCDateTime

# Every sheet's points sum to this, so scores of rounds with different sheets average together.
SHEET_POINTS = 100
# The standard scoring sheet (评查标准), points summing to SHEET_POINTS; a round may configure its own.
DEFAULT_SHEET = [
    {"key": "lawful_agency", "label": "主体合法", "points": 15},
    {"key": "clear_facts", "label": "事实清楚", "points": 20},
    {"key": "sufficient_evidence", "label": "证据确凿", "points": 20},
    {"key": "lawful_procedure", "label": "程序合法", "points": 20},
    {"key": "correct_law", "label": "适用法律正确", "points": 15},
    {"key": "proper_documents", "label": "文书规范", "points": 10},
]


class EvaluationRound(Model):
    __tablename__ = "evaluation_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What the draw is made of; ``parameters`` is the canonical form hashed into the seed.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    sheet: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    evaluators: Mapped[list[str]] = mapped_column(JSON)
    eligible: Mapped[list[str]] = mapped_column(JSON)
    announce_index: Mapped[int] = mapped_column(Integer)
    checkpoint_size: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[str | None] = mapped_column(String(64))
    sample: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    cases: Mapped[list[EvaluationCase]] = relationship(
        order_by="EvaluationCase.rank", back_populates="round", lazy="selectin"
    )


class EvaluationCase(Model):
    """A sampled case, the evaluator it is assigned to and, once given, the score per sheet item."""

    __tablename__ = "evaluation_cases"
    __table_args__ = (UniqueConstraint("round_id", "rank"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id"), index=True)
    # {key: {"score": n, "comment": text}}
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    total: Mapped[int | None] = mapped_column(Integer)
    scored_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    round: Mapped[EvaluationRound] = relationship(back_populates="cases")
    case: Mapped[Case] = relationship(lazy="joined", innerjoin=True)
    evaluator: Mapped[AdminUser] = relationship(lazy="joined", innerjoin=True)

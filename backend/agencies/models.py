from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Select, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from backend.divisions import region_ancestors
from backend.extensions.database import Model, UTCDateTime
from backend.search.indexing import Searchable
from search_index.mappings import AGENCIES


class AgencyLevel(enum.StrEnum):
    province = "province"  # 省级
    city = "city"  # 市级
    county = "county"  # 县级
    township = "township"  # 乡级


LEVEL_LABELS = {
    AgencyLevel.province: "省级",
    AgencyLevel.city: "市级",
    AgencyLevel.county: "县级",
    AgencyLevel.township: "乡级",
}


class Agency(Searchable, Model):
    __tablename__ = "agencies"
    __search__ = AGENCIES

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[AgencyLevel] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    complaint_phone: Mapped[str | None] = mapped_column(String(40))
    # {"reconsideration": ["泉州市人民政府"], "litigation": ["鲤城区人民法院"]}
    remedy_channels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A 司法行政部门 that supervises enforcement in its region: complaints with no agency of their own,
    # and overdue ones, go to it.
    supervises: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # 报送案件: whether its licensing, penalty and coercion decisions must name their case. None is automatic:
    # on from its first registered case. Only a platform admin or its supervising 司法局 sets true/false
    # (an agency switching off its own gate would be a side door).
    reports_cases: Mapped[bool | None] = mapped_column(Boolean)
    # When it began reporting cases (its first case, or the setting turned on), set once: its decisions
    # published without a case after that are shown to supervisors.
    reports_cases_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Per case category, the enforcement domains (Officer.domains) whose officers may act in its cases, as
    # the agency declared them: {"penalty": ["食品安全"]}. A category left out (or None) is not checked.
    case_domains: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    parent: Mapped[Agency | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def reports_cases_now(self) -> bool:
        """The setting in force: as set, else automatic (on once it has registered a case)."""
        return self.reports_cases if self.reports_cases is not None else self.reports_cases_since is not None

    @property
    def parent_code(self) -> str | None:
        return self.parent.code if self.parent else None

    @property
    def search_id(self) -> str:
        return self.code

    def search_document(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "address": self.address or "",
            "level": str(self.level),
            "region": region_ancestors(self.region_code),
            "parent": self.parent_code,
        }

    @classmethod
    def load_for_search(cls, session: Session, ids: list[str]) -> dict[str, Agency]:
        return {a.code: a for a in session.scalars(select(cls).where(cls.code.in_(ids)))}

    @classmethod
    def select_for_search(cls) -> Select[tuple[Agency]]:
        return select(cls).order_by(cls.id)

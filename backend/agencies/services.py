from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from backend.audit.services import record
from backend.errors import Conflict, Invalid, NotFound
from backend.extensions import clock, db, search
from backend.extensions.smorest import Page
from search_index.interfaces import SearchQuery
from search_index.mappings import AGENCIES

from .models import Agency, AgencyLevel

AGENCY_CODE = re.compile(r"[0-9A-Za-z-]{2,40}")
REGION_CODE = re.compile(r"[1-8]\d{5}")


def get_agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound("未找到该执法主体", errors={"code": [f"no agency with code {code!r}"]})
    return agency


def create_agency(
    *,
    code: str,
    name: str,
    region_code: str,
    actor: str,
    parent_code: str | None = None,
    level: str | None = None,
    **fields: Any,
) -> Agency:
    """Create an agency; its level defaults from the region code (xx0000 province, xxxx00 city)."""
    problems = {}
    if not AGENCY_CODE.fullmatch(code):
        problems["code"] = ["2-40 letters, digits or '-'"]
    if not REGION_CODE.fullmatch(region_code):
        problems["region"] = ["must be a 6-digit administrative division code"]
    if not 2 <= len(name.strip()) <= 100:
        problems["name"] = ["2-100 characters"]
    if problems:
        raise Invalid("执法主体信息有误", errors=problems)
    if db.session.scalar(select(Agency.id).where(Agency.code == code)) is not None:
        raise Conflict("执法主体编码已存在", errors={"code": [f"agency {code!r} already exists"]})
    parent = get_agency(parent_code) if parent_code else None
    if level is None:
        level = _level_from_region(region_code)
    if level not in AgencyLevel.__members__:
        raise Invalid("执法主体层级无效", errors={"level": [f"must be one of {', '.join(AgencyLevel)}"]})
    now = clock.now()
    agency = Agency(
        code=code,
        name=name,
        region_code=region_code,
        level=level,
        parent=parent,
        created_at=now,
        updated_at=now,
        remedy_channels=fields.pop("remedy_channels", None) or {},
        **fields,
    )
    db.session.add(agency)
    record(actor, "agency.create", "agency", code, name=name, region_code=region_code, parent=parent_code)
    db.session.commit()
    return agency


def _level_from_region(region_code: str) -> str:
    if region_code.endswith("0000"):
        return AgencyLevel.province
    if region_code.endswith("00"):
        return AgencyLevel.city
    return AgencyLevel.county


@dataclass
class AgencyView:
    """An agency's fields plus what a page adds: the highlighted name, its current pre-phase items."""

    agency: Agency
    highlight: str | None = None
    disclosures: dict[str, list[dict[str, Any]]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.agency, name)


def search_agencies(*, q: str = "", region: str | None = None, page: int = 1, page_size: int = 20) -> Page[AgencyView]:
    """Search returns codes in rank order; rows come from the database in that order."""
    query = SearchQuery(
        text=q,
        filters={"region": [region]} if region else {},
        page=page,
        page_size=page_size,
        exact_up_to=None,  # a few thousand agencies, no facets: counted exactly at no real cost
    )
    result = search.query(AGENCIES, query)
    codes = [hit.id for hit in result.hits]
    rows = {a.code: a for a in db.session.scalars(select(Agency).where(Agency.code.in_(codes)))}
    return Page(
        # A row deleted since it was indexed is skipped; the outbox removes it from the index.
        items=[AgencyView(rows[hit.id], hit.highlights.get("name")) for hit in result.hits if hit.id in rows],
        total=result.total,
        page=page,
        page_size=page_size,
    )

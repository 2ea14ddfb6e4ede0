"""Facet codes turned into the names citizens read: the one place the page and both APIs ask."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from backend.agencies.models import Agency
from backend.divisions import region_name
from backend.extensions import db

from .models import LABELS

# What a public search counts, in the order a page shows them.
FACETS = ("agency", "region", "type", "category", "phase")


def count_text(count: int, exact: bool = True) -> str:
    """A count as a citizen reads it: 1234 as it is; an estimate (search_index's EXACT_COUNT_LIMIT) as
    约4.8万 above ten thousand, 约 and the figure below."""
    if exact:
        return str(count)
    if count >= 10_000:
        return f"约{count / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
    return f"约{count}"


def agency_names(codes: Iterable[str]) -> dict[str, str]:
    codes = list(codes)
    if not codes:
        return {}
    return dict(db.session.execute(select(Agency.code, Agency.name).where(Agency.code.in_(codes))).all())


def label(facet: str, value: str, agencies: Mapping[str, str] | None = None) -> str:
    """The name of one facet value: an agency's name, a division's (泉州市), a type's or category's label.
    A code without a name shows as itself rather than not at all."""
    if facet == "agency":
        return (agencies if agencies is not None else agency_names([value])).get(value, value)
    if facet == "region":
        return region_name(value) or value
    return LABELS.get(value, value)


def label_facets(facets: Mapping[str, Mapping[str, int]]) -> dict[str, list[dict[str, Any]]]:
    """An engine's counts ``{facet: {code: count}}`` as ``{facet: [{value, label, count}]}``, in its order."""
    agencies = agency_names(facets.get("agency", {}))
    return {
        facet: [
            {"value": value, "label": label(facet, value, agencies), "count": count} for value, count in counts.items()
        ]
        for facet, counts in facets.items()
    }

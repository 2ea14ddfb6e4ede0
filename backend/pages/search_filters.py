"""The citizen search page's query and what it shows around the results: filters, facet names, links.

The page is a GET form, so every state is an address: the filters live in the query string, and every
link (a page, a removed filter) carries the others along.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow as ma

from backend.disclosures.facets import count_text, label
from backend.disclosures.schemas import DisclosureSearchArgsSchema

SEARCH_ARGS = DisclosureSearchArgsSchema()
# The filters the form offers, in its order, with the names its labels and the chosen-filter list use.
FILTERS = {"agency": "执法机关", "region": "地区", "type": "公开类型", "category": "执法类别", "phase": "公开阶段"}
DATES = {"date_from": "起始日期", "date_to": "截止日期"}
SORTS = {"relevance": "按相关度", "date": "按日期（最新在前）"}
# Left out of links when they hold these values, so the addresses stay short.
DEFAULTS = {"q": "", "sort": "relevance", "page": 1, "page_size": SEARCH_ARGS.fields["page_size"].load_default}


def search_args(raw: Mapping[str, str]) -> dict[str, Any]:
    """The page's query from the address. An empty field ("全部") means no filter; a value the page cannot
    read (an edited or stale address) is dropped rather than refused, so a citizen still gets results."""
    given = {name: value for name, value in raw.items() if value}
    given["q"] = raw.get("q", "")[: SEARCH_ARGS.fields["q"].validate.max]  # type: ignore[union-attr]
    try:
        return SEARCH_ARGS.load(given)
    except ma.ValidationError as error:
        bad = error.messages if isinstance(error.messages, dict) else {}
        return SEARCH_ARGS.load({name: value for name, value in given.items() if name not in bad})


def link_params(args: Mapping[str, Any], **changes: Any) -> dict[str, str]:
    """The query string of a link from this page: its arguments with ``changes`` (None removes one)."""
    merged = {**args, **changes}
    return {
        name: value.isoformat() if isinstance(value, dt.date) else str(value)
        for name, value in merged.items()
        if value is not None and value != DEFAULTS.get(name)
    }


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    count: int | None  # None: chosen, but no hit has it
    exact: bool = True  # False: the count is an estimate

    @property
    def shown(self) -> str | None:
        """The count as the page shows it (约4.8万 when estimated); None without one."""
        return None if self.count is None else count_text(self.count, self.exact)


@dataclass(frozen=True)
class Chosen:
    """A filter in force, and the link that drops it (from page 1)."""

    name: str
    label: str
    without: dict[str, str]


def options(
    args: Mapping[str, Any], facets: Mapping[str, list[dict[str, Any]]], exact: bool = True
) -> dict[str, list[Option]]:
    """Each filter's choices: the facet's values with names and counts; the chosen one always among them.
    A facet is counted without its own filter (SearchQuery.facets), so with 泉州市 chosen the other regions
    are still offered with their counts. Divisions come in code order, so a province is followed by its
    cities and their districts. ``exact`` false: the counts are estimates."""
    choices = {}
    for name in FILTERS:
        values = [Option(f["value"], f["label"], f["count"], exact) for f in facets.get(name, [])]
        if name == "region":
            values.sort(key=lambda option: option.value)
        chosen = args.get(name)
        if chosen and all(option.value != chosen for option in values):
            values.insert(0, Option(chosen, label(name, chosen), None))
        choices[name] = values
    return choices


def chosen(args: Mapping[str, Any], choices: Mapping[str, list[Option]]) -> list[Chosen]:
    """The filters in force (dates included), each with its name and a link without it."""
    found = []
    for name, title in FILTERS.items():
        if args.get(name):
            shown = next(option.label for option in choices[name] if option.value == args[name])
            found.append(Chosen(name, f"{title}：{shown}", link_params(args, **{name: None, "page": None})))
    for name, title in DATES.items():
        if args.get(name):
            found.append(
                Chosen(name, f"{title}：{args[name].isoformat()}", link_params(args, **{name: None, "page": None}))
            )
    return found

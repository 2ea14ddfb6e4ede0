"""The search port. The database is the system of record; an index is a projection of it.

An engine stores documents by id with an external version (a write older than what the
index holds is ignored), answers queries with ids in rank order (the caller loads the rows),
and keeps every index behind an alias so it can be rebuilt and swapped without downtime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# Matches are counted exactly up to this many; above it the total and the facet counts are estimates from a
# uniform sample of the index, shown as 约 (SearchResult.total_exact, facets_exact). Search engines do the same:
# an exact count of half a million matches costs a walk over every one of them, for a figure nobody reads exactly.
EXACT_COUNT_LIMIT = 10_000


class SearchUnavailable(Exception):
    """The engine cannot be reached or failed; callers answer 503 or retry later."""


class IndexStale(SearchUnavailable):
    """The index projects another database, or a later state of this one: its results would be wrong.

    ``state`` is ``"stale"`` (nothing is rebuilding it) or ``"rebuilding"``."""

    def __init__(self, message: str, state: str = "stale") -> None:
        super().__init__(message)
        self.state = state


@dataclass(frozen=True)
class SourceState:
    """Which database an index projects, and how far.

    ``database`` is the database's identity (a UUID its migration made once); ``sequence`` is the
    database's change sequence (the search outbox's last id) the index has seen. An index whose
    database differs belongs to another database; one whose sequence is ahead of the database's holds
    changes the database no longer has (it was restored from a backup).
    """

    database: str
    sequence: int

    def projected_by(self, index: SourceState | None) -> str | None:
        """Why an index recorded as ``index`` does not project this database state; None when it does."""
        if index is None:
            return "the index does not say which database it projects"
        if index.database != self.database:
            return f"the index was built for database {index.database}, this is {self.database}"
        if index.sequence > self.sequence:
            return (
                f"the index has seen change {index.sequence}, the database only {self.sequence} "
                "(restored from a backup?)"
            )
        return None


@dataclass(frozen=True)
class IndexDefinition:
    """A mapping in code. Bump ``version`` when the fields change, then reindex."""

    name: str
    version: int
    # Full-text fields and their weight in relevance (a title outranks a body).
    text_fields: Mapping[str, float]
    # Exact-match fields used for filters and facets; a value may be a list.
    keyword_fields: Sequence[str] = ()
    # One date field (ISO date string), for range filters and sort=date.
    date_field: str | None = None
    # Text fields that get a highlighted snippet.
    highlight_fields: Sequence[str] = ()
    # Highlighted fields shown whole, every match marked: a title cut short drops the party's name.
    whole_fields: Sequence[str] = ()


@dataclass(frozen=True)
class Document:
    id: str
    version: int
    body: Mapping[str, Any]


@dataclass(frozen=True)
class Deletion:
    id: str
    version: int


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    # field -> accepted values (OR within a field, AND across fields)
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    # Keyword fields to count values of (the 50 largest each). Disjunctive: a facet counts the matches of
    # the text, the date range and every filter except its own field's, so a chosen region still lists the
    # other regions with the counts they would have; hits and total honour every filter.
    facets: Sequence[str] = ()
    sort: Literal["relevance", "date"] = "relevance"
    page: int = 1
    page_size: int = 20
    # Count matches exactly up to this many, estimate above it; None: always exactly (tools, the bench's check).
    exact_up_to: int | None = EXACT_COUNT_LIMIT


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    # field -> HTML-escaped text with <em> around matches
    highlights: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    # The number of matches: exact when ``total_exact``, else an estimate above ``SearchQuery.exact_up_to``.
    total: int
    facets: dict[str, dict[str, int]]
    took_ms: float
    total_exact: bool = True
    # False when the facet counts are estimates (the matches they count are more than ``exact_up_to``).
    facets_exact: bool = True


@dataclass(frozen=True)
class WriteReport:
    applied: int = 0
    # Writes older than or equal to what the index already holds (late or repeated messages).
    stale: int = 0


class SearchEngine(Protocol):
    name: str

    def ensure_index(self, definition: IndexDefinition) -> None:
        """Create the first physical index and its alias when missing (it records no source)."""

    def record_source(self, definition: IndexDefinition, source: SourceState) -> None:
        """Record that the live index (and one being rebuilt) projects ``source``: the sequence only rises
        for the same database (concurrent indexers), another database replaces it."""

    def source(self, definition: IndexDefinition, building: bool = False) -> SourceState | None:
        """What the live index (``building``: the one being rebuilt) records; None when it records
        nothing or, for ``building``, when no rebuild is running."""

    def mapping_version(self, definition: IndexDefinition, building: bool = False) -> int | None:
        """The definition's version the live index (``building``: the one being rebuilt) was built with;
        None when there is no such index."""

    def write(self, definition: IndexDefinition, changes: Iterable[Document | Deletion]) -> WriteReport:
        """Index or delete, each only if its version is newer than the stored one."""

    def search(self, definition: IndexDefinition, query: SearchQuery) -> SearchResult: ...

    def reindex(
        self, definition: IndexDefinition, documents: Iterable[Document], source: SourceState | None = None
    ) -> str:
        """Build a new physical index from ``documents`` and swap the alias; return its name. The new index
        records ``source``, read before the documents (later changes reach it through ``write``)."""

    def refresh(self, definition: IndexDefinition) -> None:
        """Make writes visible now. For tests and tools, never on a request path."""

    def count(self, definition: IndexDefinition) -> int: ...

    def health(self) -> dict[str, Any]:
        """Raise SearchUnavailable when the engine cannot serve."""

    def drop(self, definition: IndexDefinition) -> None:
        """Delete every physical index of the definition and its alias (tests, tools)."""

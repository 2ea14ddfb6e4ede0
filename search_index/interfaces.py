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


class SearchUnavailable(Exception):
    """The engine cannot be reached or failed; callers answer 503 or retry later."""


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
    facets: Sequence[str] = ()
    sort: Literal["relevance", "date"] = "relevance"
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    # field -> HTML-escaped text with <em> around matches
    highlights: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    took_ms: float


@dataclass(frozen=True)
class WriteReport:
    applied: int = 0
    # Writes older than or equal to what the index already holds (late or repeated messages).
    stale: int = 0


class SearchEngine(Protocol):
    name: str

    def ensure_index(self, definition: IndexDefinition) -> None:
        """Create the first physical index and its alias when missing."""

    def write(self, definition: IndexDefinition, changes: Iterable[Document | Deletion]) -> WriteReport:
        """Index or delete, each only if its version is newer than the stored one."""

    def search(self, definition: IndexDefinition, query: SearchQuery) -> SearchResult: ...

    def reindex(self, definition: IndexDefinition, documents: Iterable[Document]) -> str:
        """Build a new physical index from ``documents`` and swap the alias; return its name."""

    def refresh(self, definition: IndexDefinition) -> None:
        """Make writes visible now. For tests and tools, never on a request path."""

    def count(self, definition: IndexDefinition) -> int: ...

    def health(self) -> dict[str, Any]:
        """Raise SearchUnavailable when the engine cannot serve."""

    def drop(self, definition: IndexDefinition) -> None:
        """Delete every physical index of the definition and its alias (tests, tools)."""

"""Whether each index projects the database the app serves, checked on start and every few seconds.

An index records the database it was built from and the change sequence it has seen (SourceState),
and its name the version of the definition (mappings.py) it was built with;
the database's own state is read through a function the app passes in (the port knows nothing of the
app). An index of another database, or of a later state of this one (a restored backup), would answer
with totals and pages of items that do not exist, and one built with an earlier definition would miss
what its queries now ask for: search refuses them (IndexStale, a 503) until they are rebuilt. The
check is memoized per process for ``every_seconds`` so requests pay for it rarely.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .interfaces import IndexDefinition, IndexStale, SearchEngine, SourceState
from .mappings import DEFINITIONS

REINDEX_COMMAND = "flask --app backend search reindex"


@dataclass(frozen=True)
class IndexState:
    state: Literal["matching", "stale", "rebuilding"]
    reason: str | None = None


def compare(engine: SearchEngine, database: SourceState | None) -> dict[str, IndexState]:
    """Each index's state against the database's (None: the database has no identity yet)."""
    states = {}
    for name, definition in DEFINITIONS.items():
        if database is None:
            states[name] = IndexState("stale", "the database has no identity: run flask --app backend db upgrade")
            continue
        reason = database.projected_by(engine.source(definition)) or _built_with(engine, definition)
        if reason is None:
            states[name] = IndexState("matching")
        elif (
            database.projected_by(engine.source(definition, building=True)) is None
            and _built_with(engine, definition, building=True) is None
        ):
            states[name] = IndexState("rebuilding", reason)
        else:
            states[name] = IndexState("stale", reason)
    return states


def _built_with(engine: SearchEngine, definition: IndexDefinition, building: bool = False) -> str | None:
    """Why an index built with another version of its definition is stale: its tokens are not what
    queries are now analysed into (version 2 folds traditional characters to simplified)."""
    version = engine.mapping_version(definition, building)
    if version is None or version == definition.version:
        return None
    return f"the index was built with mapping version {version}, this code's is {definition.version}"


class ProjectionCheck:
    """Kept in ``app.extensions['search_projection']``; ``read_source`` reads the database's state."""

    def __init__(self, read_source: Callable[[], SourceState | None], every_seconds: float) -> None:
        self.read_source = read_source
        self.every_seconds = every_seconds
        # (engine, when, states): tests swap engines, and a new engine is checked afresh.
        self._memo: tuple[SearchEngine, float, dict[str, IndexState]] | None = None

    def states(self, engine: SearchEngine, force: bool = False) -> dict[str, IndexState]:
        memo = self._memo
        now = time.monotonic()
        if force or memo is None or memo[0] is not engine or now - memo[1] >= self.every_seconds:
            memo = (engine, now, compare(engine, self.read_source()))
            self._memo = memo
        return memo[2]

    def require(self, engine: SearchEngine, definition: IndexDefinition) -> None:
        """Raise IndexStale unless the index of ``definition`` projects the database."""
        state = self.states(engine).get(definition.name)
        if state is not None and state.state != "matching":
            raise IndexStale(f"search index {definition.name!r} is {state.state}: {state.reason}", state.state)

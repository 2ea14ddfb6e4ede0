"""Search: one interface, two engines (Elasticsearch, embedded SQLite FTS5), chosen by configuration."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from .elastic import ElasticsearchEngine
from .embedded import EmbeddedEngine
from .interfaces import IndexDefinition, SearchEngine, SearchQuery, SearchResult, SearchUnavailable, SourceState
from .mappings import DEFINITIONS
from .projection import IndexState, ProjectionCheck


def make_engine(config: dict) -> SearchEngine:
    if config.get("ELASTICSEARCH_URL"):
        return ElasticsearchEngine(
            config["ELASTICSEARCH_URL"],
            prefix=config["SEARCH_INDEX_PREFIX"],
            analyzer=config.get("ELASTICSEARCH_TEXT_ANALYZER", "standard"),
            replicas=config.get("ELASTICSEARCH_REPLICAS", 0),
        )
    return EmbeddedEngine(config["SEARCH_EMBEDDED_PATH"], prefix=config["SEARCH_INDEX_PREFIX"])


class Search:
    """Flask extension; the engine lives in ``app.extensions['search']``."""

    def init_app(self, app: Flask, read_source: Callable[[], SourceState | None]) -> None:
        """``read_source`` reads the database's identity and change sequence, which the indices must project."""
        app.extensions["search"] = make_engine(app.config)
        app.extensions["search_projection"] = ProjectionCheck(read_source, app.config["SEARCH_INDEX_CHECK_SECONDS"])

    @property
    def engine(self) -> SearchEngine:
        return current_app.extensions["search"]

    @property
    def projection(self) -> ProjectionCheck:
        return current_app.extensions["search_projection"]

    def database_source(self) -> SourceState | None:
        return self.projection.read_source()

    def states(self, force: bool = False) -> dict[str, IndexState]:
        """Each index: matching the database, stale, or being rebuilt (memoized, see ProjectionCheck)."""
        return self.projection.states(self.engine, force)

    def query(self, definition: IndexDefinition, query: SearchQuery) -> SearchResult:
        """Search the live index; IndexStale (a 503) while it does not project this database."""
        self.projection.require(self.engine, definition)
        return self.engine.search(definition, query)

    def ensure_indices(self) -> None:
        for definition in DEFINITIONS.values():
            self.engine.ensure_index(definition)


search = Search()

__all__ = ["DEFINITIONS", "SearchUnavailable", "make_engine", "search"]

"""Search: one interface, two engines (Elasticsearch, embedded SQLite FTS5), chosen by configuration."""

from __future__ import annotations

from flask import Flask, current_app

from .elastic import ElasticsearchEngine
from .embedded import EmbeddedEngine
from .interfaces import SearchEngine, SearchUnavailable
from .mappings import DEFINITIONS


def make_engine(config: dict) -> SearchEngine:
    if config.get("ELASTICSEARCH_URL"):
        return ElasticsearchEngine(
            config["ELASTICSEARCH_URL"],
            prefix=config["SEARCH_INDEX_PREFIX"],
            analyzer=config.get("ELASTICSEARCH_TEXT_ANALYZER", "standard"),
        )
    return EmbeddedEngine(config["SEARCH_EMBEDDED_PATH"], prefix=config["SEARCH_INDEX_PREFIX"])


class Search:
    """Flask extension; the engine lives in ``app.extensions['search']``."""

    def init_app(self, app: Flask) -> None:
        app.extensions["search"] = make_engine(app.config)

    @property
    def engine(self) -> SearchEngine:
        return current_app.extensions["search"]

    def ensure_indices(self) -> None:
        for definition in DEFINITIONS.values():
            self.engine.ensure_index(definition)


search = Search()

__all__ = ["DEFINITIONS", "SearchUnavailable", "make_engine", "search"]

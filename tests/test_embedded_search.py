"""The embedded engine's own storage: an index written in an earlier layout is upgraded in place; the two ways
it reads a page without text give the same pages."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from search_index import embedded
from search_index.embedded import EmbeddedEngine
from search_index.interfaces import Document, SearchQuery
from tests.contract.test_search_contract import CONTRACT, DOCS, MANY, every_page, filtered_by_date, many_body


def _earlier_layout(path: str, alias: str) -> None:
    """What the engine wrote before keys and combos: docs with sort_date, unigram FTS, a terms table."""
    physical = f"{alias}_v1_1"
    conn = sqlite3.connect(path)
    conn.executescript(
        f"""
        CREATE TABLE aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL);
        INSERT INTO aliases VALUES ('{alias}', '{physical}');
        CREATE TABLE "{physical}_docs" (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
            version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, sort_date TEXT, body TEXT);
        CREATE VIRTUAL TABLE "{physical}_fts" USING fts5(title, content);
        CREATE TABLE "{physical}_terms" (field TEXT NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL,
            PRIMARY KEY (field, value, rid)) WITHOUT ROWID;
        """
    )
    for rid, (doc_id, body) in enumerate(DOCS.items(), start=1):
        conn.execute(
            f'INSERT INTO "{physical}_docs" VALUES (?, ?, 3, 0, ?, ?)',
            (rid, doc_id, body["date"], json.dumps(body, ensure_ascii=False)),
        )
    conn.execute(f'INSERT INTO "{physical}_docs" (id, version, deleted) VALUES (?, 7, 1)', ("gone",))
    conn.commit()
    conn.close()


def test_an_index_of_the_earlier_layout_is_upgraded_with_its_documents_and_tombstones(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    engine = EmbeddedEngine(path, prefix="u")
    _earlier_layout(path, engine.alias(CONTRACT))

    engine.ensure_index(CONTRACT)

    assert engine.count(CONTRACT) == 4
    result = engine.search(CONTRACT, SearchQuery(text="行政处罚", facets=("kind",)))
    assert [hit.id for hit in result.hits] == ["penalty", "body_only"]
    assert result.facets["kind"] == {"penalty": 1, "statistics": 1}
    # Versions and tombstones came along: a late write is still refused.
    assert engine.write(CONTRACT, [Document("penalty", 2, DOCS["penalty"])]).stale == 1
    assert engine.write(CONTRACT, [Document("gone", 6, DOCS["penalty"])]).stale == 1
    engine.ensure_index(CONTRACT)  # nothing left to upgrade
    assert engine.count(CONTRACT) == 4
    engine.close()


def _indices(path: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        conn.close()


def test_ensuring_an_index_adds_the_lookups_it_was_built_without(tmp_path):
    path = str(tmp_path / "ix.sqlite3")
    engine = EmbeddedEngine(path, prefix="k")
    engine.ensure_index(CONTRACT)
    engine.write(CONTRACT, [Document(doc_id, 1, body) for doc_id, body in DOCS.items()])
    physical = engine._read_target(engine._connect(), CONTRACT)
    engine._connect().execute(f'DROP INDEX "{physical}_docs_combo"')  # as built before it existed

    engine.ensure_index(CONTRACT)

    assert f"{physical}_docs_combo" in _indices(path)
    result = engine.search(CONTRACT, SearchQuery(filters={"kind": ["penalty"]}, sort="date"))
    assert [hit.id for hit in result.hits] == ["penalty"]
    engine.close()


@pytest.mark.parametrize("kinds", [["c"], ["a", "b"]])
def test_a_page_without_text_is_the_same_read_by_combo_or_walked_by_date(tmp_path, monkeypatch, kinds):
    """Up to _SORT_UP_TO documents passing the filters are read by combo and sorted; more are walked newest
    first. Both give every page alike."""
    engine = EmbeddedEngine(str(tmp_path / "p.sqlite3"), prefix="p")
    engine.ensure_index(CONTRACT)
    engine.write(CONTRACT, [Document(f"m{n:04d}", 1, many_body(n)) for n in range(MANY)])
    date_from, date_to = dt.date(2025, 2, 1), dt.date(2025, 11, 30)
    query = {"filters": {"kind": kinds}, "date_from": date_from, "date_to": date_to, "sort": "date", "page_size": 7}
    by_combo = every_page(engine, **query)
    monkeypatch.setattr(embedded, "_SORT_UP_TO", 0)
    walked = every_page(engine, **query)
    assert by_combo == walked
    assert sorted(walked) == sorted(filtered_by_date(kinds, date_from, date_to))
    engine.close()

"""The embedded engine's own storage: an index written in an earlier layout is upgraded in place."""

from __future__ import annotations

import json
import sqlite3

from search_index.embedded import EmbeddedEngine
from search_index.interfaces import Document, SearchQuery
from tests.contract.test_search_contract import CONTRACT, DOCS


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

"""The embedded engine: SQLite FTS5 in a file of its own, no server.

Per physical index three tables: ``<ix>_docs`` (id, version, body; a deleted document stays
as a versioned tombstone so a late write cannot resurrect it), ``<ix>_fts`` (the text fields,
segmented by ``analysis.segment``) and ``<ix>_terms`` (keyword values, for filters and facets).
An ``aliases`` table maps each alias to its physical index; a ``<alias>__building`` row names
an index being rebuilt, which receives every write too until the swap.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import analysis
from .interfaces import (
    Deletion,
    Document,
    Hit,
    IndexDefinition,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    WriteReport,
)

_BUILDING = "__building"
_SAFE = re.compile(r"[^a-z0-9_]")
# SQLite's limit on bound parameters is 32766 in 3.32+; keep IN-lists well under it.
_BATCH = 500


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, path: str, prefix: str) -> None:
        self.path = path
        self.prefix = _SAFE.sub("_", prefix.lower())
        self._local = threading.local()

    # -- connections -------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL)")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise SearchUnavailable(f"embedded search: {exc}") from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- names -------------------------------------------------------------------------
    def alias(self, definition: IndexDefinition) -> str:
        return f"{self.prefix}_{_SAFE.sub('_', definition.name)}"

    def _target(self, conn: sqlite3.Connection, alias: str) -> str | None:
        row = conn.execute("SELECT target FROM aliases WHERE alias = ?", (alias,)).fetchone()
        return row[0] if row else None

    def _write_targets(self, conn: sqlite3.Connection, definition: IndexDefinition) -> list[str]:
        alias = self.alias(definition)
        targets = [self._target(conn, alias), self._target(conn, alias + _BUILDING)]
        return [t for t in targets if t]

    def _read_target(self, conn: sqlite3.Connection, definition: IndexDefinition) -> str:
        target = self._target(conn, self.alias(definition))
        if target is None:
            raise SearchUnavailable(f"index {definition.name!r} does not exist")
        return target

    # -- schema ------------------------------------------------------------------------
    def _create_physical(self, conn: sqlite3.Connection, definition: IndexDefinition) -> str:
        physical = f"{self.alias(definition)}_v{definition.version}_{time.time_ns()}"
        columns = ", ".join(_SAFE.sub("_", f) for f in definition.text_fields)
        conn.execute(
            f'CREATE TABLE "{physical}_docs" (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, '
            "version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, sort_date TEXT, body TEXT)"
        )
        conn.execute(f'CREATE INDEX "{physical}_docs_date" ON "{physical}_docs" (sort_date)')
        conn.execute(
            f"CREATE VIRTUAL TABLE \"{physical}_fts\" USING fts5({columns}, tokenize = 'unicode61 remove_diacritics 2')"
        )
        conn.execute(
            f'CREATE TABLE "{physical}_terms" (field TEXT NOT NULL, value TEXT NOT NULL, '
            "rid INTEGER NOT NULL, PRIMARY KEY (field, value, rid)) WITHOUT ROWID"
        )
        conn.execute(f'CREATE INDEX "{physical}_terms_rid" ON "{physical}_terms" (rid)')
        return physical

    def _drop_physical(self, conn: sqlite3.Connection, physical: str) -> None:
        for suffix in ("_docs", "_fts", "_terms"):
            conn.execute(f'DROP TABLE IF EXISTS "{physical}{suffix}"')

    def ensure_index(self, definition: IndexDefinition) -> None:
        with self._tx() as conn:
            if self._target(conn, self.alias(definition)) is None:
                physical = self._create_physical(conn, definition)
                conn.execute("INSERT INTO aliases VALUES (?, ?)", (self.alias(definition), physical))

    def drop(self, definition: IndexDefinition) -> None:
        with self._tx() as conn:
            alias = self.alias(definition)
            for name in (alias, alias + _BUILDING):
                target = self._target(conn, name)
                if target:
                    self._drop_physical(conn, target)
                conn.execute("DELETE FROM aliases WHERE alias = ?", (name,))

    # -- writes ------------------------------------------------------------------------
    def write(self, definition: IndexDefinition, changes: Iterable[Document | Deletion]) -> WriteReport:
        changes = list(changes)
        with self._tx() as conn:
            targets = self._write_targets(conn, definition)
            if not targets:
                raise SearchUnavailable(f"index {definition.name!r} does not exist")
            live, *rebuilding = targets
            outcomes = [self._apply(conn, live, definition, c) for c in changes]
            # An index being rebuilt follows along; the report speaks of the live one.
            for physical in rebuilding:
                for change in changes:
                    self._apply(conn, physical, definition, change)
        applied = sum(outcomes)
        return WriteReport(applied=applied, stale=len(outcomes) - applied)

    def _apply(
        self, conn: sqlite3.Connection, physical: str, definition: IndexDefinition, change: Document | Deletion
    ) -> bool:
        row = conn.execute(
            f'SELECT rowid, version, deleted FROM "{physical}_docs" WHERE id = ?', (change.id,)
        ).fetchone()
        if row is not None and row[1] >= change.version:
            return False
        if row is not None:
            rid = row[0]
            conn.execute(f'DELETE FROM "{physical}_fts" WHERE rowid = ?', (rid,))
            conn.execute(f'DELETE FROM "{physical}_terms" WHERE rid = ?', (rid,))
        if isinstance(change, Deletion):
            if row is None:
                conn.execute(
                    f'INSERT INTO "{physical}_docs" (id, version, deleted) VALUES (?, ?, 1)',
                    (change.id, change.version),
                )
            else:
                conn.execute(
                    f'UPDATE "{physical}_docs" SET version = ?, deleted = 1, body = NULL, sort_date = NULL '
                    "WHERE rowid = ?",
                    (change.version, rid),
                )
            return True
        body = change.body
        sort_date = _iso_date(body.get(definition.date_field)) if definition.date_field else None
        if row is None:
            rid = conn.execute(
                f'INSERT INTO "{physical}_docs" (id, version, deleted, sort_date, body) VALUES (?, ?, 0, ?, ?)',
                (change.id, change.version, sort_date, json.dumps(body, ensure_ascii=False)),
            ).lastrowid
        else:
            conn.execute(
                f'UPDATE "{physical}_docs" SET version = ?, deleted = 0, sort_date = ?, body = ? WHERE rowid = ?',
                (change.version, sort_date, json.dumps(body, ensure_ascii=False), rid),
            )
        texts = [analysis.segment(_text(body.get(f))) for f in definition.text_fields]
        placeholders = ", ".join("?" for _ in texts)
        conn.execute(
            f'INSERT INTO "{physical}_fts" (rowid, {_columns(definition)}) VALUES (?, {placeholders})', (rid, *texts)
        )
        terms = {(field, str(value)) for field in definition.keyword_fields for value in _values(body.get(field))}
        conn.executemany(
            f'INSERT INTO "{physical}_terms" (field, value, rid) VALUES (?, ?, ?)', [(f, v, rid) for f, v in terms]
        )
        return True

    def reindex(self, definition: IndexDefinition, documents: Iterable[Document]) -> str:
        alias = self.alias(definition)
        with self._tx() as conn:
            if self._target(conn, alias + _BUILDING):
                raise SearchUnavailable(f"a rebuild of {definition.name!r} is already running")
            physical = self._create_physical(conn, definition)
            conn.execute("INSERT INTO aliases VALUES (?, ?)", (alias + _BUILDING, physical))
        try:
            batch: list[Document] = []
            for document in documents:
                batch.append(document)
                if len(batch) >= _BATCH:
                    self._load(physical, definition, batch)
                    batch = []
            self._load(physical, definition, batch)
        except BaseException:
            with self._tx() as conn:
                conn.execute("DELETE FROM aliases WHERE alias = ?", (alias + _BUILDING,))
                self._drop_physical(conn, physical)
            raise
        with self._tx() as conn:
            old = self._target(conn, alias)
            conn.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (alias, physical))
            conn.execute("DELETE FROM aliases WHERE alias = ?", (alias + _BUILDING,))
            if old:
                self._drop_physical(conn, old)
        return physical

    def _load(self, physical: str, definition: IndexDefinition, batch: list[Document]) -> None:
        with self._tx() as conn:
            for document in batch:
                self._apply(conn, physical, definition, document)

    def refresh(self, definition: IndexDefinition) -> None:
        """Writes are visible on commit."""

    def count(self, definition: IndexDefinition) -> int:
        conn = self._connect()
        physical = self._read_target(conn, definition)
        return conn.execute(f'SELECT count(*) FROM "{physical}_docs" WHERE deleted = 0').fetchone()[0]

    # -- reads -------------------------------------------------------------------------
    def search(self, definition: IndexDefinition, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        try:
            return self._search(definition, query, started)
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"embedded search: {exc}") from exc

    def _search(self, definition: IndexDefinition, query: SearchQuery, started: float) -> SearchResult:
        conn = self._connect()
        physical = self._read_target(conn, definition)
        docs, fts, terms_table = f'"{physical}_docs"', f'"{physical}_fts"', f'"{physical}_terms"'
        terms = analysis.query_terms(query.text)
        where, params = [], []
        if terms:
            weights = ", ".join(str(w) for w in definition.text_fields.values())
            # Sorting by date needs no relevance score: skip bm25() over every match.
            score = "0.0" if query.sort == "date" else f"bm25({fts}, {weights})"
            source = (
                f"SELECT d.rowid AS rid, {score} AS score, d.sort_date AS sort_date "
                f"FROM {fts} JOIN {docs} d ON d.rowid = {fts}.rowid WHERE {fts} MATCH ?"
            )
            params.append(" AND ".join(_fts_phrase(t) for t in terms))
        else:
            source = f"SELECT rowid AS rid, 0.0 AS score, sort_date FROM {docs} d WHERE d.deleted = 0"
        for field, values in query.filters.items():
            values = [str(v) for v in values]
            if not values:
                continue
            marks = ", ".join("?" for _ in values)
            where.append(f"d.rowid IN (SELECT rid FROM {terms_table} WHERE field = ? AND value IN ({marks}))")
            params.extend([field, *values])
        if query.date_from:
            where.append("d.sort_date >= ?")
            params.append(query.date_from.isoformat())
        if query.date_to:
            where.append("d.sort_date <= ?")
            params.append(query.date_to.isoformat())
        if where:
            source += " AND " + " AND ".join(where)

        conn.execute("CREATE TEMP TABLE IF NOT EXISTS hits (rid INTEGER PRIMARY KEY, score REAL, sort_date TEXT)")
        conn.execute("DELETE FROM temp.hits")
        conn.execute(f"INSERT INTO temp.hits {source}", params)
        total = conn.execute("SELECT count(*) FROM temp.hits").fetchone()[0]
        # bm25() is lower-is-better; ties and sort=date fall back to newest first.
        order = (
            "h.sort_date DESC, h.score, h.rid DESC" if query.sort == "date" else "h.score, h.sort_date DESC, h.rid DESC"
        )
        rows = conn.execute(
            f"SELECT d.id, h.score, d.body FROM temp.hits h JOIN {docs} d ON d.rowid = h.rid "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            (query.page_size, (query.page - 1) * query.page_size),
        ).fetchall()
        facets = {}
        # Few hits: walk the hits and look up their terms; many: scan the field's terms once (SQLite
        # would otherwise always pick the scan, which costs the whole index even for a rare word).
        few = total * 4 < self._field_size(conn, terms_table)
        for field in query.facets:
            join = (
                f"temp.hits h CROSS JOIN {terms_table} t ON t.rid = h.rid"
                if few
                else (f"{terms_table} t JOIN temp.hits h ON h.rid = t.rid")
            )
            counts = conn.execute(
                f"SELECT t.value, count(*) AS n FROM {join} "
                "WHERE t.field = ? GROUP BY t.value ORDER BY n DESC, t.value LIMIT 50",
                (field,),
            ).fetchall()
            facets[field] = dict(counts)
        hits = []
        for doc_id, score, body in rows:
            source_body = json.loads(body)
            highlights = {}
            for field in definition.highlight_fields:
                fragment = analysis.highlight(_text(source_body.get(field)), terms)
                if fragment:
                    highlights[field] = fragment
            hits.append(Hit(id=doc_id, score=-score, highlights=highlights))
        return SearchResult(hits=hits, total=total, facets=facets, took_ms=(time.perf_counter() - started) * 1000)

    def _field_size(self, conn: sqlite3.Connection, terms_table: str) -> int:
        """Documents in the index (cached per connection for a minute): the scale the plan choice needs."""
        cached = getattr(self._local, "sizes", {}).get(terms_table)
        if cached and time.monotonic() - cached[1] < 60:
            return cached[0]
        docs = terms_table.replace("_terms", "_docs")
        size = conn.execute(f"SELECT count(*) FROM {docs} WHERE deleted = 0").fetchone()[0]
        self._local.sizes = {**getattr(self._local, "sizes", {}), terms_table: (size, time.monotonic())}
        return size

    def health(self) -> dict[str, Any]:
        try:
            conn = self._connect()
            aliases = dict(conn.execute("SELECT alias, target FROM aliases").fetchall())
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"embedded search: {exc}") from exc
        return {"engine": self.name, "path": self.path, "indices": len(aliases)}


def _columns(definition: IndexDefinition) -> str:
    return ", ".join(_SAFE.sub("_", f) for f in definition.text_fields)


def _fts_phrase(term: str) -> str:
    return '"' + " ".join(analysis.tokens(term)).replace('"', '""') + '"'


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    return str(value)


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _iso_date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value)[:10]

"""The embedded engine: SQLite FTS5 in a file of its own, no server.

Per physical index three tables: ``<ix>_docs`` (id, version, body; a deleted document stays
as a versioned tombstone so a late write cannot resurrect it), ``<ix>_fts`` (the text fields as
``analysis.tokens`` splits them, each field twice: its tokens, for one-token terms, and in a
``<field>__pairs`` column every two adjacent tokens as one (执法 is ``执_法``), so a 2-character word
is one token's posting list and a phrase needs one position check fewer) and ``<ix>_combos`` (each
distinct combination of a document's keyword values gets a small number, with the count of live
documents that have it).
An ``aliases`` table maps each alias to its physical index; a ``<alias>__building`` row names
an index being rebuilt, which receives every write too until the swap. A ``sources`` table holds, per
physical index, the database it projects and the last change sequence it has seen.

A document's FTS rowid is its *key*: ``date << 46 | docs rowid << 20 | combo`` (date in days since
1900-01-01, 0 when missing). So FTS5 hands out matches newest first (``ORDER BY rowid DESC LIMIT``
stops after a page), a date range is a rowid range, and counting matches per combo
(``GROUP BY rowid & mask``) gives the total and every facet in one pass over the matches without
touching another table; keyword filters keep the matching combos (a facet those of every filter
but its own field's). Relevance puts documents whose first-weighted field (the title) matches every
term first, newest first within each tier: no per-match scoring, which cost more than everything else
at 100,000 documents.
"""

from __future__ import annotations

import datetime as dt
import itertools
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
    SourceState,
    WriteReport,
)

_BUILDING = "__building"
_SAFE = re.compile(r"[^a-z0-9_]")
# SQLite's limit on bound parameters is 32766 in 3.32+; keep IN-lists well under it.
_BATCH = 500
# Layout of a document's key (its FTS rowid): 17 bits of date, 26 of docs rowid, 20 of combo.
_COMBO_BITS = 20
_ROW_BITS = 26
_DAY_SHIFT = _COMBO_BITS + _ROW_BITS
_COMBO_MASK = (1 << _COMBO_BITS) - 1
_MAX_DAY = (1 << (63 - _DAY_SHIFT)) - 1
_MAX_KEY = (1 << 63) - 1
_EPOCH = dt.date(1900, 1, 1)


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, path: str, prefix: str) -> None:
        self.path = path
        self.prefix = _SAFE.sub("_", prefix.lower())
        self._local = threading.local()
        # physical index -> ({combo: keyword values per field}, newest combo); combos are only ever added.
        self._combos: dict[str, tuple[dict[int, tuple[frozenset[str], ...]], int]] = {}
        self._combos_lock = threading.Lock()

    # -- connections -------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA mmap_size=268435456")
            conn.execute("PRAGMA cache_size=-32000")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS sources (physical TEXT PRIMARY KEY, database TEXT NOT NULL, "
                "sequence INTEGER NOT NULL)"
            )
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
        columns = _columns(definition)
        conn.execute(
            f'CREATE TABLE "{physical}_docs" (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, '
            "version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, key INTEGER, body TEXT)"
        )
        conn.execute(f'CREATE UNIQUE INDEX "{physical}_docs_key" ON "{physical}_docs" (key)')
        # Token pairs hold a "_", which the segmented text never does.
        tokenizer = "unicode61 remove_diacritics 2 tokenchars '_'"
        conn.execute(f'CREATE VIRTUAL TABLE "{physical}_fts" USING fts5({columns}, tokenize = "{tokenizer}")')
        conn.execute(
            f'CREATE TABLE "{physical}_combos" (combo INTEGER PRIMARY KEY, fields TEXT NOT NULL UNIQUE, '
            "n INTEGER NOT NULL DEFAULT 0)"
        )
        return physical

    def _drop_physical(self, conn: sqlite3.Connection, physical: str) -> None:
        for suffix in ("_docs", "_fts", "_combos", "_terms"):
            conn.execute(f'DROP TABLE IF EXISTS "{physical}{suffix}"')
        conn.execute("DELETE FROM sources WHERE physical = ?", (physical,))

    def _record(self, conn: sqlite3.Connection, physical: str, source: SourceState) -> None:
        conn.execute(
            "INSERT INTO sources VALUES (?, ?, ?) ON CONFLICT (physical) DO UPDATE SET "
            "sequence = CASE WHEN database = excluded.database THEN max(sequence, excluded.sequence) "
            "ELSE excluded.sequence END, database = excluded.database",
            (physical, source.database, source.sequence),
        )

    def record_source(self, definition: IndexDefinition, source: SourceState) -> None:
        with self._tx() as conn:
            targets = self._write_targets(conn, definition)
            if not targets:
                raise SearchUnavailable(f"index {definition.name!r} does not exist")
            for physical in targets:
                self._record(conn, physical, source)

    def source(self, definition: IndexDefinition, building: bool = False) -> SourceState | None:
        try:
            conn = self._connect()
            alias = self.alias(definition) + (_BUILDING if building else "")
            row = conn.execute(
                "SELECT database, sequence FROM aliases JOIN sources ON physical = target WHERE alias = ?", (alias,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"embedded search: {exc}") from exc
        return SourceState(row[0], row[1]) if row else None

    def mapping_version(self, definition: IndexDefinition, building: bool = False) -> int | None:
        try:
            physical = self._target(self._connect(), self.alias(definition) + (_BUILDING if building else ""))
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"embedded search: {exc}") from exc
        # <alias>_v<version>_<ns>, as _create_physical names it
        return int(physical.rsplit("_", 2)[1][1:]) if physical else None

    def ensure_index(self, definition: IndexDefinition) -> None:
        with self._tx() as conn:
            for alias in (self.alias(definition), self.alias(definition) + _BUILDING):
                target = self._target(conn, alias)
                if target is None and alias == self.alias(definition):
                    physical = self._create_physical(conn, definition)
                    conn.execute("INSERT INTO aliases VALUES (?, ?)", (alias, physical))
                elif target is not None and not self._current_layout(conn, definition, target):
                    self._upgrade(conn, definition, alias, target)

    def _current_layout(self, conn: sqlite3.Connection, definition: IndexDefinition, physical: str) -> bool:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (f"{physical}_combos",)).fetchone():
            return False
        pairs = _pairs_column(next(iter(definition.text_fields)))
        return conn.execute("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", (f"{physical}_fts", pairs)).fetchone()

    def _upgrade(self, conn: sqlite3.Connection, definition: IndexDefinition, alias: str, old: str) -> None:
        """An index of the earlier layout (keyword values in a ``_terms`` table) is copied into the
        current one from its own stored documents and tombstones, then swapped in."""
        physical = self._create_physical(conn, definition)
        rows = conn.execute(f'SELECT id, version, deleted, body FROM "{old}_docs" ORDER BY rowid').fetchall()
        for doc_id, version, deleted, body in rows:
            change = Deletion(doc_id, version) if deleted else Document(doc_id, version, json.loads(body))
            self._apply(conn, physical, definition, change)
        conn.execute(f'INSERT INTO "{physical}_fts" ("{physical}_fts") VALUES (\'optimize\')')
        conn.execute("UPDATE aliases SET target = ? WHERE alias = ?", (physical, alias))
        conn.execute("UPDATE sources SET physical = ? WHERE physical = ?", (physical, old))
        self._drop_physical(conn, old)

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
        docs, combos = f'"{physical}_docs"', f'"{physical}_combos"'
        row = conn.execute(f"SELECT rowid, version, key FROM {docs} WHERE id = ?", (change.id,)).fetchone()
        if row is not None and row[1] >= change.version:
            return False
        if row is not None and row[2] is not None:
            conn.execute(f'DELETE FROM "{physical}_fts" WHERE rowid = ?', (row[2],))
            conn.execute(f"UPDATE {combos} SET n = n - 1 WHERE combo = ?", (row[2] & _COMBO_MASK,))
        if isinstance(change, Deletion):
            if row is None:
                conn.execute(f"INSERT INTO {docs} (id, version, deleted) VALUES (?, ?, 1)", (change.id, change.version))
            else:
                conn.execute(
                    f"UPDATE {docs} SET version = ?, deleted = 1, body = NULL, key = NULL WHERE rowid = ?",
                    (change.version, row[0]),
                )
            return True
        body = change.body
        text = json.dumps(body, ensure_ascii=False)
        if row is None:
            rid = conn.execute(
                f"INSERT INTO {docs} (id, version, deleted, body) VALUES (?, ?, 0, ?)",
                (change.id, change.version, text),
            ).lastrowid
        else:
            rid = row[0]
            conn.execute(
                f"UPDATE {docs} SET version = ?, deleted = 0, body = ? WHERE rowid = ?", (change.version, text, rid)
            )
        if rid >= 1 << _ROW_BITS:
            raise SearchUnavailable(f"embedded search: index {physical!r} is full, rebuild it")
        combo = self._combo_of(conn, physical, definition, body)
        day = _day(body.get(definition.date_field)) if definition.date_field else 0
        key = day << _DAY_SHIFT | rid << _COMBO_BITS | combo
        conn.execute(f"UPDATE {docs} SET key = ? WHERE rowid = ?", (key, rid))
        conn.execute(f"UPDATE {combos} SET n = n + 1 WHERE combo = ?", (combo,))
        texts = []
        for field in definition.text_fields:
            tokens = analysis.tokens(analysis.field_text(body.get(field)))
            texts += [" ".join(tokens), " ".join(_pairs(tokens))]
        placeholders = ", ".join("?" for _ in texts)
        conn.execute(
            f'INSERT INTO "{physical}_fts" (rowid, {_columns(definition)}) VALUES (?, {placeholders})', (key, *texts)
        )
        return True

    def _combo_of(
        self, conn: sqlite3.Connection, physical: str, definition: IndexDefinition, body: dict[str, Any]
    ) -> int:
        values = [sorted({str(v) for v in _values(body.get(field))}) for field in definition.keyword_fields]
        fields = json.dumps(values, ensure_ascii=False)
        combos = f'"{physical}_combos"'
        row = conn.execute(f"SELECT combo FROM {combos} WHERE fields = ?", (fields,)).fetchone()
        if row is not None:
            return row[0]
        combo = conn.execute(f"INSERT INTO {combos} (fields) VALUES (?)", (fields,)).lastrowid
        if combo > _COMBO_MASK:
            raise SearchUnavailable(f"embedded search: too many keyword combinations in {physical!r}")
        return combo

    def reindex(
        self, definition: IndexDefinition, documents: Iterable[Document], source: SourceState | None = None
    ) -> str:
        alias = self.alias(definition)
        with self._tx() as conn:
            if self._target(conn, alias + _BUILDING):
                raise SearchUnavailable(f"a rebuild of {definition.name!r} is already running")
            physical = self._create_physical(conn, definition)
            conn.execute("INSERT INTO aliases VALUES (?, ?)", (alias + _BUILDING, physical))
            if source is not None:
                self._record(conn, physical, source)
        try:
            batch: list[Document] = []
            for document in documents:
                batch.append(document)
                if len(batch) >= _BATCH:
                    self._load(physical, definition, batch)
                    batch = []
            self._load(physical, definition, batch)
            # Batches leave many small FTS segments; a query reads each. Merge them into one.
            with self._tx() as conn:
                conn.execute(f'INSERT INTO "{physical}_fts" ("{physical}_fts") VALUES (\'optimize\')')
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
        docs, fts = f'"{physical}_docs"', f'"{physical}_fts"'
        terms = analysis.query_terms(query.text)
        combos = self._combo_map(conn, physical)
        lo, hi = _key_range(query.date_from, query.date_to)
        match = " AND ".join(_fts_phrase(t) for t in terms)

        # One pass over the matches: how many per combo. Total, filters and facets follow from it.
        # A faceted field's own filter does not narrow its facet (disjunctive facets), so the pass counts
        # the matches of the other filters only; with no faceted field filtered that is every filter.
        own = {name for name in query.facets if query.filters.get(name)}
        counted = _accepting(definition, _without(query.filters, own), combos)
        # Filters that keep few combos are checked in SQL, so fewer matches reach the grouping.
        narrow = json.dumps(sorted(counted)) if counted is not None and len(counted) * 2 < len(combos) else None
        if counted is not None and not counted:
            rows = []
        elif terms:
            rows = conn.execute(
                f"SELECT rowid & {_COMBO_MASK}, count(*) FROM {fts} WHERE {fts} MATCH ? AND rowid BETWEEN ? AND ? "
                f"AND (? IS NULL OR rowid & {_COMBO_MASK} IN (SELECT value FROM json_each(?))) GROUP BY 1",
                (match, lo, hi, narrow, narrow),
            ).fetchall()
        elif query.date_from or query.date_to:
            rows = conn.execute(
                f"SELECT key & {_COMBO_MASK}, count(*) FROM {docs} WHERE key BETWEEN ? AND ? "
                f"AND (? IS NULL OR key & {_COMBO_MASK} IN (SELECT value FROM json_each(?))) GROUP BY 1",
                (lo, hi, narrow, narrow),
            ).fetchall()
        else:
            rows = conn.execute(f'SELECT combo, n FROM "{physical}_combos" WHERE n > 0').fetchall()
        matched = {combo: n for combo, n in rows if counted is None or combo in counted}
        # Every filter, then every filter but a faceted field's own, checked on the matched combos only.
        held = {combo: combos[combo] for combo in matched} if own else combos
        accepted = _accepting(definition, query.filters, held) if own else counted
        counts = _within(matched, accepted)
        total = sum(counts.values())
        scopes = {
            name: _within(matched, _accepting(definition, _without(query.filters, {name}), held))
            if name in own
            else counts
            for name in query.facets
        }
        facets = _facets(definition, scopes, combos)

        # Only the combos that have matches, when filters keep some of them.
        only = json.dumps(sorted(counts)) if accepted is not None else None
        keys = self._page_keys(conn, docs, fts, definition, query, terms, match, (lo, hi), total, only)
        hits = self._hits(conn, docs, definition, terms, keys)
        return SearchResult(hits=hits, total=total, facets=facets, took_ms=(time.perf_counter() - started) * 1000)

    def _page_keys(
        self,
        conn: sqlite3.Connection,
        docs: str,
        fts: str,
        definition: IndexDefinition,
        query: SearchQuery,
        terms: list[str],
        match: str,
        key_range: tuple[int, int],
        total: int,
        only: str | None,
    ) -> list[tuple[int, float]]:
        """The page's keys and scores: newest first, the title tier first for relevance."""
        lo, hi = key_range
        top = max(definition.text_fields, key=lambda f: definition.text_fields[f])
        offset, limit = (query.page - 1) * query.page_size, query.page_size
        keys: list[tuple[int, float]] = []
        if not total or limit <= 0:
            pass
        elif not terms:
            keys = [(k, 0.0) for k in self._page(conn, docs, "key", None, lo, hi, only, limit, offset)]
        elif query.sort == "date":
            keys = [(k, 0.0) for k in self._page(conn, fts, "rowid", match, lo, hi, only, limit, offset)]
        else:
            in_title = " AND ".join(_fts_phrase(t, top) for t in terms)
            first = self._page(conn, fts, "rowid", in_title, lo, hi, only, limit, offset)
            keys = [(k, 2.0) for k in first]
            if len(first) < limit:
                # The page runs past the title tier: its size is known unless the page starts beyond it.
                tier = offset + len(first) if first else self._count(conn, fts, in_title, lo, hi, only)
                rest = self._page(
                    conn,
                    fts,
                    "rowid",
                    f"({match}) NOT ({in_title})",
                    lo,
                    hi,
                    only,
                    limit - len(first),
                    max(0, offset - tier),
                )
                keys += [(k, 1.0) for k in rest]
        return keys

    def _hits(
        self,
        conn: sqlite3.Connection,
        docs: str,
        definition: IndexDefinition,
        terms: list[str],
        keys: list[tuple[int, float]],
    ) -> list[Hit]:
        """The page's hits, in the order of ``keys``, with their highlights."""
        rows_by_key = {}
        if keys:
            marks = ", ".join("?" for _ in keys)
            found = conn.execute(f"SELECT key, id, body FROM {docs} WHERE key IN ({marks})", [k for k, _ in keys])
            rows_by_key = {key: (doc_id, body) for key, doc_id, body in found.fetchall()}
        hits = []
        for key, score in keys:
            doc_id, body = rows_by_key[key]
            source_body = json.loads(body)
            highlights = {}
            for field in definition.highlight_fields:
                whole = field in definition.whole_fields
                fragment = analysis.highlight(analysis.field_text(source_body.get(field)), terms, whole=whole)
                if fragment:
                    highlights[field] = fragment
            hits.append(Hit(id=doc_id, score=score, highlights=highlights))
        return hits

    def _page(
        self,
        conn: sqlite3.Connection,
        table: str,
        key: str,
        match: str | None,
        lo: int,
        hi: int,
        only: str | None,
        limit: int,
        offset: int,
    ) -> list[int]:
        """Keys newest first; ``only`` (a JSON list of combos) when filters keep some of them."""
        where = [f"{key} BETWEEN ? AND ?"]
        params: list[Any] = [lo, hi]
        if match is not None:
            where.insert(0, f"{table} MATCH ?")
            params.insert(0, match)
        if only is not None:
            where.append(f"{key} & {_COMBO_MASK} IN (SELECT value FROM json_each(?))")
            params.append(only)
        sql = f"SELECT {key} FROM {table} WHERE {' AND '.join(where)} ORDER BY {key} DESC LIMIT ? OFFSET ?"
        return [row[0] for row in conn.execute(sql, (*params, limit, offset)).fetchall()]

    def _count(self, conn: sqlite3.Connection, fts: str, match: str, lo: int, hi: int, only: str | None) -> int:
        sql = f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ? AND rowid BETWEEN ? AND ?"
        params: list[Any] = [match, lo, hi]
        if only is not None:
            sql += f" AND rowid & {_COMBO_MASK} IN (SELECT value FROM json_each(?))"
            params.append(only)
        return conn.execute(sql, params).fetchone()[0]

    def _combo_map(self, conn: sqlite3.Connection, physical: str) -> dict[int, tuple[frozenset[str], ...]]:
        """Every combo of the index, read once per process and then only the ones added since.

        A snapshot: other threads get a new dict when combos are added, never a changing one."""
        known, newest = self._combos.get(physical, ({}, 0))
        added = conn.execute(
            f'SELECT combo, fields FROM "{physical}_combos" WHERE combo > ? ORDER BY combo', (newest,)
        ).fetchall()
        if not added:
            return known
        with self._combos_lock:
            known, newest = self._combos.get(physical, ({}, 0))
            fresh = {c: tuple(frozenset(v) for v in json.loads(fields)) for c, fields in added if c > newest}
            if fresh:
                known = {**known, **fresh}
                self._combos[physical] = (known, max(fresh))
        return known

    def health(self) -> dict[str, Any]:
        try:
            conn = self._connect()
            aliases = dict(conn.execute("SELECT alias, target FROM aliases").fetchall())
        except sqlite3.Error as exc:
            raise SearchUnavailable(f"embedded search: {exc}") from exc
        return {"engine": self.name, "path": self.path, "indices": len(aliases)}


def _columns(definition: IndexDefinition) -> str:
    return ", ".join(f"{_SAFE.sub('_', f)}, {_pairs_column(f)}" for f in definition.text_fields)


def _pairs_column(field: str) -> str:
    return f"{_SAFE.sub('_', field)}__pairs"


def _pairs(tokens: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in itertools.pairwise(tokens)]


def _fts_phrase(term: str, field: str | None = None) -> str:
    """A term as an FTS5 phrase: its token pairs when it has two tokens or more, else its one token.

    Tokens never hold ``_`` or ``"`` (analysis.tokens keeps letters and digits only)."""
    tokens = analysis.tokens(term)
    if len(tokens) >= 2:
        phrase, column = '"' + " ".join(_pairs(tokens)) + '"', _pairs_column(field) if field else None
    else:
        phrase, column = '"' + tokens[0] + '"', _SAFE.sub("_", field) if field else None
    return f"{column} : {phrase}" if column else phrase


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


def _accepting(
    definition: IndexDefinition, filters: Any, combos: dict[int, tuple[frozenset[str], ...]]
) -> set[int] | None:
    """The combos every filter accepts (OR within a field, AND across fields); None without filters."""
    wanted = [(field, {str(v) for v in values}) for field, values in filters.items() if values]
    if not wanted:
        return None
    fields = list(definition.keyword_fields)
    if any(field not in fields for field, _ in wanted):
        return set()
    positions = [(fields.index(field), values) for field, values in wanted]
    return {combo for combo, held in combos.items() if all(held[i] & values for i, values in positions)}


def _without(filters: Any, fields: set[str]) -> dict[str, Any]:
    return {field: values for field, values in filters.items() if field not in fields}


def _within(counts: dict[int, int], accepted: set[int] | None) -> dict[int, int]:
    """The counts of the combos ``accepted`` keeps (None keeps every one)."""
    return counts if accepted is None else {combo: n for combo, n in counts.items() if combo in accepted}


def _facets(
    definition: IndexDefinition,
    scopes: dict[str, dict[int, int]],
    combos: dict[int, tuple[frozenset[str], ...]],
) -> dict[str, dict[str, int]]:
    """Per facet, documents per value among its scope's combo counts (a document counts once for each of
    its values), the 50 largest."""
    fields = list(definition.keyword_fields)
    facets = {}
    for name, counts in scopes.items():
        tally: dict[str, int] = {}
        if name in fields:
            i = fields.index(name)
            for combo, n in counts.items():
                for value in combos[combo][i]:
                    tally[value] = tally.get(value, 0) + n
        facets[name] = dict(sorted(tally.items(), key=lambda item: (-item[1], item[0]))[:50])
    return facets


def _day(value: Any) -> int:
    """Days since 1900-01-01 plus one (0: no date); dates before 1900 count as 1900-01-01."""
    iso = _iso_date(value)
    if not iso:
        return 0
    try:
        date = dt.date.fromisoformat(iso)
    except ValueError:
        return 0
    return min(max(1, (date - _EPOCH).days + 1), _MAX_DAY)


def _key_range(date_from: dt.date | None, date_to: dt.date | None) -> tuple[int, int]:
    """Keys of documents dated within the range (inclusive); undated ones fall outside any range."""
    if not date_from and not date_to:
        return 0, _MAX_KEY
    lo = _day(date_from) if date_from else 1
    hi = _day(date_to) if date_to else _MAX_DAY
    return lo << _DAY_SHIFT, ((hi + 1) << _DAY_SHIFT) - 1 if hi < _MAX_DAY else _MAX_KEY

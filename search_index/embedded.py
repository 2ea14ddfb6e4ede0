"""The embedded engine: SQLite FTS5 in a file of its own, no server.

Per physical index four tables: ``<ix>_docs`` (id, version, body, the tokens as indexed, whether it is in
the sample; a deleted document stays as a versioned tombstone so a late write cannot resurrect it),
``<ix>_fts`` (contentless: the text fields as ``analysis.tokens`` splits them, each field twice: its
tokens, for one-token terms, and in a ``<field>__pairs`` column every two adjacent tokens as one (执法 is
``执_法``), so a 2-character word is one token's posting list and a phrase needs one position check
fewer; a ``keys__`` column of the document's keyword values, one token each, so that a filter few documents
pass joins the text's match and FTS5 intersects the postings; a ``tier__`` column of the title's tokens and
pairs again, marked, for relevance's first tier), ``<ix>_sample`` (the same for a 16th of the documents, by a
hash of the id) and ``<ix>_combos`` (each distinct combination of a document's keyword values gets a small
number, with the count of live documents that have it).
An ``aliases`` table maps each alias to its physical index; a ``<alias>__building`` row names
an index being rebuilt, which receives every write too until the swap. A ``sources`` table holds, per
physical index, the database it projects and the last change sequence it has seen.

A document's FTS rowid is its *key*: ``date << 46 | docs rowid << 20 | combo`` (date in days since
1900-01-01, 0 when missing). So FTS5 hands out matches newest first (``ORDER BY rowid DESC LIMIT``
stops after a page), a date range is a rowid range, and counting matches per combo
(``GROUP BY rowid & mask``) gives the total and every facet in one pass over the matches without
touching another table; keyword filters keep the matching combos (a facet those of every filter
but its own field's). That pass stops after ``SearchQuery.exact_up_to`` matches; beyond, the same pass
over the sample, scaled up, estimates the total and the facets (with text or a date range the sample is
counted first, and the exact pass skipped when it shows more matches than that could put there: ``_beyond``).
Relevance puts documents whose first-weighted field (the title) matches every term first, newest first within
each tier: no per-match scoring, which cost more than everything else at 100,000 documents.

A rebuild reads and analyses in the calling thread and writes in another (``_Writer``), each batch
handed to SQLite as one JSON array per table, FTS merging left to one ``optimize`` at the end.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import itertools
import json
import math
import queue
import re
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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
_BATCH = 2000
# Layout of a document's key (its FTS rowid): 17 bits of date, 26 of docs rowid, 20 of combo.
_COMBO_BITS = 20
_ROW_BITS = 26
_DAY_SHIFT = _COMBO_BITS + _ROW_BITS
_COMBO_MASK = (1 << _COMBO_BITS) - 1
_SORT_UP_TO = 10_000  # without text, as many documents passing the filters as are read by combo and sorted
_COMBO_OF_KEY = f"(key & {_COMBO_MASK})"  # as the docs_combo index spells it: a query must spell it the same
_MAX_DAY = (1 << (63 - _DAY_SHIFT)) - 1
_MAX_KEY = (1 << 63) - 1
_EPOCH = dt.date(1900, 1, 1)
SAMPLE_EVERY = 16  # the sample's share of the documents: see _create_physical
_UNSURE = 1e-12  # see _beyond
REBUILD_CACHE_KIB = 256 * 1024  # a rebuild's writing connection's page cache
# FTS5 while a rebuild loads: no merging but when a level holds 64 segments (crisismerge, 16 by default), from
# pending data of 16 MiB (hashsize, 1 MiB by default): larger, fewer segments, each token rewritten fewer times
# (the load alone, 200,000 documents: 3,000 -> 3,300 docs/s). Then SQLite's defaults again, for live writes.
_TOKENIZER = "unicode61 remove_diacritics 2 tokenchars '_'"
# The FTS column of a document's keyword values, one token each (_key_token): a selective filter joins the text's
# match as a term, so FTS5 intersects the two postings rather than the engine walking every match of the text.
_KEYS = "keys__"
# The FTS column of the first-weighted text field's tokens and token pairs again, each marked (t__执, t__执_法), so
# that the title tier (relevance's first) is a match of short postings of its own: checking every match of the
# text for a title match walked all of them when the tier was smaller than a page (14,600 at a million: 17 ms).
_TIER = "tier__"
_TIER_MARK = "t__"
# A filter joins the text's match as keys-column terms when at most this share of the documents passes it; a
# broader one is checked on the combo of each match, as every filter is (intersecting postings that long costs
# more than it saves).
_SELECTIVE = 0.25
_SIZES_FOR_S = 10.0  # how long a process trusts its reading of the documents per combo, for _SELECTIVE
_BULK_FTS = {"automerge": 0, "crisismerge": 64, "hashsize": 16 << 20}
_LIVE_FTS = {"automerge": 4, "crisismerge": 16, "hashsize": 1 << 20}


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, path: str, prefix: str) -> None:
        self.path = path
        self.prefix = _SAFE.sub("_", prefix.lower())
        self._local = threading.local()
        # physical index -> ({combo: keyword values per field}, newest combo); combos are only ever added.
        self._combos: dict[str, tuple[dict[int, tuple[frozenset[str], ...]], int]] = {}
        self._combos_lock = threading.Lock()
        self._present: set[tuple[str, ...]] = set()  # _built_with's checks known to find their lookup or column
        self._sizes: dict[str, tuple[float, dict[int, int]]] = {}  # physical -> (when read, documents per combo)

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
    def _create_physical(self, conn: sqlite3.Connection, definition: IndexDefinition, bulk: bool = False) -> str:
        """A new physical index. ``bulk`` (a rebuild's): the key index is left to ``_after_bulk``, and FTS
        segments are not merged while loading (automerge 0), only once when it is done."""
        physical = f"{self.alias(definition)}_v{definition.version}_{time.time_ns()}"
        columns = _columns(definition)
        # ``tokens``: each text field's tokens as indexed (a JSON list of space-separated strings; the pairs
        # follow from them). The FTS tables keep no copy of the text (contentless: half the bytes a rebuild
        # writes); taking a document's tokens out of them needs the very values that were indexed, which these
        # give, whatever the analysis does by then. ``sampled``: see below.
        conn.execute(
            f'CREATE TABLE "{physical}_docs" (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, '
            "version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, key INTEGER, body TEXT, tokens TEXT, "
            "sampled INTEGER NOT NULL DEFAULT 0)"
        )
        if not bulk:
            _key_index(conn, physical)
        # Token pairs hold a "_" (_TOKENIZER's tokenchars), which the segmented text never does. No per-row column
        # sizes either (columnsize 0): they serve ranking functions, which are not used.
        fts = f"{columns}, tokenize = \"{_TOKENIZER}\", content = '', columnsize = 0"
        conn.execute(f'CREATE VIRTUAL TABLE "{physical}_fts" USING fts5({fts})')
        # The same for a fixed 16th of the documents (by their id's hash, ``sampled`` in docs): counts above
        # exact_up_to are estimated from it, a uniform sample whatever the query, at a 16th of the cost.
        conn.execute(f'CREATE VIRTUAL TABLE "{physical}_sample" USING fts5({fts})')
        if bulk:
            for table in ("_fts", "_sample"):
                _fts_config(conn, f"{physical}{table}", _BULK_FTS)
        conn.execute(
            f'CREATE TABLE "{physical}_combos" (combo INTEGER PRIMARY KEY, fields TEXT NOT NULL UNIQUE, '
            "n INTEGER NOT NULL DEFAULT 0)"
        )
        return physical

    def _drop_physical(self, conn: sqlite3.Connection, physical: str) -> None:
        for suffix in ("_docs", "_fts", "_sample", "_combos", "_terms"):
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
        with _rebuild_lock(self.path, self.alias(definition)) as nobody_building, self._tx() as conn:
            if nobody_building:  # what a rebuild that died left: writes need not go there any more
                self._drop_building(conn, self.alias(definition))
            for alias in (self.alias(definition), self.alias(definition) + _BUILDING):
                target = self._target(conn, alias)
                if target is None and alias == self.alias(definition):
                    physical = self._create_physical(conn, definition)
                    conn.execute("INSERT INTO aliases VALUES (?, ?)", (alias, physical))
                elif target is not None and not self._current_layout(conn, definition, target):
                    self._upgrade(conn, definition, alias, target)
                elif target is not None and alias == self.alias(definition):
                    _key_index(conn, target)  # an index added since it was built (one a rebuild builds at its end)

    def _current_layout(self, conn: sqlite3.Connection, definition: IndexDefinition, physical: str) -> bool:
        for table in ("_combos", "_sample"):
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (f"{physical}{table}",)).fetchone():
                return False
        pairs = _pairs_column(next(iter(definition.text_fields)))
        # pairs; keyword values as tokens and the title tier (both added together); contentless text
        columns = [(f"{physical}_fts", pairs), (f"{physical}_fts", _TIER), (f"{physical}_docs", "tokens")]
        return all(
            conn.execute("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", column).fetchone() for column in columns
        )

    def _upgrade(self, conn: sqlite3.Connection, definition: IndexDefinition, alias: str, old: str) -> None:
        """An index of an earlier layout (keyword values in a ``_terms`` table, no sample, a copy of the text in
        the FTS tables, no keyword values or title tier in them) is copied into the current one from its own stored
        documents and tombstones, then swapped in. One write transaction, where the indexer or ``flask search
        init`` first ensures the index: minutes for a million documents, while searches read the old one
        (``_keyed`` tells them its layout)."""
        physical = self._create_physical(conn, definition)
        rows = conn.execute(f'SELECT id, version, deleted, body FROM "{old}_docs" ORDER BY rowid').fetchall()
        for doc_id, version, deleted, body in rows:
            change = Deletion(doc_id, version) if deleted else Document(doc_id, version, json.loads(body))
            self._apply(conn, physical, definition, change)
        _optimize(conn, physical)
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
        row = conn.execute(f"SELECT rowid, version, key, tokens FROM {docs} WHERE id = ?", (change.id,)).fetchone()
        if row is not None and row[1] >= change.version:
            return False
        if row is not None and row[2] is not None:
            fields = conn.execute(f"SELECT fields FROM {combos} WHERE combo = ?", (row[2] & _COMBO_MASK,)).fetchone()
            old = _fts_values(definition, json.loads(row[3]), fields[0])
            for table in _fts_tables(change.id):
                _fts_write(conn, physical, table, definition, (row[2], *old), delete=True)
            conn.execute(f"UPDATE {combos} SET n = n - 1 WHERE combo = ?", (row[2] & _COMBO_MASK,))
        if isinstance(change, Deletion):
            if row is None:
                conn.execute(f"INSERT INTO {docs} (id, version, deleted) VALUES (?, ?, 1)", (change.id, change.version))
            else:
                conn.execute(
                    f"UPDATE {docs} SET version = ?, deleted = 1, body = NULL, key = NULL, tokens = NULL "
                    "WHERE rowid = ?",
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
        tokens = _analysed(definition, body)
        texts = _fts_values(definition, tokens, _keyword_values(definition, body))
        conn.execute(
            f"UPDATE {docs} SET key = ?, tokens = ?, sampled = ? WHERE rowid = ?",
            (key, json.dumps(tokens, ensure_ascii=False), sampled(change.id), rid),
        )
        conn.execute(f"UPDATE {combos} SET n = n + 1 WHERE combo = ?", (combo,))
        for table in _fts_tables(change.id):
            _fts_write(conn, physical, table, definition, (key, *texts))
        return True

    def _combo_of(
        self, conn: sqlite3.Connection, physical: str, definition: IndexDefinition, body: Mapping[str, Any]
    ) -> int:
        fields = _keyword_values(definition, body)
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
        with _rebuild_lock(self.path, alias) as held:
            if not held:
                raise SearchUnavailable(f"a rebuild of {definition.name!r} is already running")
            return self._rebuild(definition, alias, documents, source)

    def _rebuild(
        self, definition: IndexDefinition, alias: str, documents: Iterable[Document], source: SourceState | None
    ) -> str:
        """``reindex`` under its lock. It commits batch by batch, so a process killed midway leaves its index
        behind the building alias; the lock tells the next rebuild that nobody is building it any more."""
        with self._tx() as conn:
            self._drop_building(conn, alias)
            physical = self._create_physical(conn, definition, bulk=True)
            conn.execute("INSERT INTO aliases VALUES (?, ?)", (alias + _BUILDING, physical))
            if source is not None:
                self._record(conn, physical, source)
        try:
            # This thread reads the documents and analyses their text; another writes them (SQLite lets go of the
            # GIL while it works), so a rebuild keeps two cores busy, as one to Elasticsearch does.
            with _Writer(self, physical, definition) as writer:
                for batch in _batches(documents):
                    writer.put([_Prepared.of(definition, document) for document in batch])
            with self._tx() as conn:
                _after_bulk(conn, physical)
        except BaseException:
            with self._tx() as conn:
                self._drop_building(conn, alias)
            raise
        with self._tx() as conn:
            old = self._target(conn, alias)
            conn.execute("INSERT OR REPLACE INTO aliases VALUES (?, ?)", (alias, physical))
            conn.execute("DELETE FROM aliases WHERE alias = ?", (alias + _BUILDING,))
            if old:
                self._drop_physical(conn, old)
        return physical

    def _drop_building(self, conn: sqlite3.Connection, alias: str) -> None:
        """Take down the index behind ``alias``'s building alias, if there is one."""
        building = self._target(conn, alias + _BUILDING)
        if building:
            conn.execute("DELETE FROM aliases WHERE alias = ?", (alias + _BUILDING,))
            self._drop_physical(conn, building)

    def _load(self, physical: str, definition: IndexDefinition, batch: list[_Prepared], known: dict[str, int]) -> None:
        """A rebuild's batch, in a few statements: a document that a live write put there first goes through
        ``_apply`` (its version decides); every other one is new, its row, key and text inserted together.
        ``known``: the combos seen so far (keyword values as JSON -> combo), kept between batches."""
        docs, combos = f'"{physical}_docs"', f'"{physical}_combos"'
        with self._tx() as conn:
            marks = ", ".join("?" for _ in batch)
            found = conn.execute(f"SELECT id FROM {docs} WHERE id IN ({marks})", [p.document.id for p in batch])
            present = {row[0] for row in found}
            for prepared in batch:
                if prepared.document.id in present:
                    self._apply(conn, physical, definition, prepared.document)
            rid = conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {docs}").fetchone()[0]
            rows: list[str] = []
            keyed: list[tuple[int, _Prepared]] = []
            added: dict[int, int] = {}
            fresh = [prepared for prepared in batch if prepared.document.id not in present]
            for prepared in fresh:
                document = prepared.document
                rid += 1
                if rid >= 1 << _ROW_BITS:
                    raise SearchUnavailable(f"embedded search: index {physical!r} is full, rebuild it")
                combo = known.get(prepared.fields)
                if combo is None:
                    combo = known[prepared.fields] = self._combo_of(conn, physical, definition, document.body)
                key = prepared.day << _DAY_SHIFT | rid << _COMBO_BITS | combo
                added[combo] = added.get(combo, 0) + 1
                rows.append(f"[{rid},{key},{prepared.row}")
                keyed.append((key, prepared))
            # Each table gets the batch as one JSON array, unpacked by SQLite: one statement, so this thread
            # takes the GIL back once per table rather than once per row (row by row, it waited on the
            # reading thread for most of its time). FTS rows go in rowid order: FTS5 writes out what it holds
            # each time a rowid is not above the last one.
            conn.execute(
                f"INSERT INTO {docs} (rowid, key, id, version, body, tokens, sampled, deleted) "
                "SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, 0 "
                "FROM json_each(?)",
                ("[" + ",".join(rows) + "]",),
            )
            keyed.sort(key=lambda pair: pair[0])
            values = ", ".join(f"value->>{i}" for i in range(3 + 2 * len(definition.text_fields)))
            for table, chosen in (("_fts", keyed), ("_sample", [pair for pair in keyed if pair[1].sampled])):
                batch_json = "[" + ",".join(f"[{key},{prepared.columns[1:]}" for key, prepared in chosen) + "]"
                conn.execute(
                    f'INSERT INTO "{physical}{table}" (rowid, {_columns(definition)}) '
                    f"SELECT {values} FROM json_each(?)",
                    (batch_json,),
                )
            conn.executemany(f"UPDATE {combos} SET n = n + ? WHERE combo = ?", [(n, c) for c, n in added.items()])

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
        limit = query.exact_up_to
        keys = functools.partial(self._key_terms, conn, physical, definition, combos, terms)
        counted_keys, every_key = keys(_without(query.filters, own)), keys(query.filters)
        count = _Count(conn, physical, _both(match, counted_keys) or None, (lo, hi))
        rows, exact = ([], True) if counted is not None and not counted else count.first(narrow, limit)
        matched = {combo: n for combo, n in rows if counted is None or combo in counted}
        # Every filter, then every filter but a faceted field's own, checked on the matched combos only.
        held = {combo: combos[combo] for combo in matched} if own else combos
        accepted = _accepting(definition, query.filters, held) if own else counted
        counts = _within(matched, accepted)
        total, total_exact = sum(counts.values()), exact
        if not exact and own and limit is not None and total < _beyond(limit) * SAMPLE_EVERY:
            # The hits are fewer than what the facets count: perhaps few enough to count exactly. (The facets'
            # counts, estimated, came from the sample: not when its share of the hits is more than the limit's.)
            every = _accepting(definition, query.filters, combos) or set()
            exact_rows, total_exact = count.matching(_both(match, every_key) or None).within(every, limit)
            if total_exact:
                total = sum(n for _, n in exact_rows)
        if not total_exact:
            total = max(limit + 1 if limit is not None else 0, analysis.approximate(total))
        scopes = {
            name: _within(matched, _accepting(definition, _without(query.filters, {name}), held))
            if name in own
            else counts
            for name in query.facets
        }
        facets = _facets(definition, scopes, combos, estimate=not exact)

        # Only the combos that have matches, when filters keep some of them.
        only = json.dumps(sorted(counts)) if accepted is not None else None
        page = self._page_keys(conn, physical, definition, query, terms, (match, every_key), (lo, hi), total, only)
        hits = self._hits(conn, f'"{physical}_docs"', definition, terms, page)
        return SearchResult(
            hits=hits,
            total=total,
            facets=facets,
            took_ms=(time.perf_counter() - started) * 1000,
            total_exact=total_exact,
            facets_exact=exact,
        )

    def _page_keys(
        self,
        conn: sqlite3.Connection,
        physical: str,
        definition: IndexDefinition,
        query: SearchQuery,
        terms: list[str],
        matching: tuple[str, str | None],
        key_range: tuple[int, int],
        total: int,
        only: str | None,
    ) -> list[tuple[int, float]]:
        """The page's keys and scores: newest first, the title tier first for relevance. ``matching``: the text's
        match, and the selective filters as keys-column terms, which join it."""
        docs, fts = f'"{physical}_docs"', f'"{physical}_fts"'
        lo, hi = key_range
        text, key_terms = matching
        match = _both(text, key_terms)
        offset, limit = (query.page - 1) * query.page_size, query.page_size
        keys: list[tuple[int, float]] = []
        if not total or limit <= 0:
            pass
        elif not terms and only is not None and total <= _SORT_UP_TO and self._by_combo(conn, physical):
            # Few documents pass the filters: read them by combo and sort them, rather than walk the date range
            # newest first until a page of them turns up.
            sql = (
                f'SELECT key FROM {docs} INDEXED BY "{physical}_docs_combo" '
                f"WHERE {_COMBO_OF_KEY} IN (SELECT value FROM json_each(?)) AND key BETWEEN ? AND ? "
                "ORDER BY key DESC LIMIT ? OFFSET ?"
            )
            keys = [(row[0], 0.0) for row in conn.execute(sql, (only, lo, hi, limit, offset)).fetchall()]
        elif not terms:
            keys = [(k, 0.0) for k in self._page(conn, docs, "key", None, lo, hi, only, limit, offset)]
        elif query.sort == "date":
            keys = [(k, 0.0) for k in self._page(conn, fts, "rowid", match, lo, hi, only, limit, offset)]
        else:
            in_title = _both(" AND ".join(_fts_phrase(t, tier=True) for t in terms), key_terms)
            # The title tier from its start to the page's end, not from the page's start: when the page runs past
            # the tier, the same walk gave its size (a second walk, to count it, cost as much again).
            upto = self._page(conn, fts, "rowid", in_title, lo, hi, only, offset + limit, 0)
            first = upto[offset:]
            keys = [(k, 2.0) for k in first]
            if len(first) < limit:
                tier = len(upto)
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

    def _by_combo(self, conn: sqlite3.Connection, physical: str) -> bool:
        """Whether the index has its docs_combo lookup yet (one built before it gets it at the next start)."""
        sql = "SELECT 1 FROM sqlite_master WHERE name = ?"
        return self._built_with(conn, (sql, f"{physical}_docs_combo"))

    def _keyed(self, conn: sqlite3.Connection, physical: str) -> bool:
        """Whether the index has its keys and title tier columns. One of the layout before is upgraded when the
        indexer or ``flask search init`` first ensures it; until then its filters are checked on each match's
        combo, and its matches come newest first, none in the title tier."""
        return self._built_with(conn, ("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", f"{physical}_fts", _TIER))

    def _built_with(self, conn: sqlite3.Connection, check: tuple[str, ...]) -> bool:
        """Whether the SQL ``check`` (its statement and parameters) finds a row: remembered once it does, as what
        it looks for (a lookup, a column) is never taken away from an index."""
        if check not in self._present:
            if not conn.execute(check[0], check[1:]).fetchone():
                return False
            self._present.add(check)
        return True

    def _key_terms(
        self,
        conn: sqlite3.Connection,
        physical: str,
        definition: IndexDefinition,
        combos: dict[int, tuple[frozenset[str], ...]],
        terms: list[str],
        filters: Mapping[str, Any],
    ) -> str | None:
        """The filters that at most ``_SELECTIVE`` of the documents pass, as an FTS expression of the keys column
        (OR within a field, AND across fields), to join a query's text: FTS5 then intersects their postings with
        the text's, rather than the engine walking every match of the text and checking its combo. None when
        there is no text, or no filter is that selective."""
        if not terms or not self._keyed(conn, physical):
            return None
        sizes = self._combo_sizes(conn, physical)
        everyone = sum(sizes.values()) or 1
        fields = list(definition.keyword_fields)
        clauses = []
        for field, values in sorted(filters.items()):
            wanted = {str(v) for v in values or ()}
            if not wanted or field not in fields:
                continue
            i = fields.index(field)
            passing = sum(n for combo, n in sizes.items() if combo in combos and combos[combo][i] & wanted)
            if passing <= everyone * _SELECTIVE:
                clauses.append("(" + " OR ".join(f'"{_key_token(i, v)}"' for v in sorted(wanted)) + ")")
        return " AND ".join(clauses) or None

    def _combo_sizes(self, conn: sqlite3.Connection, physical: str) -> dict[int, int]:
        """Live documents per combo, read again when the last reading is ``_SIZES_FOR_S`` old: they only weigh
        filters (``_key_terms``), and a few seconds' writes do not change that."""
        read, sizes = self._sizes.get(physical, (0.0, {}))
        if time.monotonic() - read > _SIZES_FOR_S:
            sizes = dict(conn.execute(f'SELECT combo, n FROM "{physical}_combos"').fetchall())
            self._sizes[physical] = (time.monotonic(), sizes)
        return sizes

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


@contextmanager
def _rebuild_lock(path: str, alias: str) -> Iterator[bool]:
    """One rebuild of an alias at a time, across threads and processes: an ``flock`` on a file beside the
    index, which the system releases when its holder dies. Yields whether this caller holds it."""
    lock = Path(f"{path}.{alias}.rebuild.lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        # A file description of its own (flock excludes another thread too), closed by the with below.
        handle = open(lock, "a+b")  # noqa: SIM115
    except OSError as exc:
        raise SearchUnavailable(f"embedded search: {exc}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sampled(doc_id: str) -> bool:
    """Whether a document is in the sample: one in SAMPLE_EVERY, by a hash of its id that every process agrees on."""
    return zlib.crc32(doc_id.encode()) % SAMPLE_EVERY == 0


def _optimize(conn: sqlite3.Connection, physical: str) -> None:
    """Batches leave many small FTS segments; a query reads each. Merge them into one."""
    for table in ("_fts", "_sample"):
        conn.execute(f'INSERT INTO "{physical}{table}" ("{physical}{table}") VALUES (\'optimize\')')


@dataclass(frozen=True)
class _Prepared:
    """A document made ready for a rebuild's writer, with no database at hand: its FTS columns, body as
    stored, keyword values (as JSON: its combo's name), day and whether it is in the sample."""

    document: Document
    # JSON arrays, without the values only the writer knows (rowid, key): the FTS columns, and the docs
    # row's id, version, body, tokens and sampled.
    columns: str
    row: str
    fields: str
    day: int
    sampled: bool

    @classmethod
    def of(cls, definition: IndexDefinition, document: Document) -> _Prepared:
        body = document.body
        tokens = _analysed(definition, body)
        fields = _keyword_values(definition, body)
        in_sample = sampled(document.id)
        row = [
            document.id,
            document.version,
            json.dumps(body, ensure_ascii=False),
            json.dumps(tokens, ensure_ascii=False),
            int(in_sample),
        ]
        return cls(
            document,
            json.dumps(_fts_values(definition, tokens, fields), ensure_ascii=False),
            json.dumps(row, ensure_ascii=False)[1:],
            fields,
            _day(body.get(definition.date_field)) if definition.date_field else 0,
            in_sample,
        )


class _Writer:
    """A rebuild's writing thread: takes prepared batches, one transaction each, in order. A batch that fails
    stops it; the error comes back to the reading thread at its next ``put`` or at the end."""

    def __init__(self, engine: EmbeddedEngine, physical: str, definition: IndexDefinition) -> None:
        self.engine, self.physical, self.definition = engine, physical, definition
        self.batches: queue.Queue[list[_Prepared] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="embedded-rebuild-writer", daemon=True)

    def __enter__(self) -> _Writer:
        self.thread.start()
        return self

    def put(self, batch: list[_Prepared]) -> None:
        while self.error is None:
            try:
                self.batches.put(batch, timeout=0.5)
                return
            except queue.Full:
                continue
        raise self.error

    def _run(self) -> None:
        known: dict[str, int] = {}
        try:
            # A larger page cache for this connection: merging FTS segments rereads what it just wrote.
            self.engine._connect().execute(f"PRAGMA cache_size=-{REBUILD_CACHE_KIB}")
            while (batch := self.batches.get()) is not None:
                self.engine._load(self.physical, self.definition, batch, known)
        except BaseException as exc:  # handed to the reading thread
            self.error = exc
        finally:
            self.engine.close()  # this thread's connection

    def __exit__(self, kind: Any, *_: Any) -> None:
        while self.thread.is_alive():
            try:
                self.batches.put(None, timeout=0.5)
                break
            except queue.Full:
                continue
        self.thread.join()
        if self.error is not None and kind is None:
            raise self.error


def _batches(documents: Iterable[Document]) -> Iterator[list[Document]]:
    """``documents`` _BATCH at a time."""
    iterator = iter(documents)
    while batch := list(itertools.islice(iterator, _BATCH)):
        yield batch


def _keyword_values(definition: IndexDefinition, body: Mapping[str, Any]) -> str:
    """A document's keyword values, per field sorted, as JSON: the name of its combo."""
    values = [sorted({str(v) for v in _values(body.get(field))}) for field in definition.keyword_fields]
    return json.dumps(values, ensure_ascii=False)


def _key_index(conn: sqlite3.Connection, physical: str) -> None:
    """Documents by key; the sample's by key (a date range's sample without text is a range of it); and by
    combo, then key: without text, filters that keep few combos read only their documents, a key range of each
    combo, not the whole date range to find them."""
    docs = f'"{physical}_docs"'
    conn.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS "{physical}_docs_key" ON {docs} (key)')
    conn.execute(f'CREATE INDEX IF NOT EXISTS "{physical}_docs_sample" ON {docs} (key) WHERE sampled = 1')
    conn.execute(f'CREATE INDEX IF NOT EXISTS "{physical}_docs_combo" ON {docs} ({_COMBO_OF_KEY}, key)')


def _fts_tables(doc_id: str) -> tuple[str, ...]:
    """The FTS tables a document's text goes to: every document's, and the sample's when it is in it."""
    return ("_fts", "_sample") if sampled(doc_id) else ("_fts",)


def _fts_write(
    conn: sqlite3.Connection,
    physical: str,
    table: str,
    definition: IndexDefinition,
    values: tuple[Any, ...],
    *,
    delete: bool = False,
) -> None:
    """Insert ``(key, *texts)`` into an FTS table, or (``delete``) take those very values out of it: a
    contentless table removes a row's tokens given the values it was indexed with."""
    name = f'"{physical}{table}"'
    marks = ", ".join("?" for _ in values)
    if delete:
        sql = f"INSERT INTO {name} ({name}, rowid, {_columns(definition)}) VALUES ('delete', {marks})"
    else:
        sql = f"INSERT INTO {name} (rowid, {_columns(definition)}) VALUES ({marks})"
    conn.execute(sql, values)


def _after_bulk(conn: sqlite3.Connection, physical: str) -> None:
    """What a rebuild leaves for after the load: the key index built in one go, the FTS segments merged into
    one, and automatic merging back at SQLite's default (4) for the writes to come."""
    _key_index(conn, physical)
    _optimize(conn, physical)
    for table in ("_fts", "_sample"):
        _fts_config(conn, f"{physical}{table}", _LIVE_FTS)


def _fts_config(conn: sqlite3.Connection, table: str, options: Mapping[str, int]) -> None:
    for option, value in options.items():
        conn.execute(f'INSERT INTO "{table}" ("{table}", rank) VALUES (?, ?)', (option, value))


class _Count:
    """Matches per combo for one query: of the text (``match``) or, without text, of the date range or of
    the whole index; from every document or from the sample."""

    def __init__(self, conn: sqlite3.Connection, physical: str, match: str | None, key_range: tuple[int, int]) -> None:
        self.conn, self.physical, self.match, self.key_range = conn, physical, match, key_range
        self.dated = key_range != _key_range(None, None)

    def first(self, narrow: str | None, limit: int | None) -> tuple[list[tuple[int, int]], bool]:
        """``by_combo``, up to ``limit`` matches counted exactly; beyond, the sample's counts scaled up, as
        estimates. With text or a date range, the sample is counted first: when it holds so many matches that
        the limit cannot hold them all (``_beyond``), walking ``limit`` of the matches to learn that is skipped.
        The estimate is the same either way."""
        sample = self._scaled(narrow) if (self.match is not None or self.dated) and limit is not None else None
        if sample is not None and sum(n for _, n in sample) >= _beyond(limit) * SAMPLE_EVERY:
            return sample, False
        rows, exact = self.by_combo(narrow, limit)
        if exact:
            return rows, True
        return (sample if sample is not None else self._scaled(narrow)), False

    def _scaled(self, narrow: str | None) -> list[tuple[int, int]]:
        """The sample's matches per combo, scaled up to estimate every document's."""
        return [(combo, n * SAMPLE_EVERY) for combo, n in self.by_combo(narrow, None, sample=True)[0]]

    def matching(self, match: str | None) -> _Count:
        """The same count of another match (the text's with more terms)."""
        return _Count(self.conn, self.physical, match, self.key_range)

    def within(self, combos: set[int], limit: int | None) -> tuple[list[tuple[int, int]], bool]:
        """``by_combo`` of these combos. None (filters that no combo holds together, such as an agency and another
        agency's region): nothing matches, and no match is walked to find that out."""
        if not combos:
            return [], True
        return self.by_combo(json.dumps(sorted(combos)), limit)

    def by_combo(
        self, narrow: str | None, limit: int | None, sample: bool = False
    ) -> tuple[list[tuple[int, int]], bool]:
        """``[(combo, matches)]`` of the combos in ``narrow`` (a JSON list; None: every combo), counting at most
        ``limit`` + 1 matches (None: all of them), and whether that was all of them."""
        lo, hi = self.key_range
        if self.match is None and not self.dated and not sample:
            rows = self.conn.execute(f'SELECT combo, n FROM "{self.physical}_combos" WHERE n > 0').fetchall()
            if narrow is not None:
                keep = set(json.loads(narrow))
                rows = [(combo, n) for combo, n in rows if combo in keep]
            return rows, True
        if self.match is not None:
            table = f'"{self.physical}{"_sample" if sample else "_fts"}"'
            key, where, params = "rowid", f"{table} MATCH ? AND ", [self.match]
        elif narrow is not None and not sample:
            # Without text, the filters' combos: a key range of each in the docs_combo index.
            sql = (
                f'SELECT c, count(*) FROM (SELECT {_COMBO_OF_KEY} AS c FROM "{self.physical}_docs" '
                f"WHERE {_COMBO_OF_KEY} IN (SELECT value FROM json_each(?)) AND key BETWEEN ? AND ? LIMIT ?) GROUP BY c"
            )
            rows = self.conn.execute(sql, (narrow, lo, hi, -1 if limit is None else limit + 1)).fetchall()
            return rows, limit is None or sum(n for _, n in rows) <= limit
        else:
            # Without text, a range of the docs' keys (the sample's partial index when ``sample``).
            table, key, params = f'"{self.physical}_docs"', "key", []
            where = "sampled = 1 AND " if sample else ""
        sql = (
            f"SELECT c, count(*) FROM (SELECT {key} & {_COMBO_MASK} AS c FROM {table} "
            f"WHERE {where}{key} BETWEEN ? AND ? "
            f"AND (? IS NULL OR {key} & {_COMBO_MASK} IN (SELECT value FROM json_each(?))) LIMIT ?) GROUP BY c"
        )
        bound = -1 if limit is None else limit + 1
        rows = self.conn.execute(sql, (*params, lo, hi, narrow, narrow, bound)).fetchall()
        return rows, limit is None or sum(n for _, n in rows) <= limit


def _beyond(limit: int) -> float:
    """Matches in the sample that ``limit`` matches or fewer in all would reach with a chance below _UNSURE.

    Each document is in the sample with chance p = 1 / SAMPLE_EVERY (a hash of its id), so n matches put
    Binomial(n, p) of them there, never more likely above a bound than when n = ``limit``: mean μ = limit · p. By
    Chernoff's bound, P(X ≥ (1 + δ)μ) ≤ exp(-δ²μ / (2 + δ)); equal to _UNSURE where δ²μ = L(2 + δ), L = ln(1 /
    _UNSURE), so (1 + δ)μ = μ + (L + √(L² + 8Lμ)) / 2. For a limit of 10,000: 625 expected, 825 enough (13,200
    matches estimated)."""
    mean, bits = limit / SAMPLE_EVERY, -math.log(_UNSURE)
    return mean + (bits + math.sqrt(bits * bits + 8 * bits * mean)) / 2


def _columns(definition: IndexDefinition) -> str:
    text = ", ".join(f"{_SAFE.sub('_', f)}, {_pairs_column(f)}" for f in definition.text_fields)
    return f"{text}, {_KEYS}, {_TIER}"


def _key_token(position: int, value: str) -> str:
    """A keyword value as one FTS token of the keys column (the value's UTF-8 in hex, after its field's place).
    It holds two "_": no text token holds one (analysis.tokens keeps letters and digits), a token pair one."""
    return f"k_{position}_{value.encode(errors='surrogatepass').hex()}"


def _keys_text(fields: str) -> str:
    """A combo's keyword values (``_keyword_values``' JSON) as the keys column indexes them."""
    return " ".join(_key_token(i, value) for i, values in enumerate(json.loads(fields)) for value in values)


def _both(match: str, more: str | None) -> str:
    """An FTS expression and more terms (None: none); an empty ``match`` (no text) stays empty."""
    return f"{match} AND {more}" if match and more else match


def _pairs_column(field: str) -> str:
    return f"{_SAFE.sub('_', field)}__pairs"


def _pairs(tokens: list[str]) -> list[str]:
    return list(map("_".join, itertools.pairwise(tokens)))


def _analysed(definition: IndexDefinition, body: Mapping[str, Any]) -> list[str]:
    """A document's tokens per text field (analysis.tokens, space-separated): what ``tokens`` stores."""
    return [" ".join(analysis.tokens(analysis.field_text(body.get(field)))) for field in definition.text_fields]


def _fts_values(definition: IndexDefinition, tokens: list[str], fields: str) -> list[str]:
    """A document's FTS columns (``_columns``) from its stored ``tokens`` and its combo's keyword values (JSON):
    per text field its tokens, then its token pairs; the keyword values (``_keys_text``); the title tier's
    tokens and pairs (``_TIER``). The same values insert a document and take it out again."""
    columns = []
    for field in tokens:
        columns += [field, " ".join(_pairs(field.split()))]
    title = tokens[_top(definition)].split()
    tier = [_TIER_MARK + token for token in (*title, *_pairs(title))]
    return [*columns, _keys_text(fields), " ".join(tier)]


def _top(definition: IndexDefinition) -> int:
    """The place of the first-weighted text field (the title), whose matches come first by relevance."""
    weights = list(definition.text_fields.values())
    return weights.index(max(weights))


def _fts_phrase(term: str, tier: bool = False) -> str:
    """A term as an FTS5 phrase: its token pairs when it has two tokens or more, else its one token; ``tier``: in
    the title tier's column, whose tokens are marked.

    Tokens never hold ``_`` or ``"`` (analysis.tokens keeps letters and digits only)."""
    tokens = analysis.tokens(term)
    mark = _TIER_MARK if tier else ""
    return '"' + " ".join(mark + token for token in (_pairs(tokens) if len(tokens) >= 2 else tokens)) + '"'


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
    *,
    estimate: bool = False,
) -> dict[str, dict[str, int]]:
    """Per facet, documents per value among its scope's combo counts (a document counts once for each of
    its values), the 50 largest; ``estimate``: rounded as estimates are shown."""
    fields = list(definition.keyword_fields)
    facets = {}
    for name, counts in scopes.items():
        tally: dict[str, int] = {}
        if name in fields:
            i = fields.index(name)
            for combo, n in counts.items():
                for value in combos[combo][i]:
                    tally[value] = tally.get(value, 0) + n
        if estimate:
            tally = {value: analysis.approximate(n) for value, n in tally.items()}
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

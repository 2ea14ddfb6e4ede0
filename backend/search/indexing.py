"""Keeping the index a faithful projection of the database: a transactional outbox.

Any flush that adds, changes or deletes a searchable row also inserts an outbox row, in the
same transaction, so a committed change can never miss the index. The indexer leases a
batch of outbox rows, rereads the current rows, writes them with their version (a late or
repeated message cannot overwrite newer data), and deletes the outbox rows it finished.
When the engine is down the rows wait and the index catches up when it returns.

Before each batch the indexer checks that the index projects this database (its identity, and no
change beyond the database's: see search_index.interfaces.SourceState), then records the database's state on it.
An index that does not (another database, a restored backup) gets no writes: the indexer rebuilds it
(SEARCH_AUTO_REINDEX) or leaves the rows waiting and says which command rebuilds it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from flask import Flask
from sqlalchemy import Integer, Select, String, delete, event, func, or_, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.extensions.database import Model, UTCDateTime, db, insert_rows
from backend.progress import Track, untracked
from search_index import search
from search_index.interfaces import Deletion, Document, IndexDefinition, IndexStale, SearchUnavailable, SourceState
from search_index.mappings import DEFINITIONS
from search_index.projection import REINDEX_COMMAND, IndexState

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)
# While the engine is unreachable its health is probed this often (one small request, no outbox lease), and
# the outbox is drained at the first answer: the index catches up within a probe of the engine's return.
PROBE_SECONDS = 0.25
# Between retries after any other failure (the database down, say): short, for the same reason.
RETRY_SECONDS = 1.0


class SearchOutbox(Model):
    __tablename__ = "search_outbox"
    # Ids are never reused once rows are deleted (SQLite too), so the last one handed out is the
    # database's change sequence: see ``outbox_sequence``.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    index_name: Mapped[str] = mapped_column(String(64))
    doc_id: Mapped[str] = mapped_column(String(128))
    # For a row deleted from the database: the version its tombstone gets.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(36), index=True)


SEARCHABLE: dict[str, type[Searchable]] = {}


def outbox_sequence(session: Session) -> int:
    """The last outbox id handed out, committed or not: it only grows, and a restored backup brings back
    the value it had then (pg_dump saves the sequence, SQLite's AUTOINCREMENT keeps it in sqlite_sequence)."""
    if session.get_bind().dialect.name == "postgresql":
        sql = "SELECT pg_sequence_last_value(pg_get_serial_sequence('search_outbox', 'id')::regclass)"
    else:
        sql = "SELECT seq FROM sqlite_sequence WHERE name = 'search_outbox'"
    return session.scalar(text(sql)) or 0


class Searchable:
    """Mixin for models projected into an index.

    The model has a ``version`` column used as ``version_id_col``, so every update raises it.
    """

    __search__: ClassVar[IndexDefinition]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__search__" in cls.__dict__:
            SEARCHABLE[cls.__search__.name] = cls

    @property
    def search_id(self) -> str:
        raise NotImplementedError

    def search_document(self) -> dict[str, Any] | None:
        """The indexed body, or None when the row must not be public."""
        raise NotImplementedError

    @classmethod
    def load_for_search(cls, session: Session, ids: list[str]) -> dict[str, Searchable]:
        raise NotImplementedError

    @classmethod
    def select_for_search(cls) -> Select[Any]:
        """Every row the index holds, in a stable order."""
        raise NotImplementedError

    @classmethod
    def stream_changes(cls, session: Session) -> Iterator[Document | Deletion]:
        """What the index must hold for every row, in ``select_for_search``'s order: a rebuild's read. A model
        may read only the columns its documents are made of."""
        for row in session.scalars(cls.select_for_search().execution_options(yield_per=1000)):
            yield row.to_change()

    @classmethod
    def count_for_search(cls, session: Session) -> int:
        return session.scalar(select(func.count()).select_from(cls.select_for_search().order_by(None).subquery()))

    @classmethod
    def load_changes(
        cls, session: Session, ids: list[str], selecting: Select[tuple[str]]
    ) -> dict[str, Document | Deletion]:
        """What the index must now hold for each of ``ids`` that still has a row (absent: the row is
        gone). ``selecting`` is a subquery of the same ids, for a model whose override would rather
        use it than bind hundreds of parameters (a query with that many is parsed anew each time)."""
        return {doc_id: row.to_change() for doc_id, row in cls.load_for_search(session, ids).items()}

    def to_change(self) -> Document | Deletion:
        body = self.search_document()
        if body is None:
            return Deletion(self.search_id, self.version)  # type: ignore[attr-defined]
        return Document(self.search_id, self.version, body)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush_context: Any) -> None:
    rows = []
    new = session.new  # a fresh set on every access: read it once, not once per object
    for obj in new | session.dirty:
        if isinstance(obj, Searchable) and (obj in new or session.is_modified(obj)):
            rows.append({"index_name": obj.__search__.name, "doc_id": obj.search_id, "version": obj.version})
    for obj in session.deleted:
        if isinstance(obj, Searchable):
            rows.append({"index_name": obj.__search__.name, "doc_id": obj.search_id, "version": obj.version + 1})
    _enqueue_rows(session, rows)


def enqueue(session: Session, definition: IndexDefinition, changes: list[tuple[str, int]]) -> None:
    """Outbox rows for (doc_id, version) changes written without the ORM (Core inserts), in the
    session's transaction, exactly as a flush of the same rows would have recorded them."""
    _enqueue_rows(session, [{"index_name": definition.name, "doc_id": i, "version": v} for i, v in changes])


def _enqueue_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        now = dt.datetime.now(dt.UTC)
        for row in rows:
            row["created_at"] = now
        insert_rows(session.connection(), SearchOutbox.__table__, rows)
        session.info["search_outbox_written"] = True


@event.listens_for(Session, "after_commit")
def _wake_indexer(session: Session) -> None:
    if session.info.pop("search_outbox_written", False):
        Indexer.wake_all()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("search_outbox_written", None)


@dataclass
class _Batch:
    owner: str  # the lease
    rows: int  # outbox rows leased
    writes: list[tuple[IndexDefinition, list[Document | Deletion]]]
    source: SourceState  # the database's state, read with the rows


def _write(engine: Any, batch: _Batch) -> None:
    """Write one batch; off the database session, so it can run in another thread."""
    for definition, changes in batch.writes:
        # Recorded first: the index then never holds a change beyond what it records.
        engine.record_source(definition, batch.source)
        engine.write(definition, changes)
        if any(isinstance(change, Deletion) for change in changes):
            # A withdrawal must leave public search within a second; this thread is off the request
            # path, so making the deletion visible now costs no request anything.
            engine.refresh(definition)


class Indexer:
    """Drains the outbox into the engine; ``drain()`` for tools and tests, ``start()`` for a thread."""

    _wakers: ClassVar[list[threading.Event]] = []

    def __init__(
        self,
        app: Flask,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        in_flight: int = 2,
        rebuild: bool | None = None,
    ) -> None:
        self.app = app
        # Rebuild an index that does not project this database (default: SEARCH_AUTO_REINDEX).
        self.rebuild = app.config["SEARCH_AUTO_REINDEX"] if rebuild is None else rebuild
        self.batch_size = batch_size
        self.in_flight = in_flight
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ensured: set[str] = set()

    @classmethod
    def wake_all(cls) -> None:
        for waker in cls._wakers:
            waker.set()

    def drain(self) -> int:
        """Index every pending change; return how many outbox rows were done.

        An index found not to project this database is rebuilt first (``rebuild``), else IndexStale.
        An engine that takes concurrent writes (Elasticsearch) indexes one batch while the next is
        read from the database, with up to ``in_flight`` batches being written at once."""
        try:
            return self._drain()
        except IndexStale:
            if not self.rebuild:
                raise
        self.reconcile()
        return self._drain()

    def reconcile(self) -> dict[str, IndexState]:
        """Compare every index with the database and rebuild those that do not project it (``rebuild``)."""
        with self.app.app_context():
            return reconcile(self.rebuild)

    def _drain(self) -> int:
        with self.app.app_context():
            engine = search.engine
            if self.in_flight > 1 and getattr(engine, "concurrent_writes", False):
                return self._drain_pipelined(db.session, engine)
        done = 0
        while True:
            count = self.drain_batch()
            done += count
            if count < self.batch_size:
                return done

    def drain_batch(self) -> int:
        with self.app.app_context():
            session = db.session
            batch = self._lease(session)
            if batch is None:
                return 0
            try:
                _write(search.engine, batch)
            except SearchUnavailable:
                self._release(session, batch.owner)
                raise
            self._finish(session, batch)
            return batch.rows

    def _drain_pipelined(self, session: Session, engine: Any) -> int:
        done = 0
        exhausted = False
        pending: deque[tuple[_Batch, Future[None]]] = deque()
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix="search-write") as pool:
            try:
                while pending or not exhausted:
                    if not exhausted:
                        batch = self._lease(session)
                        exhausted = batch is None or batch.rows < self.batch_size
                        if batch is not None:
                            pending.append((batch, pool.submit(_write, engine, batch)))
                    if pending and (exhausted or len(pending) >= self.in_flight):
                        batch, future = pending[0]
                        future.result()
                        pending.popleft()
                        self._finish(session, batch)
                        done += batch.rows
            except SearchUnavailable:
                # Let every write in flight end, keep what was indexed, hand the rest back.
                for batch, future in pending:
                    if future.exception() is None:
                        self._finish(session, batch)
                    else:
                        self._release(session, batch.owner)
                raise
        return done

    def _lease(self, session: Session) -> _Batch | None:
        """Lease the next batch of outbox rows and read what the index must now hold for them."""
        owner = str(uuid.uuid4())
        now = dt.datetime.now(dt.UTC)
        leasable = (
            select(SearchOutbox.id)
            .where(or_(SearchOutbox.leased_until.is_(None), SearchOutbox.leased_until < now))
            .order_by(SearchOutbox.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
            # A materialized CTE runs once: as an IN subquery PostgreSQL may re-run it while updating, and
            # a LIMIT with SKIP LOCKED then leased more rows than the batch size.
            .cte("leasable")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        # One statement, no list of ids: a query with hundreds of parameters is parsed anew each time.
        leased = session.execute(
            update(SearchOutbox)
            .where(SearchOutbox.id == leasable.c.id)
            .values(leased_until=now + LEASE, lease_owner=owner)
            .returning(SearchOutbox.index_name, SearchOutbox.doc_id, SearchOutbox.version)
            .execution_options(synchronize_session=False)
        ).all()
        if not leased:
            session.rollback()
            return None
        session.commit()
        try:
            return self._read(session, owner, leased)
        except SearchUnavailable:
            self._release(session, owner)
            raise

    def _read(self, session: Session, owner: str, leased: list[Any]) -> _Batch:
        # Read after the lease: the leased rows' ids are within it.
        source = search.database_source()
        if source is None:
            raise IndexStale("the database has no identity: run flask --app backend db upgrade")
        by_index: dict[str, dict[str, int]] = defaultdict(dict)
        for index_name, doc_id, version in leased:
            tombstone = by_index[index_name]
            tombstone[doc_id] = max(tombstone.get(doc_id, 0), version)
        writes = []
        for index_name, tombstones in by_index.items():
            model = SEARCHABLE[index_name]
            definition = model.__search__
            if index_name not in self._ensured:
                search.engine.ensure_index(definition)
                self._ensured.add(index_name)
            reason = source.projected_by(search.engine.source(definition))
            if reason is not None:
                raise IndexStale(f"search index {index_name!r} does not project this database: {reason}")
            selecting = select(SearchOutbox.doc_id).where(
                SearchOutbox.lease_owner == owner, SearchOutbox.index_name == index_name
            )
            current = model.load_changes(session, list(tombstones), selecting)
            changes = [current.get(doc_id) or Deletion(doc_id, version) for doc_id, version in tombstones.items()]
            writes.append((definition, changes))
        session.rollback()
        return _Batch(owner, len(leased), writes, source)

    @staticmethod
    def _finish(session: Session, batch: _Batch) -> None:
        session.execute(delete(SearchOutbox).where(SearchOutbox.lease_owner == batch.owner))
        session.commit()

    @staticmethod
    def _release(session: Session, owner: str) -> None:
        session.rollback()
        session.execute(
            update(SearchOutbox).where(SearchOutbox.lease_owner == owner).values(leased_until=None, lease_owner=None)
        )
        session.commit()

    # -- background thread -------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        Indexer._wakers.append(self._wake)
        self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._wake in Indexer._wakers:
            Indexer._wakers.remove(self._wake)

    def _run(self) -> None:
        wait, engine_down, failing = self.poll_seconds, False, False
        # At start, then every SEARCH_INDEX_CHECK_SECONDS: an index is checked even when nothing changes.
        checked = float("-inf")
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                if engine_down:
                    with self.app.app_context():
                        search.engine.health()
                if time.monotonic() - checked >= self.app.config["SEARCH_INDEX_CHECK_SECONDS"]:
                    self.reconcile()
                    checked = time.monotonic()
                self.drain()
            except SearchUnavailable as exc:
                if not engine_down:  # once per outage, not per probe
                    log.warning("search engine unavailable, probing every %ss: %s", PROBE_SECONDS, exc)
                wait, engine_down = PROBE_SECONDS, True
                continue
            except Exception:
                if not failing:
                    log.exception("search indexer failed, retrying every %ss", RETRY_SECONDS)
                wait, failing = RETRY_SECONDS, True
                continue
            if engine_down or failing:
                log.warning("search indexer caught up")
            wait, engine_down, failing = self.poll_seconds, False, False


def reindex(definition: IndexDefinition, track: Track = untracked) -> str:
    """Rebuild one index from the database and swap its alias; return the new index name. ``track`` sees
    the documents as the engine takes them (backend/progress.py)."""
    model = SEARCHABLE[definition.name]
    session = db.session
    # Read before the rows: a change committed meanwhile is in the stream or in the outbox, or both.
    source = search.database_source()
    total = model.count_for_search(session) if track is not untracked else None
    documents = track(model.stream_changes(session), total)
    return search.engine.reindex(definition, (d for d in documents if isinstance(d, Document)), source=source)


def reconcile(rebuild: bool) -> dict[str, IndexState]:
    """Each index's state after rebuilding, when ``rebuild``, those that do not project this database.

    A rebuild another process is running makes this one wait for it (SearchUnavailable)."""
    states = search.states(force=True)
    stale = [name for name, state in states.items() if state.state == "stale"]
    for name in stale:
        if not rebuild:
            log.error("search index %s: %s; run `%s`", name, states[name].reason, REINDEX_COMMAND)
            continue
        log.warning("search index %s: %s; rebuilding it", name, states[name].reason)
        reindex(DEFINITIONS[name])
    return search.states(force=True) if stale and rebuild else states

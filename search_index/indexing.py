"""Keeping the index a faithful projection of the database: a transactional outbox.

Any flush that adds, changes or deletes a searchable row also inserts an outbox row, in the
same transaction, so a committed change can never miss the index. The indexer leases a
batch of outbox rows, rereads the current rows, writes them with their version (a late or
repeated message cannot overwrite newer data), and deletes the outbox rows it finished.
When the engine is down the rows wait and the index catches up when it returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, ClassVar

from flask import Flask
from sqlalchemy import Integer, String, delete, event, insert, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.extensions.database import Model, UTCDateTime, db

from . import search
from .interfaces import Deletion, Document, IndexDefinition, SearchUnavailable

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)


class SearchOutbox(Model):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    index_name: Mapped[str] = mapped_column(String(64))
    doc_id: Mapped[str] = mapped_column(String(128))
    # For a row deleted from the database: the version its tombstone gets.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(36), index=True)


SEARCHABLE: dict[str, type[Searchable]] = {}


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
    def stream_for_search(cls, session: Session) -> Iterator[Searchable]:
        raise NotImplementedError

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
        session.connection().execute(insert(SearchOutbox), rows)
        session.info["search_outbox_written"] = True


@event.listens_for(Session, "after_commit")
def _wake_indexer(session: Session) -> None:
    if session.info.pop("search_outbox_written", False):
        Indexer.wake_all()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop("search_outbox_written", None)


class Indexer:
    """Drains the outbox into the engine; ``drain()`` for tools and tests, ``start()`` for a thread."""

    _wakers: ClassVar[list[threading.Event]] = []

    def __init__(self, app: Flask, batch_size: int = 500, poll_seconds: float = 1.0) -> None:
        self.app = app
        self.batch_size = batch_size
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
        """Index every pending change; return how many outbox rows were done."""
        done = 0
        while True:
            count = self.drain_batch()
            done += count
            if count < self.batch_size:
                return done

    def drain_batch(self) -> int:
        owner = str(uuid.uuid4())
        with self.app.app_context():
            session = db.session
            now = dt.datetime.now(dt.UTC)
            ids = session.scalars(
                select(SearchOutbox.id)
                .where(or_(SearchOutbox.leased_until.is_(None), SearchOutbox.leased_until < now))
                .order_by(SearchOutbox.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not ids:
                session.rollback()
                return 0
            session.execute(
                update(SearchOutbox).where(SearchOutbox.id.in_(ids)).values(leased_until=now + LEASE, lease_owner=owner)
            )
            session.commit()
            leased = session.scalars(select(SearchOutbox).where(SearchOutbox.lease_owner == owner)).all()
            try:
                self._index(session, leased)
            except SearchUnavailable:
                session.rollback()
                session.execute(
                    update(SearchOutbox)
                    .where(SearchOutbox.lease_owner == owner)
                    .values(leased_until=None, lease_owner=None)
                )
                session.commit()
                raise
            session.execute(delete(SearchOutbox).where(SearchOutbox.lease_owner == owner))
            session.commit()
            return len(leased)

    def _index(self, session: Session, leased: list[SearchOutbox]) -> None:
        by_index: dict[str, dict[str, int]] = defaultdict(dict)
        for row in leased:
            tombstone = by_index[row.index_name]
            tombstone[row.doc_id] = max(tombstone.get(row.doc_id, 0), row.version)
        engine = search.engine
        for index_name, tombstones in by_index.items():
            model = SEARCHABLE[index_name]
            definition = model.__search__
            if index_name not in self._ensured:
                engine.ensure_index(definition)
                self._ensured.add(index_name)
            rows = model.load_for_search(session, list(tombstones))
            changes = [
                rows[doc_id].to_change() if doc_id in rows else Deletion(doc_id, version)
                for doc_id, version in tombstones.items()
            ]
            engine.write(definition, changes)
            if any(isinstance(change, Deletion) for change in changes):
                # A withdrawal must leave public search within a second; this thread is off the request
                # path, so making the deletion visible now costs no request anything.
                engine.refresh(definition)
        session.rollback()

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
        backoff = self.poll_seconds
        while not self._stop.is_set():
            self._wake.wait(backoff)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.drain()
                backoff = self.poll_seconds
            except SearchUnavailable as exc:
                backoff = min(backoff * 2, 30.0)
                log.warning("search engine unavailable, retrying in %.0fs: %s", backoff, exc)
            except Exception:
                backoff = min(backoff * 2, 30.0)
                log.exception("search indexer failed, retrying in %.0fs", backoff)


def reindex(definition: IndexDefinition) -> str:
    """Rebuild one index from the database and swap its alias; return the new index name."""
    model = SEARCHABLE[definition.name]
    session = db.session
    documents = (row.to_change() for row in model.stream_for_search(session))
    return search.engine.reindex(definition, (d for d in documents if isinstance(d, Document)))

"""SQLAlchemy 2.x wired into Flask: one engine per app, one session per app context.

The schema is owned by Alembic (``backend/migrations``); nothing here creates tables.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, Flask, current_app, g, request
from sqlalchemy import DateTime, Integer, MetaData, String, Table, create_engine, event, exc, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DatabaseIdentity(Model):
    """One row, made by migration 0014 with a random UUID: which database this is.

    It travels with the data (a backup restores it, a new database gets a new one), so what projects
    the database elsewhere (the search indices) can tell whether it still projects this one."""

    __tablename__ = "database_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))


def database_identity(session: Session) -> str | None:
    """The database's UUID; None before migration 0014."""
    return session.scalar(select(DatabaseIdentity.uuid).where(DatabaseIdentity.id == 1))


class _AppSession(Session):
    """Binds to the current app's engine unless a test bound it to a connection."""

    def get_bind(self, mapper=None, clause=None, **kwargs):  # type: ignore[override]
        if self.bind is not None:
            return self.bind
        return current_app.extensions["database"].engine


def _scope() -> int:
    # One session per app context: a request, a CLI command, or a worker thread's context.
    return id(g._get_current_object())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin, so SAVEPOINT works
    # (the documented pysqlite recipe); see _sqlite_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Set while code that only reads runs (see ``reading``); SQLite transactions then begin DEFERRED.
_reading: ContextVar[bool] = ContextVar("reading", default=False)


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock up front, so two writers queue instead of one failing with
    # "database is locked" when it upgrades a read transaction. Code that only reads begins DEFERRED
    # instead: in WAL mode readers then proceed side by side, and beside the writer, rather than
    # queueing for the write lock behind SQLite's sleeping busy handler.
    connection.exec_driver_sql("BEGIN" if _reading.get() else "BEGIN IMMEDIATE")


@contextmanager
def reading() -> Iterator[None]:
    """Mark what runs inside as read-only (a transaction it begins on SQLite is DEFERRED; elsewhere
    nothing changes). Only for code that never writes through the session."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def read_only_gets(blueprint: Blueprint) -> Blueprint:
    """The blueprint's GET and HEAD requests only read: run them under ``reading``."""

    def begin() -> None:
        if request.method in ("GET", "HEAD"):
            g._reading_token = _reading.set(True)

    def end(_exc: BaseException | None) -> None:
        token = g.pop("_reading_token", None)
        if token is not None:
            _reading.reset(token)

    blueprint.before_request(begin)
    blueprint.teardown_request(end)
    return blueprint


class Database:
    """Flask extension; the engine lives in ``app.extensions['database']``."""

    def __init__(self) -> None:
        self.session = scoped_session(sessionmaker(class_=_AppSession, expire_on_commit=False), scopefunc=_scope)

    def init_app(self, app: Flask) -> None:
        app.extensions["database"] = _State(make_engine(app.config["DATABASE_URL"]))
        app.teardown_appcontext(self._remove_session)

    def _remove_session(self, _exc: BaseException | None) -> None:
        try:
            self.session.remove()
        except exc.SQLAlchemyError as error:
            if not unreachable(error):
                raise
            # The connection died under the open transaction, so its rollback cannot run: drop the connection
            # (the pool replaces it) rather than fail a request whose answer is already made.
            self.session.registry().invalidate()
            self.session.remove()

    @property
    def engine(self) -> Engine:
        return current_app.extensions["database"].engine


class _State:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Pre-ping: a pooled connection the server dropped (a restart, a failover, an idle timeout) is replaced
    # at checkout instead of failing the request that drew it. It costs one round trip per checkout; the
    # hottest request, a badge check, reads cached snapshots and checks nothing out (bench/verify.py).
    return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot answer now (down, restarting, out of connections, or a
    SQLite file locked past its busy timeout), not that the statement was wrong: the request may be retried."""
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    return isinstance(error, exc.DBAPIError) and (
        error.connection_invalidated or isinstance(error, exc.OperationalError | exc.InterfaceError)
    )


db = Database()


# Below this many rows a COPY's extra round trip costs more than the statements it saves (and on SQLite
# the driver-level path saves too little to matter).
COPY_FROM_ROWS = 8


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT rows that all have the same keys, in the connection's transaction.

    Batches go to the driver directly: on PostgreSQL (psycopg) one COPY, on SQLite one ``executemany`` of
    the sqlite3 module (its loop is in C). Both are far less work per row, in Python and in the server,
    than SQLAlchemy's executemany, which processes every row's parameters in Python. Each value is bound
    exactly as SQLAlchemy binds it for an INSERT (the column type's bind processor), but Python-side column
    defaults are not applied: give every column that has one. Small batches and other drivers go through
    SQLAlchemy. A driver error comes back as SQLAlchemy raises it (IntegrityError for a duplicate key).
    """
    if not rows:
        return
    dialect = connection.dialect
    copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
    if len(rows) < COPY_FROM_ROWS or not (copy or dialect.name == "sqlite"):
        connection.execute(table.insert(), rows)
        return
    names = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]

    def values(row: dict[str, Any]) -> list[Any]:
        return [row[name] if p is None else p(row[name]) for name, p in zip(names, processors, strict=True)]

    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    if copy:
        statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    else:
        statement = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join('?' * len(names))})"
    cursor = connection.connection.driver_connection.cursor()
    try:
        if copy:
            with cursor.copy(statement) as stream:
                for row in rows:
                    stream.write_row(values(row))
        else:
            cursor.executemany(statement, map(values, rows))
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error, dialect=dialect) from error
    finally:
        cursor.close()


def drop_database(admin: Engine, name: str, attempts: int = 20, wait: float = 1.0) -> None:
    """DROP a PostgreSQL database (the test suite's and the benches' own), retried; ``admin`` in AUTOCOMMIT.

    WITH (FORCE) is refused when an autovacuum worker (a backend of no role this one may signal) is busy
    in the database; then this role's own sessions are ended and a plain DROP, which stops autovacuum by
    itself, is tried.
    """
    for attempt in range(attempts):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            pass
        try:
            with admin.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND usename = current_user AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            return
        except DBAPIError as error:
            if attempt == attempts - 1:
                raise
            logging.getLogger(__name__).warning(
                "could not drop database %s yet (%s); retrying", name, type(error.orig).__name__
            )
            time.sleep(wait)


@contextmanager
def temporary_database(server_url: str | None, name: str, sqlite_path: Path) -> Iterator[str]:
    """A new empty database for a test session or a bench run; yields its URL.

    Database ``name`` on the PostgreSQL server ``server_url`` names, dropped at the end (``drop_database``:
    WITH (FORCE), so a crashed worker cannot keep it); a SQLite file at ``sqlite_path`` when no server is
    named. It sits beside ``drop_database`` so creating and dropping are written once for both callers.
    """
    if not server_url or server_url.startswith("sqlite"):
        yield f"sqlite:///{sqlite_path}"
        return
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        try:
            drop_database(admin, name)
        finally:
            admin.dispose()

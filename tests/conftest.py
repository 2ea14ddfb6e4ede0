"""Fixture chain: database -> app -> db_session -> client -> runner -> auth helpers.

One database per test session (a fresh PostgreSQL database when DATABASE_URL names a server,
a temporary SQLite file otherwise), migrated by Alembic exactly as ``make run`` does. Each test
runs inside a transaction that is rolled back; the code under test commits to savepoints.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

import backend.models  # noqa: F401  (every table, for clean-up)
from backend import create_app
from backend.extensions import database, db, search
from backend.extensions.batched_limit import BatchedLimiter
from backend.extensions.cache import MemoryCache
from backend.extensions.clock import FixedClock
from backend.extensions.database import DatabaseIdentity, Model
from backend.officers.scan_log import ScanLog
from backend.search.indexing import Indexer
from backend.transparency.models import LogHead
from search_index import make_engine
from search_index.interfaces import IndexDefinition, SearchEngine
from search_index.mappings import DEFINITIONS
from tests.support.services import IN_CI

SESSION_TAG = uuid.uuid4().hex[:8]


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = os.environ.get("DATABASE_URL") or "sqlite (temporary file)"
    return [
        f"database: {urlsplit(database).scheme or database}",
        f"search engines: embedded{' + elasticsearch' if os.environ.get('ELASTICSEARCH_URL') else ''}",
        f"cache: memory + sqlite{' + redis' if os.environ.get('REDIS_URL') else ''}",
        f"CI: {IN_CI}",
    ]


@contextmanager
def temporary_database(tmp_dir) -> Iterator[str]:
    """A new empty database: on the PostgreSQL server DATABASE_URL names, else a SQLite file."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url and IN_CI:
        pytest.fail("CI=true needs DATABASE_URL (the suite runs on PostgreSQL in CI)")
    with database.temporary_database(
        server_url, f"sanxiang_test_{uuid.uuid4().hex[:12]}", tmp_dir / "test.sqlite3"
    ) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with temporary_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def base_config(database_url: str, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": database_url,
        "REDIS_URL": None,
        "ELASTICSEARCH_URL": None,
        "SEARCH_EMBEDDED_PATH": str(tmp_path / "search.sqlite3"),
        "CACHE_PATH": str(tmp_path / "cache.sqlite3"),
        "SEARCH_INDEX_PREFIX": f"test_{SESSION_TAG}",
        "BADGE_KEYS_DIR": str(tmp_path / "badge_keys"),
        "TRANSPARENCY_KEYS_DIR": str(tmp_path / "transparency_keys"),
        # Tests write the scan log with flush(), in their own transaction.
        "SCAN_LOG_INTERVAL_SECONDS": 0,
        "DEMO_DATA": False,
    }


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(base_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        app.test_cli_runner().invoke(args=["db", "upgrade"], catch_exceptions=False)
    yield app
    app.extensions["officer_snapshots"].stop()  # its polls would outlive the database
    app.extensions["database"].engine.dispose()


@pytest.fixture
def db_session(app: Flask) -> Iterator:
    """Every session the app opens during the test joins one outer transaction, rolled back after."""
    connection = app.extensions["database"].engine.connect()
    outer = connection.begin()
    with app.app_context():
        db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
        yield db.session
        db.session.remove()
        db.session.configure(bind=None)
    outer.rollback()
    connection.close()


@pytest.fixture(autouse=True)
def fresh_cache(app: Flask) -> Iterator[None]:
    """Rate-limit counters, cached values and buffered scans never leak from one test into the next."""
    app.extensions["cache"] = MemoryCache()
    app.extensions["scan_log"] = ScanLog(app, interval=0)
    app.extensions["scan_limiter"] = BatchedLimiter("verify", window=60)
    yield


def record_database(
    app: Flask, engine: SearchEngine, definitions: Iterable[IndexDefinition] = DEFINITIONS.values()
) -> None:
    """A test's new, empty indices project the test database as it is (``flask search init`` rebuilds
    new indices instead, which on an empty database comes to the same)."""
    with app.app_context():
        source = search.database_source()
    for definition in definitions:
        engine.record_source(definition, source)


@pytest.fixture
def search_engine(app: Flask, request: pytest.FixtureRequest, tmp_path):
    """A fresh embedded index set for one test (parametrize ``engine_name`` to use Elasticsearch)."""
    engine_name = getattr(request, "param", "embedded")
    config = dict(
        app.config,
        SEARCH_INDEX_PREFIX=f"t{uuid.uuid4().hex[:10]}",
        SEARCH_EMBEDDED_PATH=str(tmp_path / "search.sqlite3"),
    )
    if engine_name == "elasticsearch":
        from tests.support.services import require

        config["ELASTICSEARCH_URL"] = require("ELASTICSEARCH_URL", "Elasticsearch")
    else:
        config["ELASTICSEARCH_URL"] = None
    engine = make_engine(config)
    previous = app.extensions["search"]
    app.extensions["search"] = engine
    for definition in DEFINITIONS.values():
        engine.ensure_index(definition)
    record_database(app, engine)
    yield engine
    app.extensions["search"] = previous
    for definition in DEFINITIONS.values():
        engine.drop(definition)


@pytest.fixture
def client(app: Flask, db_session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db_session):
    return app.test_cli_runner()


@pytest.fixture
def indexer(app: Flask, search_engine) -> Indexer:
    """Drain the outbox in the test's own thread, then refresh so results are visible."""

    class TestIndexer(Indexer):
        def sync(self) -> int:
            done = self.drain()
            for definition in DEFINITIONS.values():
                search_engine.refresh(definition)
            return done

    return TestIndexer(app)


class CacheClock:
    """The cache's monotonic clock, standing still until a test moves it: expiries without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def cache_clock(app: Flask, fresh_cache: None) -> CacheClock:
    """A fresh in-process cache whose entries expire only when the test moves this clock."""
    ticks = CacheClock()
    app.extensions["cache"] = MemoryCache(clock=ticks)
    return ticks


@pytest.fixture
def frozen_clock(app: Flask) -> Iterator[FixedClock]:
    """The app's clock, standing at 2025-10-20 10:00 Beijing time until a test moves it."""
    previous = app.extensions["clock"]
    fixed = FixedClock(dt.datetime(2025, 10, 20, 2, 0, tzinfo=dt.UTC))
    app.extensions["clock"] = fixed
    yield fixed
    app.extensions["clock"] = previous


@pytest.fixture
def committed(app: Flask) -> Iterator[Flask]:
    """For tests of real concurrency: sessions commit for real; every table is emptied afterwards."""
    yield app
    with app.app_context():
        db.session.remove()
        engine = app.extensions["database"].engine
        with engine.begin() as conn:
            for table in reversed(Model.metadata.sorted_tables):
                if table is not DatabaseIdentity.__table__:  # the migration's, like the log head below
                    conn.execute(table.delete())
            # The migration's one row: an empty transparency log.
            conn.execute(insert(LogHead).values(id=1, size=0))


@pytest.fixture(scope="session")
def merkle_check(tmp_path_factory: pytest.TempPathFactory):
    """The independent Merkle checker (transparency-dev/merkle, Go), built once per session."""
    from tests.support.go_merkle import build_merkle_check

    return build_merkle_check(tmp_path_factory.mktemp("merkle_check"))


class AgencyAuth:
    """Creates a client for an agency and holds its bearer headers."""

    def __init__(self, client: FlaskClient, runner) -> None:
        self.client = client
        self.runner = runner

    def credentials(self, agency_code: str) -> dict:
        import json

        result = self.runner.invoke(args=["agency-client", "create", "--agency", agency_code])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    def headers(self, agency_code: str) -> dict:
        creds = self.credentials(agency_code)
        response = self.client.post("/api/v1/auth/token", json=creds)
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}


@pytest.fixture
def auth(client: FlaskClient, runner) -> AgencyAuth:
    return AgencyAuth(client, runner)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say which adapters each contract suite actually ran against, and how it went."""
    tally: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if "tests/contract/" not in nodeid or "[" not in nodeid or getattr(report, "when", "call") == "teardown":
                continue
            suite = nodeid.split("tests/contract/test_", 1)[1].split("_contract", 1)[0]
            adapter = nodeid.rsplit("[", 1)[1].rstrip("]")
            counts = tally.setdefault(f"{suite} contract, {adapter}", {})
            counts[outcome] = counts.get(outcome, 0) + 1
    if tally:
        terminalreporter.write_sep("-", "contract suites by adapter")
        for name, counts in sorted(tally.items()):
            terminalreporter.write_line(f"{name}: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items())))

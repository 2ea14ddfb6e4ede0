"""The search index knows which database it projects (issue 14): an index built for another database,
or for a later state of this one (a restored backup), is never served; it is rebuilt, and /readyz says so."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy.exc import OperationalError

from backend import create_app
from backend.extensions import search
from backend.search.indexing import Indexer, SearchOutbox, outbox_sequence, reconcile
from search_index import make_engine
from search_index.interfaces import Document, IndexStale, SourceState
from search_index.mappings import AGENCIES, DEFINITIONS
from tests.conftest import base_config, temporary_database
from tests.factories import AgencyFactory
from tests.support.services import require

ENGINES = ["embedded", "elasticsearch"]
OTHER_DATABASE = "7d1c0a52-0000-4000-8000-0000000000aa"


@pytest.fixture(autouse=True)
def checked_every_time(app, monkeypatch):
    """Each request compares afresh, instead of once per SEARCH_INDEX_CHECK_SECONDS."""
    monkeypatch.setattr(app.extensions["search_projection"], "every_seconds", 0)


@pytest.fixture
def agencies(db_session):
    return [AgencyFactory(code=f"REAL{n}", name=f"泉州市第{n}市场监督管理所") for n in range(3)]


def database_state(app) -> SourceState:
    with app.app_context():
        return search.database_source()


def build_for_another_database(engine, count: int = 40) -> None:
    """What the issue found: instance/search.sqlite3 kept from another database, with more items."""
    phantoms = (Document(f"GHOST{n}", 1, {"name": f"别处的市场监督管理所{n}", "level": "county"}) for n in range(count))
    engine.reindex(AGENCIES, phantoms, source=SourceState(OTHER_DATABASE, 900))


def assert_refused(response, state: str) -> None:
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == 503 and body["message"]
    assert body["errors"] == {"search": [state]}
    assert response.headers["Retry-After"]


def index_state(client) -> dict:
    response = client.get("/readyz")
    assert response.status_code == 200  # only search is affected: the instance stays in service
    return response.get_json()


@pytest.fixture(scope="module", params=ENGINES)
def index_of_database_a(request, tmp_path_factory):
    """The issue's database A: another database holding more agencies, and the index built for it. Yields
    the settings that reach that index (instance/search.sqlite3 kept, or the same Elasticsearch prefix)."""
    folder = tmp_path_factory.mktemp("database_a")
    elasticsearch = require("ELASTICSEARCH_URL", "Elasticsearch") if request.param == "elasticsearch" else None
    settings = {
        "SEARCH_EMBEDDED_PATH": str(folder / "search.sqlite3"),
        "SEARCH_INDEX_PREFIX": f"a{uuid.uuid4().hex[:10]}",
        "ELASTICSEARCH_URL": elasticsearch,
    }
    with temporary_database(folder) as url:
        app_a = create_app({**base_config(url, folder), **settings})
        try:
            with app_a.app_context():
                app_a.test_cli_runner().invoke(args=["db", "upgrade"], catch_exceptions=False)
                for n in range(12):
                    AgencyFactory(code=f"ELSEWHERE{n}", name=f"别处的第{n}市场监督管理所")
                search.ensure_indices()
                reconcile(rebuild=True)  # as `flask search init` does at A's start
                identity = search.database_source().database
            yield settings, identity
        finally:
            for definition in DEFINITIONS.values():
                app_a.extensions["search"].drop(definition)
            app_a.extensions["officer_snapshots"].stop()
            app_a.extensions["database"].engine.dispose()


def test_an_index_kept_from_database_a_is_not_served_with_database_b(
    app, client, agencies, index_of_database_a, monkeypatch
):
    settings, identity_a = index_of_database_a
    # Database B (the test database, 3 agencies) started with the index A left behind.
    engine = make_engine({**app.config, **settings})
    monkeypatch.setitem(app.extensions, "search", engine)

    # On main this answered total 15 with 3 items: A's 12 counted, their rows missing from B.
    assert_refused(client.get("/api/v1/agencies?q=市场监督管理所"), "stale")
    stale = index_state(client)["checks"]["search"]["index"]["indices"]["agencies"]
    assert stale["state"] == "stale" and identity_a in stale["reason"]

    Indexer(app).drain()  # B's pending changes: the indexer finds the index stale and rebuilds it from B
    engine.refresh(AGENCIES)
    body = client.get("/api/v1/agencies?q=市场监督管理所").get_json()
    assert body["total"] == len(body["items"]) == 3
    assert {item["code"] for item in body["items"]} == {agency.code for agency in agencies}
    assert index_state(client)["checks"]["search"]["index"]["state"] == "matching"


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_an_index_of_another_database_is_refused_then_rebuilt_without_phantom_totals(
    client, agencies, indexer, search_engine
):
    indexer.sync()
    assert client.get("/api/v1/agencies?q=市场").get_json()["total"] == 3
    build_for_another_database(search_engine)

    assert_refused(client.get("/api/v1/agencies?q=市场"), "stale")
    ready = index_state(client)
    assert ready["status"] == "degraded"
    assert ready["checks"]["search"]["index"]["state"] == "stale"
    stale = ready["checks"]["search"]["index"]["indices"]["agencies"]
    assert stale["state"] == "stale" and OTHER_DATABASE in stale["reason"]

    # The next change reaches the indexer, which writes nothing into the stale index and rebuilds it.
    AgencyFactory(code="REAL3", name="泉州市第3市场监督管理所")
    indexer.sync()
    body = client.get("/api/v1/agencies?q=市场&page_size=2").get_json()
    assert body["total"] == 4
    assert len(body["items"]) == 2
    assert len(client.get("/api/v1/agencies?q=市场&page=2&page_size=2").get_json()["items"]) == 2
    assert search_engine.count(AGENCIES) == 4
    ready = index_state(client)
    assert ready["status"] == "ok" and ready["checks"]["search"]["index"]["state"] == "matching"


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_an_index_ahead_of_a_restored_database_is_refused_and_search_init_rebuilds_it(
    app, client, runner, agencies, indexer, search_engine
):
    indexer.sync()
    now = database_state(app)
    # The index saw changes the database no longer has: it was restored from an earlier backup.
    search_engine.record_source(AGENCIES, SourceState(now.database, now.sequence + 50))

    assert_refused(client.get("/api/v1/agencies?q=市场"), "stale")
    reason = index_state(client)["checks"]["search"]["index"]["indices"]["agencies"]["reason"]
    assert "restored" in reason

    result = runner.invoke(args=["search", "init"])
    assert result.exit_code == 0, result.output
    assert "agencies matching" in result.output
    assert client.get("/api/v1/agencies?q=市场").get_json()["total"] == 3


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_while_the_rebuild_runs_search_says_so(app, client, agencies, indexer, search_engine):
    indexer.sync()
    build_for_another_database(search_engine)
    seen = {}

    def documents():
        seen["search"] = client.get("/api/v1/agencies?q=市场")
        seen["ready"] = index_state(client)
        yield from ()

    search_engine.reindex(AGENCIES, documents(), source=database_state(app))
    assert_refused(seen["search"], "rebuilding")
    assert seen["ready"]["checks"]["search"]["index"]["indices"]["agencies"]["state"] == "rebuilding"
    assert client.get("/api/v1/agencies?q=市场").status_code == 200


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_without_auto_reindex_the_rows_wait_and_readyz_says_how(app, client, db_session, monkeypatch, search_engine):
    monkeypatch.setitem(app.config, "SEARCH_AUTO_REINDEX", False)
    build_for_another_database(search_engine)
    AgencyFactory(code="WAIT", name="等待重建的执法局")
    pending = db_session.query(SearchOutbox).count()
    indexer = Indexer(app)
    with pytest.raises(IndexStale, match="does not project this database"):
        indexer.drain()
    assert db_session.query(SearchOutbox).count() == pending  # released, nothing lost
    assert search_engine.source(AGENCIES) == SourceState(OTHER_DATABASE, 900)
    index = index_state(client)["checks"]["search"]["index"]
    assert index["state"] == "stale"
    assert "search reindex" in index["action"]


def test_the_outbox_sequence_only_grows(app, db_session):
    before = outbox_sequence(db_session)
    AgencyFactory(code="SEQ1")
    db_session.flush()
    after = outbox_sequence(db_session)
    assert after > before
    db_session.query(SearchOutbox).delete()
    AgencyFactory(code="SEQ2")
    db_session.flush()
    assert outbox_sequence(db_session) > after  # ids of deleted rows are not handed out again


def test_readyz_leaves_a_database_outage_to_the_database_check(app, client, search_engine, monkeypatch):
    def database_down():
        raise OperationalError("SELECT uuid FROM database_identity", {}, Exception("connection refused"))

    monkeypatch.setattr(app.extensions["search_projection"], "read_source", database_down)
    search_check = client.get("/readyz").get_json()["checks"]["search"]
    assert search_check["ok"] and search_check["index"]["state"] == "unknown"


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_an_index_of_an_earlier_mapping_version_is_refused_then_rebuilt(app, client, agencies, search_engine):
    # What a deployment finds after a definition's version was bumped (version 2 folds traditional characters):
    # an index built by the earlier code, of this very database.
    earlier = dataclasses.replace(AGENCIES, version=AGENCIES.version - 1)
    old = (Document(a.code, 1, {"name": a.name, "level": "county"}) for a in agencies)
    search_engine.reindex(earlier, old, source=database_state(app))
    assert search_engine.mapping_version(AGENCIES) == AGENCIES.version - 1

    assert_refused(client.get("/api/v1/agencies?q=市場監督"), "stale")
    reason = index_state(client)["checks"]["search"]["index"]["indices"]["agencies"]["reason"]
    assert f"mapping version {AGENCIES.version - 1}" in reason

    Indexer(app).reconcile()  # what the indexer does at start and every SEARCH_INDEX_CHECK_SECONDS
    search_engine.refresh(AGENCIES)
    assert search_engine.mapping_version(AGENCIES) == AGENCIES.version
    assert client.get("/api/v1/agencies?q=市場監督").get_json()["total"] == 3
    assert index_state(client)["checks"]["search"]["index"]["state"] == "matching"

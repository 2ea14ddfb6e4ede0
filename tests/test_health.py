import json
import uuid
from urllib.parse import urlsplit

import pytest

from search_index import make_engine
from search_index.mappings import DEFINITIONS
from tests.conftest import record_database
from tests.support.services import require
from tests.support.tcp_proxy import TcpProxy


def test_healthz_touches_nothing(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_health_ready_prints_what_readyz_answers(client, runner, search_engine):
    result = runner.invoke(args=["health", "ready"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["checks"].keys() == client.get("/readyz").get_json()["checks"].keys()
    assert printed["checks"]["database"]["ok"]


def test_readyz_reports_each_dependency(client, search_engine):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] and checks["search"]["ok"] and checks["cache"]["ok"]
    assert checks["search"]["engine"] == "embedded"
    assert checks["cache"]["adapter"] == "memory"


@pytest.fixture
def proxied_elasticsearch(app):
    """The app's search engine is a real Elasticsearch reached through a proxy we can stop."""
    target = urlsplit(require("ELASTICSEARCH_URL", "Elasticsearch"))
    proxy = TcpProxy(target.hostname, target.port)
    proxy.start()
    previous = app.extensions["search"]
    prefix = f"h{uuid.uuid4().hex[:10]}"
    engine = make_engine({**app.config, "ELASTICSEARCH_URL": proxy.url, "SEARCH_INDEX_PREFIX": prefix})
    for definition in DEFINITIONS.values():
        engine.ensure_index(definition)
    record_database(app, engine)
    app.extensions["search"] = engine
    yield proxy
    app.extensions["search"] = previous
    proxy.stop()
    direct = make_engine({**app.config, "ELASTICSEARCH_URL": target.geturl(), "SEARCH_INDEX_PREFIX": prefix})
    for definition in DEFINITIONS.values():
        direct.drop(definition)


@pytest.mark.elasticsearch
def test_readyz_says_degraded_when_the_search_engine_stops_and_ok_when_it_returns(client, proxied_elasticsearch):
    assert client.get("/readyz").get_json()["status"] == "ok"
    proxied_elasticsearch.stop()
    response = client.get("/readyz")
    assert response.status_code == 200  # search is shared: failing readiness would take every instance out
    body = response.get_json()
    assert body["status"] == "degraded"
    assert set(body["errors"]) == {"search"}
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    proxied_elasticsearch.start()
    assert client.get("/readyz").get_json() == {**client.get("/readyz").get_json(), "status": "ok"}


def test_readyz_says_degraded_when_the_embedded_index_is_unreadable(client, app, tmp_path):
    broken = tmp_path / "not-a-database.sqlite3"
    broken.write_bytes(b"this is not sqlite" * 100)
    previous = app.extensions["search"]
    app.extensions["search"] = make_engine({**app.config, "SEARCH_EMBEDDED_PATH": str(broken)})
    try:
        response = client.get("/readyz")
    finally:
        app.extensions["search"] = previous
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert set(response.get_json()["errors"]) == {"search"}


def test_readyz_says_degraded_when_the_cache_is_down(client, app, search_engine):
    from backend.extensions.cache import RedisCache

    previous = app.extensions["cache"]
    app.extensions["cache"] = RedisCache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        response = client.get("/readyz")
    finally:
        app.extensions["cache"] = previous
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert set(response.get_json()["errors"]) == {"cache"}


@pytest.mark.elasticsearch
def test_with_two_nodes_named_one_down_leaves_search_ready(client, app):
    """ELASTICSEARCH_URL naming a cluster's nodes: with one of them unreachable, the other answers every time."""
    target = urlsplit(require("ELASTICSEARCH_URL", "Elasticsearch"))
    nodes = [TcpProxy(target.hostname, target.port) for _ in range(2)]
    for node in nodes:
        node.start()
    previous = app.extensions["search"]
    prefix = f"h{uuid.uuid4().hex[:10]}"
    engine = make_engine(
        {**app.config, "ELASTICSEARCH_URL": ",".join(n.url for n in nodes), "SEARCH_INDEX_PREFIX": prefix}
    )
    try:
        for definition in DEFINITIONS.values():
            engine.ensure_index(definition)
        record_database(app, engine)
        app.extensions["search"] = engine
        nodes[0].stop()
        # Enough requests that the client's round robin sends some to the node that is down.
        answers = [client.get("/readyz").get_json()["status"] for _ in range(6)]
        answers += [str(client.get("/api/v1/disclosures?q=食品").status_code) for _ in range(6)]
        assert answers == ["ok"] * 6 + ["200"] * 6
    finally:
        app.extensions["search"] = previous
        for definition in DEFINITIONS.values():
            engine.drop(definition)
        for node in nodes:
            node.stop()

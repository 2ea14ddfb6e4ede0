"""Nothing lost, nothing doubled: real commits, real threads, a real search engine taken away."""

import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from backend.accounts.services import create_client
from backend.agencies.services import create_agency
from backend.disclosures.models import Disclosure, DisclosureVersion
from backend.extensions import db
from backend.search.indexing import Indexer, SearchOutbox
from search_index import make_engine
from search_index.interfaces import SearchQuery
from search_index.mappings import DEFINITIONS, DISCLOSURES
from tests.conftest import record_database
from tests.factories.disclosures import decision
from tests.support.services import require
from tests.support.tcp_proxy import TcpProxy

URL = "/api/v1/publish/disclosures"


def agency_headers(app, code: str) -> dict:
    with app.app_context():
        create_agency(code=code, name="泉州市市场监督管理局", region_code="350500", actor="test")
        issued = create_client(code, actor="test")
        credentials = {"client_id": issued.client.client_id, "client_secret": issued.secret}
    token = app.test_client().post("/api/v1/auth/token", json=credentials).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("copies", [2, 6])
def test_concurrent_identical_puts_create_exactly_one_item(committed, copies):
    app = committed
    headers = agency_headers(app, "RACE")
    start = threading.Barrier(copies)
    statuses: list[int] = []

    def put() -> None:
        client = app.test_client()
        start.wait()
        statuses.append(client.put(f"{URL}/same", json=decision(), headers=headers).status_code)

    threads = [threading.Thread(target=put) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * (copies - 1) + [201]
    assert count(app, Disclosure) == 1
    assert count(app, DisclosureVersion) == 1


def test_concurrent_identical_bulks_create_each_item_once(committed):
    """New items of a bulk are inserted in one go (COPY on PostgreSQL); when another request created
    some of them meanwhile, the duplicate key sends the bulk item by item, and every item exists once."""
    app = committed
    headers = agency_headers(app, "BULKRACE")
    items = [{**decision(document_no=f"泉市监罚〔2025〕{n}号"), "external_id": f"race-{n}"} for n in range(40)]
    start = threading.Barrier(3)
    bodies: list[dict] = []

    def post() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(f"{URL}:bulk", json={"items": items}, headers=headers)
        assert response.status_code == 200
        bodies.append(response.get_json())

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bodies) == 3
    assert sum(body["created"] for body in bodies) == len(items)
    assert all(body["created"] + body["unchanged"] == len(items) for body in bodies)
    assert count(app, Disclosure) == count(app, DisclosureVersion) == len(items)


@pytest.mark.elasticsearch
@pytest.mark.slow
def test_elasticsearch_stopped_during_a_5000_item_ingest_loses_nothing(committed):
    app = committed
    target = urlsplit(require("ELASTICSEARCH_URL", "Elasticsearch"))
    proxy = TcpProxy(target.hostname, target.port)
    proxy.start()
    previous = app.extensions["search"]
    engine = make_engine({**app.config, "ELASTICSEARCH_URL": proxy.url, "SEARCH_INDEX_PREFIX": f"ingest{proxy.port}"})
    app.extensions["search"] = engine
    for definition in DEFINITIONS.values():
        engine.ensure_index(definition)
    record_database(app, engine)
    indexer = Indexer(app, poll_seconds=0.2)
    indexer.start()
    try:
        headers = agency_headers(app, "INGEST")
        client = app.test_client()
        for batch in range(10):
            if batch == 3:
                proxy.stop()
            if batch == 7:
                proxy.start()
            items = [
                {
                    **decision(title=f"停机测试决定 {batch}-{n}", document_no=f"泉市监罚〔2025〕{batch}{n:03d}号"),
                    "external_id": f"{batch}-{n}",
                }
                for n in range(500)
            ]
            response = client.post(f"{URL}:bulk", json={"items": items}, headers=headers)
            assert response.status_code == 200
            assert response.get_json()["created"] == 500
        Indexer.wake_all()
        deadline = time.monotonic() + 90
        while count(app, SearchOutbox) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert count(app, SearchOutbox) == 0
        engine.refresh(DISCLOSURES)
        assert engine.count(DISCLOSURES) == 5000
        assert engine.search(DISCLOSURES, SearchQuery(text="停机测试")).total == 5000
    finally:
        indexer.stop()
        app.extensions["search"] = previous
        if not proxy.running:
            proxy.start()
        for definition in DEFINITIONS.values():
            engine.drop(definition)
        proxy.stop()


@pytest.mark.elasticsearch
def test_a_withdrawal_leaves_elasticsearch_without_a_request_refreshing(committed):
    app = committed
    previous = app.extensions["search"]
    engine = make_engine(
        {
            **app.config,
            "ELASTICSEARCH_URL": require("ELASTICSEARCH_URL", "Elasticsearch"),
            "SEARCH_INDEX_PREFIX": f"withdraw{time.time_ns()}",
        }
    )
    app.extensions["search"] = engine
    for definition in DEFINITIONS.values():
        engine.ensure_index(definition)
    record_database(app, engine)
    indexer = Indexer(app, poll_seconds=0.2)
    indexer.start()
    try:
        headers = agency_headers(app, "WD")
        client = app.test_client()
        client.put(f"{URL}/w", json=decision(title="即将撤下的处罚决定"), headers=headers)
        deadline = time.monotonic() + 10
        while engine.search(DISCLOSURES, SearchQuery(text="即将撤下")).total == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.search(DISCLOSURES, SearchQuery(text="即将撤下")).total == 1
        response = client.post(
            f"{URL}/w/withdraw", json={"reason": "revoked", "explanation": "已被依法撤销。"}, headers=headers
        )
        assert response.status_code == 200
        withdrawn_at = time.monotonic()
        while engine.search(DISCLOSURES, SearchQuery(text="即将撤下")).total and time.monotonic() - withdrawn_at < 5:
            time.sleep(0.02)
        # How fast is measured by bench/transparency.py (timed assertions stay out of tests); here: it goes.
        assert engine.search(DISCLOSURES, SearchQuery(text="即将撤下")).total == 0
    finally:
        indexer.stop()
        app.extensions["search"] = previous
        for definition in DEFINITIONS.values():
            engine.drop(definition)

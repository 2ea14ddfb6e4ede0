"""Redis, PostgreSQL and Elasticsearch each cut during a mixed load against a live gunicorn.

Each dependency is reached through a TcpProxy (the shared servers keep running). While one is cut: no 500
and no unanswered request; each request is answered as README's degradation table says (documented() in
tests/support/outages.py); every publication acknowledged is stored, and searchable once the engine is back.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from backend.accounts.services import create_client
from backend.agencies.services import create_agency
from backend.disclosures.models import Disclosure
from backend.extensions import db
from backend.officers import tokens
from search_index import make_engine
from search_index.mappings import DEFINITIONS, DISCLOSURES
from tests.conftest import record_database
from tests.factories.officers import officer
from tests.support.live_server import LiveServer, http_json
from tests.support.outages import KINDS, MixedLoad, OutageReport, run_outage, wait_until
from tests.support.services import require
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.elasticsearch]

BADGE = "35050012345"


def proxied(url: str) -> tuple[TcpProxy, str]:
    """A started proxy in front of the server ``url`` names, and ``url`` pointing at the proxy instead."""
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname, parts.port)
    proxy.start()
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    return proxy, urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture
def live(committed, tmp_path):
    """A live server whose three services are each behind a proxy: (proxies, load on the server, engine)."""
    app = committed
    require("DATABASE_URL", "PostgreSQL")
    redis_url = require("REDIS_URL", "Redis")
    elasticsearch_url = require("ELASTICSEARCH_URL", "Elasticsearch")
    tag = uuid.uuid4().hex[:8]
    proxies, env = {}, {}
    for name, variable, url in (
        ("database", "DATABASE_URL", app.config["DATABASE_URL"]),
        ("redis", "REDIS_URL", redis_url),
        ("elasticsearch", "ELASTICSEARCH_URL", elasticsearch_url),
    ):
        proxies[name], env[variable] = proxied(url)
    engine = make_engine({**app.config, "ELASTICSEARCH_URL": elasticsearch_url, "SEARCH_INDEX_PREFIX": f"out{tag}"})
    for definition in DEFINITIONS.values():
        engine.ensure_index(definition)
    record_database(app, engine)
    with app.app_context():
        create_agency(code="MKT", name="泉州市市场监督管理局", region_code="350500", actor="test")
        issued = create_client("MKT", actor="test")
    with app.test_request_context():
        badge_token = tokens.issue("MKT", BADGE).token
    env.update(
        SECRET_KEY=app.config["SECRET_KEY"],
        BADGE_KEYS_DIR=app.config["BADGE_KEYS_DIR"],
        INSTANCE_PATH=str(tmp_path / "instance"),
        SEARCH_INDEX_PREFIX=f"out{tag}",
        CACHE_KEY_PREFIX=f"out{tag}:",
        SEARCH_INDEXER_THREAD="1",
        SCHEDULER_THREAD="0",
        DEMO_DATA="0",
        # Limits stay on (the limiter is what failed with Redis down) but high: every request is from 127.0.0.1.
        VERIFY_RATE_LIMIT_PER_MINUTE="1000000",
        COMPLAINT_RATE_LIMIT_PER_HOUR="1000000",
    )
    credentials = {"client_id": issued.client.client_id, "client_secret": issued.secret}
    try:
        with LiveServer(env, workers=2) as server:
            token = http_json("POST", f"{server.url}/api/v1/auth/token", credentials)["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            http_json("PUT", f"{server.url}/api/v1/publish/officers/{BADGE}", officer(), bearer)
            load = MixedLoad(server.url, badge_token, credentials, bearer)
            yield proxies, load, engine
    finally:
        for proxy in proxies.values():
            proxy.stop()
        for definition in DEFINITIONS.values():
            engine.drop(definition)


def searchable(engine):
    def found(public_ids: list[str]) -> bool:
        if not public_ids:
            return True
        count = engine.client.count(index=engine.alias(DISCLOSURES), query={"ids": {"values": public_ids}})
        return count["count"] == len(public_ids)

    return found


def check(report: OutageReport, app, engine) -> None:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}s"

    print(
        f"\n{report.outage} down {report.down_seconds:.1f}s: {len(report.answers)} requests, "
        f"{report.server_errors} undocumented 5xx/unanswered, {report.unavailable} documented 503, "
        f"{len(report.acknowledged)} publications acknowledged; every kind answered 2xx again "
        f"{seconds(report.recovered_after)} after the return; publications acknowledged by then searchable "
        f"{seconds(report.searchable_after)} after it"
    )
    for phase in ("before", "during", "after"):
        print(f"  {phase}: " + "; ".join(f"{k} {dict(c)}" for k, c in report.statuses(phase).items()))
    assert report.undocumented == []
    assert {answer.kind for answer in report.answers if answer.phase == "during"} == set(KINDS)
    assert report.recovered_after is not None  # every kind answered 2xx again, to the end
    assert report.acknowledged
    with app.app_context():
        stored = db.session.scalar(
            select(func.count()).select_from(Disclosure).where(Disclosure.id.in_(list(report.acknowledged.values())))
        )
    assert stored == len(report.acknowledged)
    # Searchable once the engine is up: a generous wait, the point is "caught up", not how fast (printed above).
    assert wait_until(lambda: searchable(engine)(list(report.acknowledged.values())), 60) is not None


def test_redis_down_changes_nothing_a_client_sees(live, committed):
    proxies, load, engine = live
    report = run_outage(load, proxies["redis"], "redis")
    check(report, committed, engine)
    during = [answer for answer in report.answers if answer.phase == "during"]
    assert all(200 <= answer.status < 300 for answer in during)  # badge checks, complaints, tokens included


def test_database_down_answers_503_with_retry_after(live, committed):
    proxies, load, engine = live
    report = run_outage(load, proxies["database"], "database")
    check(report, committed, engine)
    statuses = report.statuses("during")
    assert statuses["publish"][503] and statuses["complaint"][503] and statuses["token"][503]


def test_elasticsearch_down_search_answers_503_and_the_index_catches_up(live, committed):
    proxies, load, engine = live
    report = run_outage(load, proxies["elasticsearch"], "elasticsearch", searchable=searchable(engine))
    check(report, committed, engine)
    statuses = report.statuses("during")
    assert statuses["search"][503] and not statuses["publish"][503]
    assert report.searchable_after is not None

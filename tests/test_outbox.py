"""Nothing is lost when the search engine is down: the outbox waits and the index catches up."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from backend.search.indexing import Indexer, SearchOutbox
from search_index import make_engine
from search_index.interfaces import SearchQuery, SearchUnavailable
from search_index.mappings import AGENCIES
from tests.conftest import record_database
from tests.factories import AgencyFactory
from tests.support.services import require
from tests.support.tcp_proxy import TcpProxy


def pending(session) -> int:
    return session.scalar(select(func.count()).select_from(SearchOutbox))


def test_a_commit_writes_its_outbox_rows_in_the_same_transaction(db_session):
    AgencyFactory(code="A1")
    assert pending(db_session) == 1
    db_session.rollback()


def test_a_rolled_back_change_leaves_no_outbox_row(db_session):
    from backend.agencies.models import Agency

    db_session.add(AgencyFactory.build(code="A2"))
    db_session.flush()
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(Agency).where(Agency.code == "A2")) == 0
    assert pending(db_session) == 0


@pytest.mark.elasticsearch
def test_publishing_succeeds_while_elasticsearch_is_down_and_the_index_catches_up(app, db_session, tmp_path):
    target = urlsplit(require("ELASTICSEARCH_URL", "Elasticsearch"))
    proxy = TcpProxy(target.hostname, target.port)
    proxy.start()
    previous = app.extensions["search"]
    engine = make_engine({**app.config, "ELASTICSEARCH_URL": proxy.url, "SEARCH_INDEX_PREFIX": f"down{id(proxy)}"})
    app.extensions["search"] = engine
    try:
        engine.ensure_index(AGENCIES)
        record_database(app, engine, [AGENCIES])
        proxy.stop()
        for n in range(30):
            AgencyFactory(code=f"DOWN{n}", name=f"停机期间的执法局{n}")
        indexer = Indexer(app, batch_size=10)
        with pytest.raises(SearchUnavailable):
            indexer.drain()
        assert pending(db_session) == 30  # nothing was lost, the leases were released
        proxy.start()
        assert indexer.drain() == 30
        engine.refresh(AGENCIES)
        assert pending(db_session) == 0
        assert engine.search(AGENCIES, SearchQuery(text="停机期间", page_size=50)).total == 30
    finally:
        app.extensions["search"] = previous
        engine.drop(AGENCIES)
        proxy.stop()


def test_a_leased_batch_is_not_taken_twice(app, db_session, search_engine):
    for n in range(5):
        AgencyFactory(code=f"L{n}")
    first, second = Indexer(app, batch_size=3), Indexer(app, batch_size=3)
    assert first.drain_batch() == 3
    assert second.drain_batch() == 2
    assert pending(db_session) == 0
    assert search_engine.count(AGENCIES) == 5

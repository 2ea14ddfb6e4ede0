"""The SQLite default: writers queue for the lock up front, readers do not queue at all."""

import pytest
from sqlalchemy.exc import OperationalError

from backend.extensions.database import make_engine, reading


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield engine
    engine.dispose()


def _count(engine, busy_ms: int) -> int:
    with engine.connect() as connection:
        connection.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={busy_ms}")
        with connection.begin():
            return connection.exec_driver_sql("SELECT count(*) FROM t").scalar()


def test_a_reader_reads_beside_a_writer_holding_the_lock(engine):
    with engine.connect() as writer, writer.begin():
        writer.exec_driver_sql("INSERT INTO t VALUES (1)")  # an open write transaction
        with pytest.raises(OperationalError, match="locked"):
            _count(engine, busy_ms=50)  # an ordinary transaction begins IMMEDIATE: it waits for the lock
        with reading():
            assert _count(engine, busy_ms=50) == 0  # a reading one begins DEFERRED: the last committed state
    with reading():
        assert _count(engine, busy_ms=50) == 1


def test_public_gets_run_under_reading_and_nothing_else_does(client, auth, db_session, monkeypatch):
    from backend.disclosures import publishing, reading
    from backend.extensions.database import _reading
    from tests.factories import AgencyFactory

    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    seen = []
    agency_page = reading.agency_page
    monkeypatch.setattr(reading, "agency_page", lambda code: seen.append(_reading.get()) or agency_page(code))
    assert client.get("/api/v1/agencies/MKT").status_code == 200
    assert seen == [True]
    assert _reading.get() is False  # reset when the request ends

    upsert = publishing.upsert
    monkeypatch.setattr(publishing, "upsert", lambda *args: seen.append(_reading.get()) or upsert(*args))
    assert client.put("/api/v1/publish/disclosures/x-1", json=_remedy(), headers=auth.headers("MKT")).status_code == 201
    assert seen == [True, False]  # the publishing API writes: its transactions take the lock up front


def _remedy() -> dict:
    return {
        "phase": "pre",
        "type": "remedy",
        "title": "行政复议和行政诉讼途径",
        "content": "对处罚决定不服的，可申请复议。",
    }

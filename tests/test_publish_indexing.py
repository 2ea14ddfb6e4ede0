"""Bulk publishing's write path: the indexer's and the rebuild's column-only reads give the same documents as
the ORM rows they replace, and rows inserted without the ORM fail the way ORM inserts do."""

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.disclosures.models import Disclosure
from backend.extensions.database import insert_rows
from backend.search.indexing import SearchOutbox
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, power

URL = "/api/v1/publish/disclosures"


def test_load_changes_agrees_with_the_rows(client, auth, db_session, frozen_clock):
    agency = AgencyFactory(code="IDX-A", region_code="350502")
    headers = auth.headers(agency.code)
    bodies = {
        "published": decision(subject_type="person", subject_name="李四", content="当事人李四电话13812345678。"),
        "pending": decision(publish=False),
        "withheld": decision(confidential=True),
        "pre": power(),
    }
    for name, body in bodies.items():
        assert client.put(f"{URL}/{name}", json=body, headers=headers).status_code == 201
    rows = db_session.scalars(select(Disclosure)).all()
    ids = [row.id for row in rows]
    changes = Disclosure.load_changes(db_session, ids, select(SearchOutbox.doc_id).where(SearchOutbox.doc_id.in_(ids)))
    assert changes == {row.id: row.to_change() for row in rows}
    assert sum(1 for change in changes.values() if hasattr(change, "body")) == 2
    # A rebuild reads every published item, in id order, the same way.
    published = db_session.scalars(Disclosure.select_for_search()).all()
    assert list(Disclosure.stream_changes(db_session)) == [row.to_change() for row in published]
    assert len(published) == 2


def test_insert_rows_reports_a_duplicate_as_an_integrity_error(db_session):
    """bulk_upsert retries one by one on IntegrityError (a concurrent request created the same item);
    the COPY path must raise exactly that, not the driver's own exception."""
    now = dt.datetime.now(dt.UTC)
    rows = [{"index_name": "disclosures", "doc_id": f"d{n}", "version": 1, "created_at": now} for n in range(20)]
    connection = db_session.connection()
    insert_rows(connection, SearchOutbox.__table__, rows)
    assert db_session.scalar(select(func.count()).select_from(SearchOutbox)) == 20
    first = db_session.scalar(select(SearchOutbox.id).order_by(SearchOutbox.id))
    with pytest.raises(IntegrityError):
        insert_rows(connection, SearchOutbox.__table__, [{**row, "id": first} for row in rows])

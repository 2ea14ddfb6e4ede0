"""The indexer's column-only read gives the same documents as the ORM rows it replaces."""

from sqlalchemy import select

from backend.disclosures.models import Disclosure
from search_index.indexing import SearchOutbox
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

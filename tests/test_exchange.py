"""The changes feed: a receiver replaying it rebuilds the region's public state, proving every change
against a signed checkpoint; a restart resumes at its cursor; other regions see nothing of it."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sqlalchemy import select

from backend.canonical import canonical_json
from backend.disclosures.lifecycle import expire_due
from backend.disclosures.models import Disclosure
from backend.disclosures.publishing import committed_content
from backend.extensions import db
from backend.transparency import merkle
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import officer
from tests.test_transparency import checkpoint_verifies

PUBLISH = "/api/v1/publish/disclosures"
CHANGES = "/api/v1/exchange/changes"
SCHEMAS = Path(__file__).parents[1] / "backend" / "exchange" / "json_schemas"
WITHDRAWAL = {"reason": "confirmed_illegal", "explanation": "经人民法院判决确认该处罚决定违法。"}
ENTRY_FIELDS = ("index", "event", "item_id", "agency", "actor", "time", "commitment", "detail")


def publish(client, headers, external_id, **changes):
    response = client.put(
        f"{PUBLISH}/{external_id}", json=decision(document_no=f"罚〔2025〕{external_id}号", **changes), headers=headers
    )
    assert response.status_code in (200, 201), response.get_json()


@pytest.fixture
def history(client, auth, db_session, frozen_clock):
    """Quanzhou's MKT and Xiamen's XMK publish; MKT corrects, withdraws and suspends a badge."""
    AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500")
    AgencyFactory(code="XMK", name="厦门市市场监督管理局", region_code="350200")
    mkt, xmk = auth.headers("MKT"), auth.headers("XMK")
    for n in range(4):
        publish(client, mkt, f"q{n}")
        publish(client, xmk, f"x{n}")
    publish(client, mkt, "q1", content="更正后的内容。")
    assert client.post(f"{PUBLISH}/q2/withdraw", json=WITHDRAWAL, headers=mkt).status_code == 200
    client.put("/api/v1/publish/officers/35050012345", json=officer(), headers=mkt)
    client.post(
        "/api/v1/publish/officers/35050012345/status", json={"status": "suspended", "reason": "调岗"}, headers=mkt
    )
    person = {"subject_type": "person", "subject_name": "张三", "subject_id": "350502199001011234"}
    publish(client, mkt, "q4", **person)
    # A year on, the person's penalty has left public view (the tokens of a year ago have expired).
    frozen_clock.at = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    assert expire_due() == 1
    return {"MKT": auth.headers("MKT"), "XMK": auth.headers("XMK")}


def exchange_headers(client, runner, region):
    created = runner.invoke(args=["exchange-client", "create", "--region", region])
    assert created.exit_code == 0, created.output
    printed = json.loads(created.output)
    assert printed["region"] == region
    credentials = {"client_id": printed["client_id"], "client_secret": printed["client_secret"]}
    token = client.post("/api/v1/exchange/token", json=credentials)
    assert token.status_code == 200, token.get_json()
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


def validator_for(event):
    resources = [(path.name, Resource.from_contents(json.loads(path.read_text()))) for path in SCHEMAS.glob("*.json")]
    registry = Registry().with_resources(resources)
    return Draft202012Validator(json.loads((SCHEMAS / f"{event}.json").read_text()), registry=registry)


def verified(client, page):
    """The page's changes, each checked as an outside receiver would: leaf, proof, commitment, schema."""
    checkpoint = page["checkpoint"]
    assert checkpoint_verifies(client, checkpoint)
    root = bytes.fromhex(checkpoint["root_hash"])
    for change in page["changes"]:
        leaf = hashlib.sha256(b"\x00" + canonical_json({k: change[k] for k in ENTRY_FIELDS}).encode()).digest()
        assert leaf.hex() == change["leaf_hash"]
        proof = [bytes.fromhex(h) for h in change["proof"]]
        assert merkle.verify_inclusion(leaf, change["index"], checkpoint["tree_size"], proof, root), change["index"]
        if change["content"] is not None:
            content = change["content"]
            salted = bytes.fromhex(content["salt"]) + canonical_json(content["committed"]).encode()
            assert hashlib.sha256(salted).hexdigest() == change["commitment"]
        errors = list(validator_for(change["event"]).iter_errors(change))
        assert not errors, (change, errors[0].message)
    return page["changes"]


def read_from(client, headers, cursor, limit):
    """Pages from ``cursor`` until the feed is caught up: the changes and the cursor to resume from."""
    changes = []
    while True:
        response = client.get(CHANGES, query_string={"after": cursor, "limit": limit}, headers=headers)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        changes += verified(client, page)
        assert page["next_cursor"] >= cursor
        cursor = page["next_cursor"]
        if not page["more"]:
            return changes, cursor


def rebuild(changes):
    """The public state a receiver keeps: item id -> the content it last saw committed for it."""
    state = {}
    for change in changes:
        if change["event"] in ("publish", "correct"):
            state[change["item_id"]] = change["content"]["committed"] if change["content"] else None
        elif change["event"] in ("withdraw", "expire", "withhold"):
            state.pop(change["item_id"], None)
    return state


def test_a_receiver_replaying_from_zero_rebuilds_the_public_state_and_proves_every_change(client, runner, history):
    changes, _ = read_from(client, exchange_headers(client, runner, "350500"), 0, 3)
    items = db.session.scalars(select(Disclosure).where(Disclosure.region_code.like("3505%")))
    public = {item.id: committed_content(item) for item in items if item.is_public}
    assert rebuild(changes) == public and len(public) == 3
    events = [change["event"] for change in changes]
    assert events.count("publish") == 5 and {"correct", "withdraw", "expire", "credential_status"} <= set(events)
    assert [c["index"] for c in changes] == sorted({c["index"] for c in changes})
    assert {c["agency"] for c in changes} == {"MKT"}


def test_a_restart_mid_stream_resumes_with_nothing_lost_or_repeated(client, runner, history):
    headers = exchange_headers(client, runner, "350500")
    first = client.get(CHANGES, query_string={"after": 0, "limit": 2}, headers=headers).get_json()
    seen = verified(client, first)
    saved = first["next_cursor"]  # what the receiver stored before it stopped
    publish(client, history["MKT"], "q9")  # the log grows while it is down
    publish(client, history["XMK"], "x9")
    rest, _ = read_from(client, headers, saved, 2)
    everything, end = read_from(client, headers, 0, 500)
    assert [c["index"] for c in seen + rest] == [c["index"] for c in everything]
    assert rest[-1]["item_id"] == db.session.scalar(select(Disclosure.id).where(Disclosure.external_id == "q9"))
    caught_up = client.get(CHANGES, query_string={"after": end}, headers=headers).get_json()
    assert caught_up["changes"] == [] and caught_up["next_cursor"] == end and not caught_up["more"]


def test_a_region_sees_only_its_own_changes(client, runner, history):
    xiamen, _ = read_from(client, exchange_headers(client, runner, "350200"), 0, 100)
    assert {c["agency"] for c in xiamen} == {"XMK"} and len(xiamen) == 4
    province, _ = read_from(client, exchange_headers(client, runner, "350000"), 0, 100)
    assert {c["agency"] for c in province} == {"MKT", "XMK"}
    beijing = client.get(CHANGES, headers=exchange_headers(client, runner, "110000")).get_json()
    assert beijing["changes"] == [] and beijing["next_cursor"] == beijing["checkpoint"]["tree_size"]


def test_only_an_exchange_token_reads_the_feed_and_it_is_rate_limited(app, client, runner, history, monkeypatch):
    assert client.get(CHANGES, headers=history["MKT"]).status_code == 401  # an agency's token is not one
    assert client.get(CHANGES).status_code == 401
    headers = exchange_headers(client, runner, "350500")
    assert client.get("/api/v1/auth/whoami", headers=headers).status_code == 401
    monkeypatch.setitem(app.config, "EXCHANGE_RATE_LIMIT_PER_MINUTE", 2)
    assert [client.get(CHANGES, headers=headers).status_code for _ in range(2)] == [200, 200]
    limited = client.get(CHANGES, headers=headers)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert set(limited.get_json()) >= {"code", "status", "message"}


def test_bad_cursors_and_sizes_are_refused_by_name(client, runner, history):
    headers = exchange_headers(client, runner, "350500")
    size = client.get(CHANGES, headers=headers).get_json()["checkpoint"]["tree_size"]
    for query, field in (
        ({"after": size + 1}, "after"),
        ({"after": -1}, "after"),
        ({"tree_size": size - 1}, "tree_size"),
        ({"tree_size": 10**20}, "tree_size"),  # no database stores it: refused by name, not a 500
    ):
        response = client.get(CHANGES, query_string=query, headers=headers)
        assert response.status_code == 422, query
        assert field in json.dumps(response.get_json()["errors"]), response.get_json()


def test_every_event_type_has_a_schema_served_at_a_stable_url(client):
    names = {path.stem for path in SCHEMAS.glob("*.json")}
    assert {"change", "publish", "correct", "withdraw", "expire", "credential_status", "record"} <= names
    for name in names:
        response = client.get(f"/api/v1/exchange/schemas/{name}.json")
        assert response.status_code == 200 and response.mimetype == "application/schema+json"
        Draft202012Validator.check_schema(json.loads(response.data))
    missing = client.get("/api/v1/exchange/schemas/nothing.json")
    assert missing.status_code == 404 and missing.get_json()["errors"]


def test_the_feed_is_documented_with_its_own_security_scheme(client):
    spec = client.get("/api/openapi.json").get_json()
    changes = spec["paths"]["/api/v1/exchange/changes"]["get"]
    assert changes["security"] == [{"ExchangeBearer": []}] and {"401", "429"} <= set(changes["responses"])
    assert "ExchangeBearer" in spec["components"]["securitySchemes"]


def test_a_wrong_secret_or_a_revoked_client_gets_no_feed(client, runner, db_session):
    created = json.loads(runner.invoke(args=["exchange-client", "create", "--region", "350500"]).output)
    wrong = client.post("/api/v1/exchange/token", json={"client_id": created["client_id"], "client_secret": "x"})
    assert wrong.status_code == 401
    token = client.post(
        "/api/v1/exchange/token", json={"client_id": created["client_id"], "client_secret": created["client_secret"]}
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(CHANGES, headers=headers).status_code == 200
    assert runner.invoke(args=["exchange-client", "revoke", created["client_id"]]).exit_code == 0
    assert client.get(CHANGES, headers=headers).status_code == 401
    bad_region = runner.invoke(args=["exchange-client", "create", "--region", "35"])
    assert bad_region.exit_code != 0 and "region" in bad_region.output

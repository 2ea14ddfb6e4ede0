"""The transparency log: signed checkpoints, proofs an outside implementation accepts, an audit that
catches tampering in the database, and appends that never share an index."""

import base64
import hashlib
import re
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, func, select, update

from backend.accounts.models import AgencyClient
from backend.canonical import canonical_json
from backend.extensions import db
from backend.transparency import services as transparency
from backend.transparency.models import LogEntry, LogHead
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision
from tests.factories.officers import officer
from tests.support.go_merkle import run_go

URL = "/api/v1/publish/disclosures"
WITHDRAWAL = {"reason": "confirmed_illegal", "explanation": "经人民法院判决确认该处罚决定违法。"}


@pytest.fixture
def history(client, auth, db_session, frozen_clock):
    """Ten publications, a correction, a withdrawal and a credential suspension."""
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    ids = []
    for n in range(10):
        body = client.put(f"{URL}/d{n}", json=decision(document_no=f"泉市监罚〔2025〕{n}号"), headers=headers)
        ids.append(body.get_json()["id"])
    client.put(f"{URL}/d3", json=decision(document_no="泉市监罚〔2025〕3号", content="更正。"), headers=headers)
    client.post(f"{URL}/d5/withdraw", json=WITHDRAWAL, headers=headers)
    client.put("/api/v1/publish/officers/35050012345", json=officer(), headers=headers)
    client.post(
        "/api/v1/publish/officers/35050012345/status", json={"status": "suspended", "reason": "调岗"}, headers=headers
    )
    return {"ids": ids, "headers": headers}


def get(client, path, **params):
    response = client.get(path, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def checkpoint_verifies(client, checkpoint) -> bool:
    (key,) = [k for k in get(client, "/api/v1/transparency/keys")["keys"] if k["kid"] == checkpoint["key_id"]]
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(key["x"] + "="))
    message = (
        f"sanxiang-transparency-log\n{checkpoint['tree_size']}\n{checkpoint['root_hash']}\n{checkpoint['timestamp']}\n"
    ).encode()
    try:
        public.verify(bytes.fromhex(checkpoint["signature"]), message)
    except Exception:
        return False
    return True


def test_the_checkpoint_is_signed_and_names_its_key(client, history):
    checkpoint = get(client, "/api/v1/transparency/checkpoint")
    assert checkpoint["tree_size"] == 13
    assert len(checkpoint["root_hash"]) == 64 and checkpoint["root_hash"] == checkpoint["root_hash"].lower()
    assert checkpoint_verifies(client, checkpoint)
    assert not checkpoint_verifies(client, {**checkpoint, "tree_size": 12})
    assert get(client, "/api/v1/transparency/checkpoint") == checkpoint  # one signature per size


def test_entries_hold_no_personal_data_and_commit_to_what_citizens_saw(client, history):
    entries = get(client, "/api/v1/transparency/entries", start=0, end=13)["entries"]
    assert [e["index"] for e in entries] == list(range(13))
    assert [e["event"] for e in entries[10:]] == ["correct", "withdraw", "credential_status"]
    assert entries[12]["item_id"] == "MKT/35050012345" and entries[12]["detail"] == {"status": "suspended"}
    text = str(entries)
    assert "过期食品" not in text and "某食品店" not in text and "违法" not in text
    # With the item's salt, anyone can check the entry commits to the public content.
    item = get(client, f"/api/v1/disclosures/{history['ids'][0]}")
    assert item["log_index"] == 0
    from backend.disclosures.models import Disclosure
    from backend.disclosures.publishing import committed_content

    stored = db.session.get(Disclosure, item["id"])
    expected = hashlib.sha256(
        bytes.fromhex(item["commitment_salt"]) + canonical_json(committed_content(stored)).encode()
    ).hexdigest()
    assert entries[0]["commitment"] == expected


def test_every_inclusion_and_consistency_proof_is_accepted_by_an_independent_implementation(
    client, history, merkle_check
):
    size = get(client, "/api/v1/transparency/checkpoint")["tree_size"]
    entries = get(client, "/api/v1/transparency/entries", start=0, end=size)["entries"]
    roots = {}
    checks = []
    for n in range(1, size + 1):
        roots[n] = transparency.root_at(n).hex()
    for entry in entries:
        proof = get(client, "/api/v1/transparency/proof/inclusion", index=entry["index"], tree_size=size)
        checks.append(
            {
                "kind": "inclusion",
                "leaf_hash": entry["leaf_hash"],
                "index": entry["index"],
                "size": size,
                "proof": proof["hashes"],
                "root": roots[size],
            }
        )
    for first in range(1, size + 1):
        proof = get(client, "/api/v1/transparency/proof/consistency", first=first, second=size)
        checks.append(
            {
                "kind": "consistency",
                "first": first,
                "second": size,
                "first_root": roots[first],
                "second_root": roots[size],
                "proof": proof["hashes"],
            }
        )
    results = run_go(merkle_check, checks)
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]][:3]
    tampered = [{**checks[0], "index": 1}, {**checks[-1], "first_root": roots[1]}]
    assert not any(r["ok"] for r in run_go(merkle_check, tampered))


def test_anyone_can_prove_published_then_withdrawn_and_why(client, history, merkle_check):
    withdrawn_id = history["ids"][5]
    notice = client.get(f"/api/v1/disclosures/{withdrawn_id}").get_json()
    checkpoint = get(client, "/api/v1/transparency/checkpoint")
    size = checkpoint["tree_size"]
    checks = []
    for index in (notice["published_log_index"], notice["log_index"]):
        (entry,) = get(client, "/api/v1/transparency/entries", start=index, end=index + 1)["entries"]
        assert entry["item_id"] == withdrawn_id
        proof = get(client, "/api/v1/transparency/proof/inclusion", index=index)["hashes"]
        checks.append(
            {
                "kind": "inclusion",
                "leaf_hash": entry["leaf_hash"],
                "index": index,
                "size": size,
                "proof": proof,
                "root": checkpoint["root_hash"],
            }
        )
    assert all(r["ok"] for r in run_go(merkle_check, checks))
    (withdrawal,) = get(client, "/api/v1/transparency/entries", start=notice["log_index"], end=notice["log_index"] + 1)[
        "entries"
    ]
    assert withdrawal["event"] == "withdraw" and withdrawal["detail"] == {"reason": "confirmed_illegal"}
    notice_commitment = hashlib.sha256(
        bytes.fromhex(notice["notice_salt"])
        + canonical_json(
            {
                "id": withdrawn_id,
                "reason": notice["reason"],
                "explanation": notice["explanation"],
                "document_no": notice["document_no"],
            }
        ).encode()
    ).hexdigest()
    assert withdrawal["commitment"] == notice_commitment
    assert checkpoint_verifies(client, checkpoint)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"index": 99}, "index"), ({"index": 0, "tree_size": 99}, "tree_size"), ({"index": -1}, "index")],
)
def test_proof_requests_out_of_range_are_422(client, history, params, field):
    response = client.get("/api/v1/transparency/proof/inclusion", query_string=params)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in str(errors)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("inclusion", {"index": 0, "tree_size": 14}, "tree_size"),  # one past the log: nodes asked for
        ("inclusion", {"index": 20, "tree_size": 14}, "tree_size"),  # both wrong: the size is reported
        ("inclusion", {"index": 0, "tree_size": 0}, "tree_size"),
        ("consistency", {"first": 14, "second": 14}, "tree_size"),  # an empty proof still checks the size
        ("consistency", {"first": 3, "second": 14}, "tree_size"),
        ("consistency", {"first": 15, "second": 14}, "tree_size"),
        ("consistency", {"first": 14, "second": 13}, "first"),
    ],
)
def test_a_proof_at_a_size_the_log_has_not_reached_is_422(client, history, path, params, field):
    response = client.get(f"/api/v1/transparency/proof/{path}", query_string=params)
    assert response.status_code == 422
    assert field in str(response.get_json()["errors"])


def test_entries_with_any_content_hash_as_their_stored_columns(db_session):
    """Appends encode entries ahead of the head lock; the audit re-encodes the stored columns: they agree."""
    events = [
        transparency.Event(
            "publish", 'd"1\\\n', "MKT", "client:ac_0001", "ab" * 32, {"z": [1, {"b": None}], "a": "泉州"}
        ),
        transparency.Event("withdraw", "条目/2", "MKT", "system", None, {"reason": "revoked", "note": "\u2028\t"}),
        transparency.Event("credential_status", "MKT/35050012345", "MKT", "client:ac_0001", None, {}),
    ]
    for batch in (events, events[:1], events * 40):
        appended = transparency.append(batch)
        db_session.commit()
        stored = db_session.scalars(select(LogEntry).where(LogEntry.index.in_([e.index for e in appended]))).all()
        assert {e.index: e.leaf_hash for e in appended} == {e.index: e.leaf_hash for e in stored}
    assert transparency.tree_size() == 3 + 1 + 120


def test_a_logged_event_commits_to_its_content_under_a_fresh_salt_and_never_logs_either(db_session):
    content = {"id": "d1", "public": {"title": "泉州市某食品店行政处罚决定书"}}
    first = transparency.event("publish", "d1", "MKT", "client:ac_0001", content, {"step": 1})
    again = transparency.event("publish", "d1", "MKT", "client:ac_0001", content)
    assert first.salt != again.salt and first.commitment != again.commitment
    assert first.commitment == hashlib.sha256(bytes.fromhex(first.salt) + canonical_json(content).encode()).hexdigest()
    index, salt = transparency.log_event(first)
    chained = transparency.event("record", "MKT/1#1", "MKT", "client:ac_0001", committed="cd" * 32)
    (record,) = transparency.append([chained])
    db_session.commit()
    stored = db_session.get(LogEntry, index)
    assert salt == first.salt and record.index == index + 1
    assert (stored.event, stored.item_id, stored.commitment, stored.detail) == (
        "publish",
        "d1",
        first.commitment,
        {"step": 1},
    )
    assert salt not in canonical_json(stored.detail) and "泉州" not in transparency.entry_bytes(stored).decode()
    assert db_session.get(LogEntry, record.index).commitment == "cd" * 32 and chained.salt is None
    assert transparency.audit().ok


def test_verify_detects_a_wrong_copy_of_the_right_edge_in_the_head(runner, history, db_session):
    db_session.execute(update(LogHead).where(LogHead.id == 1).values(frontier=bytes(32 * 2)))
    db_session.commit()
    result = runner.invoke(args=["transparency", "verify"])
    assert result.exit_code == 1
    assert "copy of the tree's right edge" in result.output


def test_verify_passes_on_an_untouched_log(runner, history):
    runner.invoke(args=["transparency", "checkpoint"])
    result = runner.invoke(args=["transparency", "verify"])
    assert result.exit_code == 0, result.output
    assert "ok: 13 entries" in result.output


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda: update(LogEntry).where(LogEntry.index == 4).values(detail={"reason": "other"}), "entry 4 was altered"),
        (lambda: update(LogEntry).where(LogEntry.index == 2).values(agency="XM"), "entry 2 was altered"),
        (lambda: delete(LogEntry).where(LogEntry.index == 7), "entry 7 is missing"),
        (lambda: delete(LogEntry).where(LogEntry.index == 12), "entry 12 is missing"),
    ],
    ids=["detail", "agency", "middle-row", "last-row"],
)
def test_verify_detects_a_row_altered_or_deleted_in_the_database(runner, history, db_session, tamper, problem):
    runner.invoke(args=["transparency", "checkpoint"])
    db_session.execute(tamper())
    db_session.commit()
    result = runner.invoke(args=["transparency", "verify"])
    assert result.exit_code == 1
    assert problem in result.output


def test_verify_detects_history_rewritten_with_its_hashes(runner, history, db_session):
    """Rewrite an entry and its leaf hash consistently: the signed checkpoint still catches it."""
    runner.invoke(args=["transparency", "checkpoint"])
    entry = db_session.scalar(select(LogEntry).where(LogEntry.index == 3))
    entry.actor = "client:someone-else"
    entry.leaf_hash = transparency.merkle.leaf_hash(transparency.entry_bytes(entry))
    db_session.commit()
    result = runner.invoke(args=["transparency", "verify"])
    assert result.exit_code == 1
    assert "entry 3 does not match the stored tree" in result.output
    assert "history was rewritten" in result.output


def test_concurrent_appends_never_share_an_index(committed):
    app = committed
    start = threading.Barrier(8)
    errors = []

    def append_many(worker: int) -> None:
        try:
            start.wait()
            for n in range(10):
                with app.app_context():
                    transparency.append([transparency.Event("publish", f"w{worker}-{n}", "MKT", "test")] * 3)
                    db.session.commit()
        except Exception as exc:  # collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=append_many, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with app.app_context():
        indexes = db.session.scalars(select(LogEntry.index).order_by(LogEntry.index)).all()
        assert indexes == list(range(240))
        assert transparency.tree_size() == 240
        assert db.session.scalar(select(func.count(func.distinct(LogEntry.item_id)))) == 80
        assert transparency.audit().ok


def test_proofs_outside_a_transaction_read_the_committed_log(committed):
    """A proof request that has begun no transaction reads in autocommit (PostgreSQL): same answers."""
    app = committed
    with app.app_context():
        transparency.append([transparency.Event("publish", f"d{n}", "MKT", "test", "ab" * 32) for n in range(7)])
        db.session.commit()
        leaves = db.session.scalars(select(LogEntry.leaf_hash).order_by(LogEntry.index)).all()
        roots = {size: transparency.root_at(size) for size in range(1, 8)}
    client = app.test_client()
    for index, leaf in enumerate(leaves):
        proof = client.get("/api/v1/transparency/proof/inclusion", query_string={"index": index, "tree_size": 7})
        hashes = [bytes.fromhex(h) for h in proof.get_json()["hashes"]]
        assert transparency.merkle.verify_inclusion(leaf, index, 7, hashes, roots[7])
    for first in range(1, 8):
        proof = client.get("/api/v1/transparency/proof/consistency", query_string={"first": first, "second": 7})
        hashes = [bytes.fromhex(h) for h in proof.get_json()["hashes"]]
        assert transparency.merkle.verify_consistency(first, 7, roots[first], roots[7], hashes)
    response = client.get("/api/v1/transparency/proof/inclusion", query_string={"index": 0, "tree_size": 8})
    assert response.status_code == 422
    assert "tree_size" in str(response.get_json()["errors"])


def test_entries_name_no_client_id_and_no_username(client, auth, history, runner, db_session):
    """Client ids and usernames are credentials half known: the log names the agency or role and a tag."""
    password = "a long password 1"
    created = runner.invoke(args=["admin", "create", "--username", "wangwu", "--role", "admin"], input=password + "\n")
    assert created.exit_code == 0, created.output
    token = client.post("/api/v1/admin/auth/token", json={"username": "wangwu", "password": password})
    admin = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    assert client.get("/api/v1/admin/disclosure-changes", headers=admin).status_code == 200
    other_client = auth.headers("MKT")
    published = client.put(f"{URL}/other", json=decision(document_no="泉市监罚〔2025〕99号"), headers=other_client)
    assert published.status_code == 201
    # Whatever path an admin's change takes into the log, it goes through append.
    transparency.append([transparency.Event("withhold", "d0", "MKT", "admin:wangwu")])
    db_session.commit()

    entries = get(client, "/api/v1/transparency/entries", start=0, end=15)["entries"]
    text = canonical_json(entries)
    client_ids = db_session.scalars(select(AgencyClient.client_id)).all()
    assert len(client_ids) == 2 and not any(client_id in text for client_id in client_ids)
    assert "wangwu" not in text
    actors = [entry["actor"] for entry in entries]
    assert all(re.fullmatch(r"agency:MKT:[0-9a-f]{12}", actor) for actor in actors[:14])
    assert len(set(actors[:13])) == 1 and actors[13] != actors[0]  # one tag per client, kept
    assert re.fullmatch(r"admin:admin:[0-9a-f]{12}", actors[14])

"""Appending to the log, signed checkpoints, proofs, and the audit that recomputes everything.

Appends happen inside the transaction of the change they record and lock the head row, so an
event is in the log if and only if its change committed, and no two entries share an index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import Engine, and_, or_, select, text, update

from backend.accounts.actors import public_actor
from backend.canonical import canonical_json
from backend.errors import Invalid
from backend.extensions import clock, db
from backend.keys import KeyRing
from backend.progress import Track, untracked

from . import merkle
from .models import Checkpoint, LogEntry, LogHead, MerkleNode

MAX_ENTRIES_PER_PAGE = 1000
CHECKPOINT_ORIGIN = "sanxiang-transparency-log"


@dataclass(frozen=True)
class Event:
    event: str  # publish, correct, withdraw, expire, withhold, credential_status, record
    item_id: str
    agency: str
    actor: str  # as the audit log names them; the entry names them as public_actor() does
    commitment: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    # The salt of a commitment to content (hex): never logged, the caller keeps it so that whoever it
    # gives salt and content to can check the entry.
    salt: str | None = None


class Logged(NamedTuple):
    index: int
    salt: str | None


def event(
    kind: str,
    item_id: str,
    agency: str,
    actor: str,
    content: Mapping[str, Any] | None = None,
    detail: Mapping[str, Any] | None = None,
    *,
    committed: str | None = None,
) -> Event:
    """A domain event for the log, the one way callers make them. With ``content`` the entry commits to it
    under a fresh salt (``Event.salt``); ``committed`` is a commitment the caller made itself (a chain hash)."""
    if content is not None:
        salt = secrets.token_bytes(16)
        return Event(kind, item_id, agency, actor, commitment(salt, content), detail or {}, salt.hex())
    return Event(kind, item_id, agency, actor, committed, detail or {})


def log_event(made: Event) -> Logged:
    """Append one event (made by ``event``) in the current transaction: its index, and the salt to keep.
    Changes of many items append theirs together (``append``), so the log's lock is taken once."""
    (entry,) = append([made])
    return Logged(entry.index, made.salt)


def commitment(salt: bytes, public: Mapping[str, Any]) -> str:
    """A salted hash of what citizens saw: provable with the salt, useless to a dictionary attack."""
    return hashlib.sha256(salt + canonical_json(public).encode()).hexdigest()


def entry_bytes(entry: LogEntry | Appended) -> bytes:
    """The bytes a leaf hashes: every column of the entry but the hash itself, canonically."""
    return _entry_bytes(
        entry.index, entry.event, entry.item_id, entry.agency, entry.actor, entry.at, entry.commitment, entry.detail
    )


def _entry_bytes(
    index: int,
    event: str,
    item_id: str,
    agency: str,
    actor: str,
    at: dt.datetime,
    commitment: str | None,
    detail: Mapping[str, Any],
) -> bytes:
    return canonical_json(
        {
            "index": index,
            "event": event,
            "item_id": item_id,
            "agency": agency,
            "actor": actor,
            "time": _time_text(at),
            "commitment": commitment,
            "detail": detail,
        }
    ).encode()


def _time_text(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _entry_template(event: Event, actor: str) -> tuple[str, str]:
    """An event's canonical entry JSON (as ``_entry_bytes`` makes it) on either side of its index, and up to
    its time: the two things only the head lock decides, so everything else is encoded before taking it.

    Canonical JSON sorts keys, and they sort actor, agency, commitment, detail, event | index | item_id, time.
    """
    before = canonical_json(
        {
            "actor": actor,
            "agency": event.agency,
            "commitment": event.commitment,
            "detail": dict(event.detail),
            "event": event.event,
        }
    )
    after = canonical_json({"item_id": event.item_id})
    return before[:-1] + ',"index":', "," + after[1:-1] + ',"time":"'


# PostgreSQL: one statement text whatever the number of keys, so SQLAlchemy compiles it once and psycopg
# prepares it; the keys travel as two arrays and each is one primary-key lookup.
_PG_NODES = text(
    "SELECT k.level, k.idx, n.hash"
    " FROM unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS k(level, idx)"
    " JOIN transparency_nodes AS n ON n.level = k.level AND n.idx = k.idx"
)
# The same, with the log's size read in the same snapshot: a proof at a size the client named needs no
# query of its own to check that size (LEFT JOIN: the size comes back even when nodes are missing).
_PG_NODES_AND_SIZE = text(
    "SELECT k.level, k.idx, n.hash, h.size"
    " FROM unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) AS k(level, idx)"
    " CROSS JOIN transparency_head AS h"
    " LEFT JOIN transparency_nodes AS n ON n.level = k.level AND n.idx = k.idx"
    " WHERE h.id = 1"
)


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers: one text parameter of one type whatever the values (so the
    prepared statement is reused), and much cheaper to send than a list the driver encodes item by item."""
    return "{" + ",".join(map(str, values)) + "}"


def _key_arrays(keys: Collection[merkle.Key]) -> dict[str, str]:
    return {"levels": _int_array(level for level, _ in keys), "idxs": _int_array(idx for _, idx in keys)}


def _complete(keys: Collection[merkle.Key], found: dict[merkle.Key, bytes]) -> dict[merkle.Key, bytes]:
    missing = set(keys) - set(found)
    if missing:
        raise LookupError(f"transparency log nodes missing: {sorted(missing)[:5]}")
    return found


def _read(statement: Any, params: Mapping[str, Any]) -> list[Any]:
    """Rows of one read-only statement.

    When the session has not begun a transaction (a public proof request), on a pooled connection in
    autocommit: one statement is one snapshot either way, and it saves the BEGIN and ROLLBACK round trips.
    Otherwise in the session's transaction, which then sees what the transaction sees.
    """
    session = db.session()
    bind = session.get_bind()
    if not session.in_transaction() and isinstance(bind, Engine):
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return connection.execute(statement, params).all()
    return session.execute(statement, params).all()


class DatabaseNodes:
    """Complete-subtree hashes from the database, fetched in one query per proof."""

    def nodes(self, keys: Collection[merkle.Key]) -> Mapping[merkle.Key, bytes]:
        if not keys:
            return {}
        if _on_postgresql():
            rows = _read(_PG_NODES, _key_arrays(keys))
        else:
            # SQLite cannot use the primary key for a row-value IN list and would scan every node;
            # an OR of (level, idx) pairs is one index lookup each.
            wanted = or_(*(and_(MerkleNode.level == level, MerkleNode.idx == idx) for level, idx in keys))
            rows = db.session.execute(select(MerkleNode.level, MerkleNode.idx, MerkleNode.hash).where(wanted))
        return _complete(keys, {(level, idx): bytes(hash_) for level, idx, hash_ in rows})


class SizedNodes(DatabaseNodes):
    """Nodes for a proof at a tree size the client named, which must not exceed the log's size.

    On PostgreSQL the size is checked in the node query itself (one round trip per proof); ``checked``
    then makes sure a proof that needed no nodes still checks it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.checked = False

    def nodes(self, keys: Collection[merkle.Key]) -> Mapping[merkle.Key, bytes]:
        if not keys or not _on_postgresql():
            self.check()
            return super().nodes(keys)
        rows = _read(_PG_NODES_AND_SIZE, _key_arrays(keys))
        _check_size(self.size, rows[0][3])
        self.checked = True
        return _complete(keys, {(level, idx): bytes(hash_) for level, idx, hash_, _ in rows if hash_ is not None})

    def check(self) -> None:
        if not self.checked:
            _check_size(self.size, tree_size())
            self.checked = True


@dataclass(frozen=True)
class Appended:
    """An entry as appended (the row's columns), without the cost of an ORM object per entry."""

    index: int
    leaf_hash: bytes
    event: str
    item_id: str
    agency: str
    actor: str
    at: dt.datetime
    commitment: str | None
    detail: Mapping[str, Any]


_LOCK_HEAD = select(LogHead.size, LogHead.frontier).where(LogHead.id == 1).with_for_update()
# PostgreSQL: entries, nodes and the head in one statement (one round trip while the head is locked). The
# entries travel as the JSON array of their canonical forms (already made for the leaf hashes), the hashes
# as one blob of 32-byte slices: cheap to send, where arrays of many small values are slow to encode.
_PG_WRITE = text(
    "WITH entries AS ("
    ' INSERT INTO transparency_entries ("index", leaf_hash, event, item_id, agency, actor, at, commitment, detail)'
    ' SELECT e."index", substring(CAST(:leaves AS bytea) FROM CAST(32 * (e."index" - :first) + 1 AS integer) FOR 32),'
    ' e.event, e.item_id, e.agency, e.actor, e."time", e.commitment, e.detail'
    " FROM json_to_recordset(CAST(:entries AS json)) AS e("
    ' "index" bigint, event text, item_id text, agency text, actor text, "time" timestamptz, commitment text,'
    " detail json)"
    "), nodes AS ("
    " INSERT INTO transparency_nodes (level, idx, hash)"
    " SELECT k.level, k.idx, substring(CAST(:hashes AS bytea) FROM CAST(32 * k.n - 31 AS integer) FOR 32)"
    " FROM unnest(CAST(:levels AS smallint[]), CAST(:idxs AS bigint[])) WITH ORDINALITY AS k(level, idx, n)"
    ") UPDATE transparency_head SET size = :size, frontier = :frontier WHERE id = 1"
)


def append(events: Sequence[Event]) -> list[Appended]:
    """Append in the current transaction; the caller commits with the change the events record. Entries
    name who acted as ``public_actor`` does (agency or role and a tag), never by client id or username.

    The head row stays locked until that commit, so this does as little as it can while holding it: the
    entries are encoded before, and then it takes one statement to lock the head (which also holds the
    right edge the new nodes combine with), the hashing in memory, and one statement to write entries,
    nodes and the new head (PostgreSQL).

    No autoflush here: the caller usually still sets the entries' indexes on the changed rows, and
    one UPDATE per row (not two) keeps their versions honest.

    Long because: all that runs under the head's lock reads in one place, in order (lock, hash, write).
    """
    if not events:
        return []
    with db.session.no_autoflush:
        actors = {key: public_actor(*key) for key in {(event.actor, event.agency) for event in events}}
        templates = [_entry_template(event, actors[event.actor, event.agency]) for event in events]
        connection = db.session.connection()
        size, stored_frontier = connection.execute(_LOCK_HEAD).one()
        frontier = _unpack_frontier(size, stored_frontier)
        if frontier is None:
            frontier = dict(DatabaseNodes().nodes(merkle.append_keys(size)))
        now = clock.now().astimezone(dt.UTC)
        stamp = _time_text(now) + '"}'
        encoded = [f"{before}{size + offset}{after}{stamp}" for offset, (before, after) in enumerate(templates)]
        leaves = [merkle.leaf_hash(text_.encode()) for text_ in encoded]
        nodes = merkle.appended_nodes(size, frontier, leaves)
        new_size = size + len(events)
        right_edge = {**frontier, **dict(nodes)}
        new_frontier = b"".join(right_edge[key] for key in merkle.append_keys(new_size))
        entries = [
            Appended(
                size + offset,
                leaf,
                event.event,
                event.item_id,
                event.agency,
                actors[event.actor, event.agency],
                now,
                event.commitment,
                dict(event.detail),
            )
            for offset, (event, leaf) in enumerate(zip(events, leaves, strict=True))
        ]
        if connection.dialect.name == "postgresql":
            connection.execute(
                _PG_WRITE,
                {
                    "entries": "[" + ",".join(encoded) + "]",
                    "first": size,
                    "leaves": b"".join(leaves),
                    "levels": _int_array(level for (level, _), _ in nodes),
                    "idxs": _int_array(idx for (_, idx), _ in nodes),
                    "hashes": b"".join(hash_ for _, hash_ in nodes),
                    "size": new_size,
                    "frontier": new_frontier,
                },
            )
        else:
            # Core inserts on the session's connection: same transaction, none of the ORM's per-row work.
            connection.execute(LogEntry.__table__.insert(), [entry.__dict__ for entry in entries])
            connection.execute(
                MerkleNode.__table__.insert(),
                [{"level": level, "idx": idx, "hash": hash_} for (level, idx), hash_ in nodes],
            )
            connection.execute(update(LogHead).where(LogHead.id == 1).values(size=new_size, frontier=new_frontier))
    return entries


def _unpack_frontier(size: int, stored: bytes | None) -> dict[merkle.Key, bytes] | None:
    """The head's copy of the right edge as nodes, or None when it has none (or not for this size)."""
    keys = merkle.append_keys(size)
    if stored is None or len(stored) != 32 * len(keys):
        return None
    stored = bytes(stored)
    return {key: stored[32 * n : 32 * (n + 1)] for n, key in enumerate(keys)}


def tree_size() -> int:
    return db.session.scalar(select(LogHead.size).where(LogHead.id == 1)) or 0


def root_at(size: int) -> bytes:
    return merkle.root(size, DatabaseNodes()) if size else merkle.EMPTY_ROOT


# -- checkpoints ------------------------------------------------------------------------------
def key_ring() -> KeyRing:
    return current_app.extensions["transparency_keys"]


def signed_message(size: int, root_hash: bytes, timestamp: dt.datetime) -> bytes:
    """What a checkpoint signature covers (documented in README for independent verifiers)."""
    stamp = timestamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{CHECKPOINT_ORIGIN}\n{size}\n{root_hash.hex()}\n{stamp}\n".encode()


def checkpoint() -> Checkpoint:
    """The signed head of the tree as it is now; one signature per tree size, kept for audits."""
    size = tree_size()
    stored = db.session.get(Checkpoint, size)
    if stored is not None:
        return stored
    root_hash = root_at(size)
    timestamp = clock.now().replace(microsecond=0)
    key = key_ring().signing_key()
    signature = key.sign(signed_message(size, root_hash, timestamp)).hex()
    made = Checkpoint(tree_size=size, root_hash=root_hash, timestamp=timestamp, signature=signature, key_id=key.kid)
    db.session.add(made)
    try:
        db.session.commit()
    except Exception:  # another worker signed this size at the same moment: serve theirs
        db.session.rollback()
        return db.session.get(Checkpoint, size) or made
    return made


# -- reading ----------------------------------------------------------------------------------
def entries(start: int, end: int) -> list[LogEntry]:
    if start < 0 or end <= start or end - start > MAX_ENTRIES_PER_PAGE:
        raise Invalid("条目范围有误", errors={"end": [f"need 0 <= start < end <= start + {MAX_ENTRIES_PER_PAGE}"]})
    return list(
        db.session.scalars(
            select(LogEntry).where(LogEntry.index >= start, LogEntry.index < end).order_by(LogEntry.index)
        )
    )


def _check_size(size: int, current: int) -> None:
    if not 0 < size <= current:
        raise Invalid("树大小超出范围", errors={"tree_size": [f"must be between 1 and {current}"]})


def _size_or_current(size: int | None) -> int:
    current = tree_size()
    if size is None:
        return current
    _check_size(size, current)
    return size


def _proof_size(size: int | None) -> tuple[int, DatabaseNodes]:
    """The tree size a proof is for, and the reader that fetches its nodes (checking a named size)."""
    if size is None or size <= 0:
        return _size_or_current(size), DatabaseNodes()
    return size, SizedNodes(size)


def inclusion(index: int, size: int | None) -> dict[str, Any]:
    size, reader = _proof_size(size)
    if not 0 <= index < size:
        if isinstance(reader, SizedNodes):
            reader.check()  # a size beyond the log is reported first, as it is the first thing wrong
        raise Invalid("索引超出范围", errors={"index": [f"must be below tree_size {size}"]})
    hashes = merkle.inclusion_proof(index, size, reader)
    if isinstance(reader, SizedNodes):
        reader.check()
    return {"index": index, "tree_size": size, "hashes": hashes}


def consistency(first: int, second: int | None) -> dict[str, Any]:
    second, reader = _proof_size(second)
    if not 0 < first <= second:
        if isinstance(reader, SizedNodes):
            reader.check()
        raise Invalid("树大小超出范围", errors={"first": [f"must be between 1 and {second}"]})
    hashes = merkle.consistency_proof(first, second, reader)
    if isinstance(reader, SizedNodes):
        reader.check()  # first == second asks for no nodes
    return {"first": first, "second": second, "hashes": hashes}


# -- the audit --------------------------------------------------------------------------------
@dataclass
class AuditReport:
    size: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit(batch: int = 5000, track: Track = untracked) -> AuditReport:
    """Recompute the tree from the stored entries: every leaf, every signed checkpoint, the root.

    Catches an entry altered or deleted in the database (its leaf no longer matches, or an
    index is missing), a leaf rewritten with its hash (the stored nodes and signed roots no
    longer match), and a checkpoint whose signature does not verify. ``track`` sees each entry checked.
    """
    report = AuditReport(size=tree_size())
    checkpoints = {c.tree_size: c for c in db.session.scalars(select(Checkpoint))}
    entries_ = _stream(select(LogEntry).order_by(LogEntry.index), batch, scalars=True)
    leaves = _stream(
        select(MerkleNode.idx, MerkleNode.hash).where(MerkleNode.level == 0).order_by(MerkleNode.idx), batch
    )
    frontier: dict[merkle.Key, bytes] = {}
    # The empty log's checkpoint (signed when someone asked before the first entry) is checked like any other.
    _check_checkpoint(checkpoints.pop(0, None), 0, frontier, report)
    for index, entry, stored in track(_aligned(report.size, entries_, leaves), report.size):
        if entry is None:
            report.problems.append(f"entry {index} is missing")
            recomputed = stored or bytes(32)  # keep the tree going so later checks still mean something
        else:
            recomputed = merkle.leaf_hash(entry_bytes(entry))
            if recomputed != entry.leaf_hash:
                report.problems.append(f"entry {index} was altered: its content no longer matches its leaf hash")
            if stored != recomputed:
                report.problems.append(f"entry {index} does not match the stored tree")
        frontier = _extend(frontier, index, recomputed)
        _check_checkpoint(checkpoints.pop(index + 1, None), index + 1, frontier, report)
    for size in sorted(checkpoints):
        report.problems.append(f"checkpoint at size {size} is beyond the entries kept")
    if report.size and not report.problems and root_at(report.size) != _frontier_root(report.size, frontier):
        report.problems.append("the stored tree's root differs from the root recomputed from the entries")
    stored_edge = db.session.scalar(select(LogHead.frontier).where(LogHead.id == 1))
    if stored_edge is not None and _unpack_frontier(report.size, stored_edge) != {
        key: frontier[key] for key in merkle.append_keys(report.size)
    }:
        # Appends combine new leaves with this copy: a wrong one would corrupt every later node.
        report.problems.append("the log head's copy of the tree's right edge differs from the entries")
    return report


def _aligned(size: int, entries_: Iterator[LogEntry], leaves: Iterator[Any]) -> Iterator[tuple[int, Any, Any]]:
    """(index, entry or None, stored leaf hash or None) for every index below ``size``, from two sorted streams."""
    entry, leaf = next(entries_, None), next(leaves, None)
    for index in range(size):
        while entry is not None and entry.index < index:
            entry = next(entries_, None)
        while leaf is not None and leaf[0] < index:
            leaf = next(leaves, None)
        yield (
            index,
            entry if entry is not None and entry.index == index else None,
            bytes(leaf[1]) if leaf is not None and leaf[0] == index else None,
        )


def _stream(statement: Any, batch: int, scalars: bool = False) -> Iterator[Any]:
    result = db.session.execute(statement.execution_options(yield_per=batch))
    yield from (result.scalars() if scalars else result)


def _extend(frontier: dict[merkle.Key, bytes], size: int, leaf: bytes) -> dict[merkle.Key, bytes]:
    new = dict(merkle.appended_nodes(size, frontier, [leaf]))
    keys = set(merkle.append_keys(size + 1))
    return {key: value for key, value in {**frontier, **new}.items() if key in keys}


def _frontier_root(size: int, frontier: Mapping[merkle.Key, bytes]) -> bytes:
    return merkle.root(size, merkle.MemoryNodes(dict(frontier))) if size else merkle.EMPTY_ROOT


def _check_checkpoint(
    checkpoint_: Checkpoint | None, size: int, frontier: Mapping[merkle.Key, bytes], report: AuditReport
) -> None:
    if checkpoint_ is None:
        return
    if bytes(checkpoint_.root_hash) != _frontier_root(size, frontier):
        report.problems.append(f"signed checkpoint at size {size} does not match the entries: history was rewritten")
    key = key_ring().get(checkpoint_.key_id)
    message = signed_message(size, bytes(checkpoint_.root_hash), checkpoint_.timestamp)
    try:
        verified = key is not None and key.verify(bytes.fromhex(checkpoint_.signature), message)
    except ValueError:  # not hex
        verified = False
    if not verified:
        report.problems.append(f"checkpoint at size {size} has a signature that does not verify")

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions.database import Model, UTCDateTime

BIG = BigInteger().with_variant(Integer, "sqlite")


class LogEntry(Model):
    """One event. It commits to the item through a salted hash, so it carries no personal data and a
    withdrawal leaves nothing of the withdrawn text behind."""

    __tablename__ = "transparency_entries"

    index: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    event: Mapped[str] = mapped_column(String(32), index=True)
    item_id: Mapped[str] = mapped_column(String(128), index=True)
    agency: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    commitment: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MerkleNode(Model):
    """The hash of every complete subtree: (level, index) covers leaves [index·2^level, (index+1)·2^level)."""

    __tablename__ = "transparency_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Model):
    """One row; appends lock it, so two appends can never take the same index.

    ``frontier`` repeats the hashes of the tree's right edge (``merkle.append_keys(size)``, concatenated),
    so an append finds everything it combines with in the row it locks. It is a copy of stored nodes:
    NULL (as after the migration) means "read them from the node table", and the audit checks it.
    """

    __tablename__ = "transparency_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BIG)
    frontier: Mapped[bytes | None] = mapped_column(LargeBinary)


class Checkpoint(Model):
    """Signed tree heads as served; ``verify`` recomputes their roots, so history cannot be rewritten."""

    __tablename__ = "transparency_checkpoints"

    tree_size: Mapped[int] = mapped_column(BIG, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(32))

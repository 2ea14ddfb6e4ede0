"""Exchange clients and the changes feed they read.

The feed is the transparency log seen from one region: its index is the cursor, so a receiver that stores
``next_cursor`` after each page resumes exactly where it stopped. Each change carries its entry (every
column the leaf hashes), the content it commits to while that content is public (with its salt), and its
inclusion proof in the signed checkpoint the page names, so the receiver trusts nothing but the key.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, or_, select

from backend.accounts.scope import region_prefix
from backend.accounts.services import (
    IssuedToken,
    bearer_claims,
    begin_attempt,
    hash_secret,
    secret_matches,
    sign_token,
)
from backend.agencies.models import Agency
from backend.audit.services import record
from backend.disclosures.lifecycle import withdrawal_notice
from backend.disclosures.models import Disclosure, Status
from backend.disclosures.publishing import committed_content
from backend.errors import Forbidden, Invalid, Unauthorized
from backend.extensions import cache, clock, db
from backend.transparency import merkle
from backend.transparency import services as transparency
from backend.transparency.models import Checkpoint, LogEntry

from .models import ClientKind, ExchangeClient

AUDIENCE = "exchange"
_REGION = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class IssuedExchangeClient:
    client: ExchangeClient
    secret: str


def create_client(
    region_code: str, *, actor: str, label: str | None = None, kind: ClientKind = ClientKind.platform
) -> IssuedExchangeClient:
    if not _REGION.match(region_code):
        raise Invalid("行政区划代码有误", errors={"region": ["six digits, e.g. 350500"]})
    if kind not in set(ClientKind):
        raise Invalid("客户端类型有误", errors={"kind": [f"one of {', '.join(ClientKind)}"]})
    secret = secrets.token_urlsafe(32)
    client = ExchangeClient(
        client_id="ex_" + secrets.token_hex(12),
        secret_hash=hash_secret(secret),
        region_code=region_code,
        kind=kind,
        label=label,
        created_at=clock.now(),
    )
    db.session.add(client)
    record(actor, "exchange_client.create", "exchange_client", client.client_id, region=region_code, kind=kind)
    db.session.commit()
    return IssuedExchangeClient(client, secret)


def revoke_client(client_id: str, *, actor: str) -> None:
    client = db.session.scalar(select(ExchangeClient).where(ExchangeClient.client_id == client_id))
    if client is None:
        raise Invalid("客户端不存在", errors={"client_id": ["unknown client"]})
    client.revoked_at = clock.now()
    record(actor, "exchange_client.revoke", "exchange_client", client_id)
    db.session.commit()


def issue_token(client_id: str, client_secret: str, address: str | None) -> IssuedToken:
    """A short-lived token of audience ``exchange``; wrong secrets slow down their address (accounts.throttle)."""
    attempt = begin_attempt(f"exchange:{client_id}", address)
    client = db.session.scalar(select(ExchangeClient).where(ExchangeClient.client_id == client_id))
    if not secret_matches(client, client_secret):
        attempt.failed()
        raise Unauthorized("客户端凭证无效")
    attempt.succeeded()
    return sign_token({"aud": AUDIENCE, "sub": client.client_id, "region": client.region_code})


def require_token(authorization: str, *kinds: ClientKind) -> ExchangeClient:
    """The exchange client a token speaks for, checked on every call so a revocation takes effect at once;
    a client of a kind not in ``kinds`` is refused (403: a hotline does not read the feed, a platform posts no
    work orders); each call counts against the client's rate limit (429 with Retry-After past it)."""
    claims = bearer_claims(authorization, AUDIENCE)
    client = db.session.scalar(select(ExchangeClient).where(ExchangeClient.client_id == claims["sub"]))
    if client is None or client.revoked_at is not None or client.region_code != claims.get("region"):
        raise Unauthorized("客户端已停用", errors={"token": ["client revoked"]})
    if client.kind not in kinds:
        needed = " or ".join(kinds)
        raise Forbidden("该客户端无权访问此接口", errors={"token": [f"a {client.kind} client; this needs {needed}"]})
    cache.enforce("exchange", client.client_id, current_app.config["EXCHANGE_RATE_LIMIT_PER_MINUTE"], 60)
    return client


def in_region(region_code: str) -> ColumnElement[bool]:
    """Entries of the region: those of its agencies, and those scoped to one of its divisions (evaluations)."""
    below = Agency.region_code.like(region_prefix(region_code) + "%")
    return or_(
        LogEntry.agency.in_(select(Agency.code).where(below)),
        LogEntry.agency.in_(select(Agency.region_code).where(below)),
    )


def _checkpoint(tree_size: int | None) -> Checkpoint:
    if tree_size is None:
        return transparency.checkpoint()
    signed = db.session.get(Checkpoint, tree_size)
    if signed is None:
        raise Invalid("没有该大小的签名检查点", errors={"tree_size": ["no signed checkpoint of this size"]})
    return signed


def changes(client: ExchangeClient, after: int, limit: int, tree_size: int | None = None) -> dict[str, Any]:
    """The region's changes from log index ``after`` on, at most ``limit``, all inside one signed checkpoint.

    ``next_cursor`` is past the last entry read, whether or not it was the region's: entries of other regions
    are skipped but never re-read, and none of the region's below it was left out."""
    signed = _checkpoint(tree_size)
    size = signed.tree_size
    if after > size:
        raise Invalid("游标超出检查点", errors={"after": [f"must be at most tree_size {size}"]})
    rows = list(
        db.session.scalars(
            select(LogEntry)
            .where(LogEntry.index >= after, LogEntry.index < size, in_region(client.region_code))
            .order_by(LogEntry.index)
            .limit(limit)
        )
    )
    next_cursor = rows[-1].index + 1 if len(rows) == limit else size
    reader = transparency.DatabaseNodes()
    return {
        "checkpoint": signed,
        "changes": [
            change | {"proof": [hash_.hex() for hash_ in merkle.inclusion_proof(change["index"], size, reader)]}
            for change in unproven_changes(rows)
        ],
        "next_cursor": next_cursor,
        "more": next_cursor < size,
    }


def unproven_changes(rows: list[LogEntry]) -> list[dict[str, Any]]:
    """The changes of log entries as the feed gives them, but for the proof (push sends these: the receiver
    fetches the proof from the feed by index)."""
    contents = _contents(rows)
    return [_change(entry, contents.get(entry.index)) for entry in rows]


def _change(entry: LogEntry, content: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "index": entry.index,
        "event": entry.event,
        "item_id": entry.item_id,
        "agency": entry.agency,
        "actor": entry.actor,
        # As the leaf hashes it (transparency.entry_bytes), so the receiver recomputes the leaf from these fields.
        "time": entry.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "commitment": entry.commitment,
        "detail": entry.detail,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "content": content,
    }


def _contents(rows: list[LogEntry]) -> dict[int, dict[str, Any]]:
    """What entries commit to, by index, where it is public now: the current version of a published item
    (its publish or latest correct entry) and a withdrawal's notice. A superseded, withdrawn or expired
    version has no content here: the log keeps only its commitment, as citizens no longer see it."""
    ids = {entry.item_id for entry in rows if entry.event in ("publish", "correct", "withdraw")}
    if not ids:
        return {}
    found: dict[int, dict[str, Any]] = {}
    for item in db.session.scalars(select(Disclosure).where(Disclosure.id.in_(ids))):
        if item.is_public and item.log_index is not None and item.commitment_salt:
            found[item.log_index] = {"committed": committed_content(item), "salt": item.commitment_salt}
        elif item.status == Status.withdrawn and item.removal_log_index is not None and item.notice_salt:
            found[item.removal_log_index] = {"committed": withdrawal_notice(item), "salt": item.notice_salt}
    wanted = {entry.index for entry in rows}
    return {index: content for index, content in found.items() if index in wanted}

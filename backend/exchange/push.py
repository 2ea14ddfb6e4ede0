"""Push: an exchange client's subscriptions, and the outbox that delivers their events, signed.

Two sources fill the outbox (``PushDelivery``). The delivery job tails the transparency log from each
subscription's cursor, turning the changes the feed would give that region (without the proof: the
receiver fetches it from the feed by index) into deliveries, so nothing is lost while the job is down and
the log knows nothing of push. Other exchange code owes events through ``enqueue``, in its own transaction.

A subscription's deliveries carry a sequence taken under its row lock, so the sequence is the commit order,
and only the oldest undelivered one is ever sent: a later event never overtakes an earlier one. A worker
claims it by a conditional update (on its attempt count) before sending, so two workers running the job at
once never send it twice in a run. A failure is retried with a doubling backoff until ``PUSH_RETRY_HOURS``
after the first attempt; then the delivery and its subscription are parked until an admin resumes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import func, select, update

from backend import sealed
from backend.accounts.scope import region_prefix
from backend.audit.services import record
from backend.errors import Forbidden, Invalid, NotFound
from backend.extensions import clock, db
from backend.transparency import services as transparency
from backend.transparency.models import LogEntry

from .events import HOTLINE_EVENTS, event_types
from .models import ClientKind, ExchangeClient, PushDelivery, PushState, PushSubscription
from .services import in_region, unproven_changes

# Log entries one subscription turns into deliveries per run, and deliveries one run sends at most.
TAIL_BATCH = 500
SEND_BATCH = 500
SIGNATURE_HEADER = "X-Sanxiang-Signature"
TIMESTAMP_HEADER = "X-Sanxiang-Timestamp"
EVENT_ID_HEADER = "X-Sanxiang-Event-Id"
_LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class IssuedSubscription:
    subscription: PushSubscription
    secret: str  # shown once: we keep it sealed, the receiver keeps it to check signatures


# -- the signing secret, sealed at rest (backend.sealed) -------------------------------------------
SEALED = b"push-secret-v1"


def seal(secret: str) -> str:
    return sealed.seal(secret, SEALED)


def unseal(sealed_secret: str) -> str:
    return sealed.unseal(sealed_secret, SEALED)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``{timestamp}.{body}`` under the subscription's secret."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


# -- subscriptions ------------------------------------------------------------------------------
def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise Invalid("推送地址有误", errors={"url": ["an absolute https:// URL"]})
    if parts.scheme == "http" and not _is_loopback(host):
        raise Invalid("推送地址须使用 HTTPS", errors={"url": ["must be https (plain http only to a loopback host)"]})
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _checked_types(client: ExchangeClient, types: list[str]) -> list[str]:
    known = event_types()
    unknown = sorted(set(types) - known)
    if not types or unknown:
        message = f"unknown event types: {', '.join(unknown)}" if unknown else "at least one event type"
        raise Invalid("事件类型有误", errors={"event_types": [message]})
    if client.kind == ClientKind.hotline and not set(types) <= HOTLINE_EVENTS:
        allowed = ", ".join(sorted(HOTLINE_EVENTS))
        raise Forbidden(
            "热线客户端只能订阅工单状态", errors={"event_types": [f"a hotline client subscribes to {allowed} only"]}
        )
    return sorted(set(types))


def _checked_region(client: ExchangeClient, region_code: str | None) -> str:
    if region_code is None:
        return client.region_code
    if not (len(region_code) == 6 and region_code.isdigit()):
        raise Invalid("行政区划代码有误", errors={"region": ["six digits, e.g. 350500"]})
    if not region_code.startswith(region_prefix(client.region_code)):
        raise Invalid("区域超出客户端范围", errors={"region": [f"must be {client.region_code} or a division under it"]})
    return region_code


def create_subscription(
    client: ExchangeClient,
    url: str,
    event_types: list[str],
    region_code: str | None,
    *,
    actor: str,
    after: int | None = None,
) -> IssuedSubscription:
    """Subscribe ``client`` to ``event_types`` of ``region_code`` (its own region when None), pushed to ``url``.

    Log events are pushed from log index ``after`` (the feed's cursor; default: the log's size now, so from
    the next event on). Commits; the secret is returned here only."""
    size = transparency.tree_size()
    if after is not None and not 0 <= after <= size:
        raise Invalid("游标超出日志", errors={"after": [f"must be 0 to the log's size {size}"]})
    secret = secrets.token_urlsafe(32)
    subscription = PushSubscription(
        client=client,
        url=_checked_url(url),
        secret_sealed=seal(secret),
        event_types=_checked_types(client, event_types),
        region_code=_checked_region(client, region_code),
        log_cursor=size if after is None else after,
        next_sequence=1,
        state=PushState.active,
        created_at=clock.now(),
    )
    db.session.add(subscription)
    db.session.flush()
    record(
        actor,
        "push_subscription.create",
        "push_subscription",
        str(subscription.id),
        url=subscription.url,
        region=subscription.region_code,
        event_types=subscription.event_types,
    )
    db.session.commit()
    return IssuedSubscription(subscription, secret)


def subscriptions_of(client: ExchangeClient) -> list[PushSubscription]:
    return list(
        db.session.scalars(
            select(PushSubscription)
            .where(PushSubscription.client_id == client.id, PushSubscription.revoked_at.is_(None))
            .order_by(PushSubscription.id)
        )
    )


def subscription_of(client: ExchangeClient, subscription_id: int) -> PushSubscription:
    """The client's own live subscription; another client's is as unknown as one that never existed."""
    subscription = db.session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.client_id != client.id or subscription.revoked_at is not None:
        raise NotFound("订阅不存在", errors={"subscription_id": ["no such subscription of this client"]})
    return subscription


def revoke_subscription(client: ExchangeClient, subscription_id: int, *, actor: str) -> None:
    """Nothing more is sent to it, not even what it was still owed."""
    subscription = subscription_of(client, subscription_id)
    subscription.revoked_at = clock.now()
    record(actor, "push_subscription.revoke", "push_subscription", str(subscription.id))
    db.session.commit()


def pending_count(subscription: PushSubscription) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(PushDelivery)
            .where(PushDelivery.subscription_id == subscription.id, PushDelivery.delivered_at.is_(None))
        )
        or 0
    )


# -- admin: what is parked, and resuming it -----------------------------------------------------
def parked_subscriptions() -> list[PushSubscription]:
    return list(
        db.session.scalars(
            select(PushSubscription)
            .where(PushSubscription.state == PushState.parked, PushSubscription.revoked_at.is_(None))
            .order_by(PushSubscription.parked_at, PushSubscription.id)
        )
    )


def resume(subscription_id: int, *, actor: str, ip: str | None = None) -> PushSubscription:
    """Send again from the parked delivery on (now, with a new retry window); audited."""
    subscription = db.session.get(PushSubscription, subscription_id)
    if subscription is None or subscription.revoked_at is not None:
        raise NotFound("订阅不存在", errors={"subscription_id": ["no such subscription"]})
    now = clock.now()
    parked = subscription.parked_delivery
    if parked is not None:
        parked.parked_at = None
        parked.first_attempt_at = None
        parked.next_attempt_at = now
    record(
        actor,
        "push_subscription.resume",
        "push_subscription",
        str(subscription.id),
        ip=ip,
        event_id=str(parked.event_id) if parked else None,
        was=subscription.state,
    )
    subscription.state = PushState.active
    subscription.parked_at = None
    db.session.commit()
    return subscription


# -- owing events -------------------------------------------------------------------------------
def _covering(region_code: str) -> set[str]:
    """The subscription regions that cover ``region_code``: its province, its city and itself."""
    return {region_code[:2] + "0000", region_code[:4] + "00", region_code}


def _take_sequence(subscription_id: int) -> int:
    """The subscription's next sequence number. The update locks its row until the caller's transaction ends,
    so sequences follow commit order (no delivery can commit behind one already sent)."""
    taken = db.session.execute(
        update(PushSubscription)
        .where(PushSubscription.id == subscription_id)
        .values(next_sequence=PushSubscription.next_sequence + 1)
        .returning(PushSubscription.next_sequence),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    return taken - 1


def _delivery(subscription_id: int, sequence: int, event_type: str, payload: dict[str, Any]) -> PushDelivery:
    now = clock.now()
    return PushDelivery(
        event_id=uuid.uuid4(),
        subscription_id=subscription_id,
        sequence=sequence,
        event_type=event_type,
        payload=payload,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )


def enqueue(event_type: str, payload: dict[str, Any], *, region_code: str, client_id: str | None = None) -> int:
    """Owe one delivery to every active subscription whose event types include ``event_type`` and whose
    region covers ``region_code`` (only subscriptions of exchange client ``client_id`` when given).
    Runs in the caller's transaction (no commit), so the delivery exists iff the change does. Returns the count.

    A parked subscription is owed it too (it is sent once an admin resumes it); a revoked one is not."""
    if event_type not in event_types():
        raise ValueError(f"unknown push event type {event_type!r} (add it to exchange.events)")
    query = (
        select(PushSubscription.id, PushSubscription.event_types)
        .join(ExchangeClient, PushSubscription.client_id == ExchangeClient.id)
        .where(
            PushSubscription.revoked_at.is_(None),
            ExchangeClient.revoked_at.is_(None),
            PushSubscription.region_code.in_(_covering(region_code)),
        )
        .order_by(PushSubscription.id)
    )
    if client_id is not None:
        query = query.where(ExchangeClient.client_id == client_id)
    owed = [id_ for id_, types in db.session.execute(query) if event_type in types]
    for subscription_id in owed:
        db.session.add(_delivery(subscription_id, _take_sequence(subscription_id), event_type, payload))
    db.session.flush()
    return len(owed)


def _tail(subscription_id: int) -> int:
    """Turn the log entries past the subscription's cursor into its deliveries; commits. A subscription
    whose row another transaction holds (an ``enqueue`` not yet committed, another worker) waits a run."""
    subscription = db.session.scalar(
        select(PushSubscription)
        .where(PushSubscription.id == subscription_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if subscription is None:
        db.session.rollback()
        return 0
    end = min(transparency.tree_size(), subscription.log_cursor + TAIL_BATCH)
    if end <= subscription.log_cursor:
        db.session.rollback()
        return 0
    rows = list(
        db.session.scalars(
            select(LogEntry)
            .where(
                LogEntry.index >= subscription.log_cursor,
                LogEntry.index < end,
                in_region(subscription.region_code),
                LogEntry.event.in_(subscription.event_types),
            )
            .order_by(LogEntry.index)
        )
    )
    for change in unproven_changes(rows):
        db.session.add(_delivery(subscription.id, subscription.next_sequence, change["event"], change))
        subscription.next_sequence += 1
    subscription.log_cursor = end
    db.session.commit()
    return len(rows)


# -- sending ------------------------------------------------------------------------------------
def _backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: PUSH_BACKOFF_SECONDS, doubling, capped."""
    config = current_app.config
    return dt.timedelta(
        seconds=min(config["PUSH_BACKOFF_SECONDS"] * 2 ** min(attempts - 1, 32), config["PUSH_BACKOFF_MAX_SECONDS"])
    )


def body_of(delivery: PushDelivery) -> bytes:
    """The POST body; the same bytes on every attempt (only the timestamp header changes)."""
    envelope = {
        "id": str(delivery.event_id),
        "type": delivery.event_type,
        "created_at": delivery.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _post(subscription: PushSubscription, delivery: PushDelivery) -> str | None:
    """Send one delivery: None when the receiver answered 2xx, else what went wrong."""
    body = body_of(delivery)
    timestamp = str(int(clock.now().timestamp()))
    try:
        secret = unseal(subscription.secret_sealed)
    except InvalidToken:  # sealed under another SECRET_KEY: it can never be sent; parks after the window
        return "the secret cannot be unsealed (SECRET_KEY changed?): subscribe again"
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        EVENT_ID_HEADER: str(delivery.event_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }
    try:
        answer = requests.post(
            subscription.url,
            data=body,
            headers=headers,
            timeout=current_app.config["PUSH_TIMEOUT_SECONDS"],
            allow_redirects=False,
        )
    except requests.RequestException as exc:  # refused, reset, timed out: all retried the same way
        return f"{type(exc).__name__}: {exc}"[:300]
    if 200 <= answer.status_code < 300:
        return None
    return f"HTTP {answer.status_code}"


def _claim(delivery: PushDelivery, now: dt.datetime) -> bool:
    """Take this attempt of ``delivery`` for this worker (committed before sending): whoever updates the row
    from the attempt count it read wins, so two workers never send one attempt. A worker that dies sending
    leaves it due again after the backoff."""
    first = delivery.first_attempt_at or now
    window_end = first + dt.timedelta(hours=current_app.config["PUSH_RETRY_HOURS"])
    retry_at = now + _backoff(delivery.attempts + 1)
    if window_end > now:
        retry_at = min(retry_at, window_end)  # the last try falls on the window's end
    claimed = db.session.execute(
        update(PushDelivery)
        .where(
            PushDelivery.id == delivery.id,
            PushDelivery.attempts == delivery.attempts,
            PushDelivery.delivered_at.is_(None),
            PushDelivery.parked_at.is_(None),
        )
        .values(attempts=PushDelivery.attempts + 1, first_attempt_at=first, next_attempt_at=retry_at),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return claimed.rowcount == 1


def _send_due(subscription_id: int, budget: int, tally: dict[str, int]) -> int:
    """Send the subscription's due deliveries in sequence, stopping at the first failure; the number sent."""
    sent = 0
    while sent < budget:
        db.session.expire_all()
        subscription = db.session.get(PushSubscription, subscription_id)
        if subscription is None or subscription.state != PushState.active or subscription.revoked_at is not None:
            break
        head = db.session.scalar(
            select(PushDelivery)
            .where(PushDelivery.subscription_id == subscription_id, PushDelivery.delivered_at.is_(None))
            .order_by(PushDelivery.sequence)
            .limit(1)
        )
        now = clock.now()
        if head is None or head.parked_at is not None or head.next_attempt_at > now or not _claim(head, now):
            break
        sent += 1
        failure = _post(subscription, head)
        db.session.expire_all()
        head = db.session.get(PushDelivery, head.id)
        if failure is None:
            head.delivered_at = clock.now()
            head.last_error = None
            db.session.commit()
            tally["delivered"] += 1
            continue
        head.last_error = failure
        tally["failed"] += 1
        window = dt.timedelta(hours=current_app.config["PUSH_RETRY_HOURS"])
        if clock.now() >= head.first_attempt_at + window:
            head.parked_at = subscription.parked_at = clock.now()
            subscription.state = PushState.parked
            tally["parked"] += 1
        db.session.commit()
        break
    return sent


def deliver_due() -> dict[str, int]:
    """The job: tail the log into each subscription's deliveries, then send what is due, in order."""
    tally = {"queued": 0, "delivered": 0, "failed": 0, "parked": 0}
    live = list(
        db.session.scalars(
            select(PushSubscription.id)
            .join(ExchangeClient, PushSubscription.client_id == ExchangeClient.id)
            .where(PushSubscription.revoked_at.is_(None), ExchangeClient.revoked_at.is_(None))
            .order_by(PushSubscription.id)
        )
    )
    db.session.commit()
    for subscription_id in live:
        tally["queued"] += _tail(subscription_id)
    budget = SEND_BATCH
    for subscription_id in live:
        budget -= _send_due(subscription_id, budget, tally)
        if budget <= 0:
            break
    return tally

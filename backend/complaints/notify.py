"""The notification port: a citizen hears of their complaint's progress where they came from.

Mini-program users who consented get a WeChat subscribe message (``WeChatSubscribeNotifier``, used
when the mini-program and its template are configured); anonymous web users get nothing and poll
with their query code. Messages go through an outbox table and a delivery job, so a WeChat outage
delays them but loses none.
"""

from __future__ import annotations

import logging
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select

from backend.extensions import clock, db
from backend.timezone import beijing

from .models import EVENT_LABELS, STATUS_LABELS, Complaint, Notification

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


class Notifier(Protocol):
    name: str

    def send(self, notification: Notification, complaint: Complaint) -> None:
        """Deliver one message; raise to have it retried later."""


class Unconfigured:
    """No channel to citizens is configured: messages wait in the outbox until one is."""

    name = "unconfigured"

    def send(self, notification: Notification, complaint: Complaint) -> None:
        raise RuntimeError("no notifier configured for channel " + notification.channel)


class WeChatSubscribeNotifier:
    """Mini-program subscribe messages (订阅消息), through the mini-program's WeChat client.

    The template needs four keywords: character_string1 (tracking number), phrase2 (status),
    thing3 (what happened, at most 20 characters) and time4. Each ``accept`` of the user allows one
    message, so a sent message uses the consent up; the mini-program asks again when the user opens
    the complaint (PUT .../subscription), and what is still owed is sent on the next run.
    """

    name = "wechat"

    def send(self, notification: Notification, complaint: Complaint) -> None:
        config = current_app.config
        event = next((e for e in reversed(complaint.events) if e.public and e.kind == notification.kind), None)
        what = (event.text if event and event.text else None) or EVENT_LABELS.get(notification.kind, notification.kind)
        at = event.at if event else notification.created_at
        current_app.extensions["wechat"].miniapp.wxa.send_subscribe_message(
            notification.recipient,
            config["WECHAT_SUBSCRIBE_TEMPLATE_ID"],
            {
                "character_string1": {"value": complaint.tracking_no},
                "phrase2": {"value": STATUS_LABELS[complaint.status]},
                "thing3": {"value": what if len(what) <= 20 else what[:19] + "…"},
                "time4": {"value": beijing(at)},
            },
            page=f"{config['WECHAT_MINIAPP_COMPLAINT_PAGE']}?tracking_no={complaint.tracking_no}",
        )
        complaint.notify_consent = False


def init_app(app: Flask, notifier: Notifier | None = None) -> None:
    wechat = app.extensions.get("wechat")
    if notifier is None and wechat and wechat.miniapp and app.config["WECHAT_SUBSCRIBE_TEMPLATE_ID"]:
        notifier = WeChatSubscribeNotifier()
    app.extensions["notifier"] = notifier or Unconfigured()


def enqueue(complaint: Complaint, kind: str) -> None:
    """Owe the citizen a message about ``kind``, in the transaction of the change itself."""
    if complaint.channel == "miniapp" and complaint.notify_consent and complaint.openid:
        db.session.add(
            Notification(
                complaint=complaint, channel="miniapp", recipient=complaint.openid, kind=kind, created_at=clock.now()
            )
        )


def deliver_pending(batch: int = 200) -> int:
    """Send what is owed; failures are retried on the next run, up to MAX_ATTEMPTS."""
    notifier: Notifier = current_app.extensions["notifier"]
    sent = 0
    rows = db.session.scalars(
        select(Notification)
        .where(Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    for notification in rows:
        notification.attempts += 1
        try:
            notifier.send(notification, db.session.get(Complaint, notification.complaint_id))
        except Exception as exc:  # any failure of the channel: keep it for the next run
            notification.last_error = f"{type(exc).__name__}: {exc}"[:300]
            continue
        notification.sent_at = clock.now()
        sent += 1
    db.session.commit()
    return sent

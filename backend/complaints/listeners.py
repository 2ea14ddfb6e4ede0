"""The listener port: other domains hear of a complaint's public events without complaints knowing them.

A domain that must act on a status change (the 12345 hotline's push-back, in ``backend.exchange.hotline``)
registers a listener when the app is built; the complaints services call every listener inside the
transaction of the change, so what a listener writes (an outbox row) commits or rolls back with it.
Dependencies point one way: the listening domain imports complaints, never the reverse.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from .models import Complaint, ComplaintEvent

Listener = Callable[[Complaint, ComplaintEvent], None]
EXTENSION = "complaint_listeners"


def register(app: Flask, listener: Listener) -> None:
    """Call ``listener(complaint, event)`` for every public event of every complaint from now on."""
    app.extensions.setdefault(EXTENSION, []).append(listener)


def emit(complaint: Complaint, event: ComplaintEvent) -> None:
    """Tell every listener; a listener's error is the change's error (its transaction rolls back)."""
    for listener in current_app.extensions.get(EXTENSION, ()):
        listener(complaint, event)

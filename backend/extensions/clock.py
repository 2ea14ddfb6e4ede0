"""The clock port: code asks ``clock.now()`` so tests can stand at any instant."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from flask import Flask, current_app


class ClockAdapter(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and replays."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, delta: dt.timedelta) -> None:
        self.at += delta


class Clock:
    def init_app(self, app: Flask, adapter: ClockAdapter | None = None) -> None:
        app.extensions["clock"] = adapter or SystemClock()

    @property
    def adapter(self) -> ClockAdapter:
        return current_app.extensions["clock"]

    def now(self) -> dt.datetime:
        return self.adapter.now()


clock = Clock()

"""gunicorn's threaded worker, with new connections shared out among the workers by how many each holds.

gunicorn's workers all accept from one listening socket, and a kept-alive connection stays with the worker
that accepted it. When a burst of clients connects while one worker happens to be off the CPU, the other
accepts them all: measured with wrk (32 keep-alive connections, 2 workers on 2 cores), whole runs had 32
connections on one worker and none on the other, at half the throughput and twice the latency. Here each
worker publishes its connection count in shared memory and stops accepting while it holds more than its
share (``fair_limit``); the others pick up what waits in the listen queue. A worker that stops beating
(hung or gone) drops out of the sharing after ``STALE_SECONDS``, so it cannot hold the others back.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import time
from http import HTTPStatus

from gunicorn import util
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine, ParseException
from gunicorn.workers.gthread import ThreadWorker

from backend.errors import error_payload

SLOTS = 64
STALE_SECONDS = 3.0
# Connections a worker may hold beyond an even share: with none, every new client would wait for the
# worker with the fewest to wake up; with one, a burst still ends at most one or two apart.
SLACK = 1
# What gunicorn refuses before the application sees the request, answered in the one error shape instead of
# gunicorn's HTML page (the application refuses shorter but still too long addresses itself: input_guard).
PARSER_REFUSALS = {
    LimitRequestLine: (414, "请求地址过长", "url"),
    LimitRequestHeaders: (431, "请求头过大", "headers"),
    # Anything else gunicorn cannot parse: a raw (not percent-encoded) non-ASCII address as curl sends it,
    # a bad method, version, header or chunk.
    ParseException: (400, "请求格式有误（地址中的中文等字符须经百分号编码）", "request"),
}


def fair_limit(total: int, live_workers: int, slack: int = SLACK) -> int:
    """How many connections a worker may hold when ``total`` are held by ``live_workers`` workers."""
    return math.ceil(total / max(live_workers, 1)) + slack


class ConnectionBoard:
    """Each worker's connection count and last beat (CLOCK_MONOTONIC, system-wide), in shared memory.

    Made in the arbiter before the first fork, so every worker maps the same pages. A slot is free when
    its beat is older than ``STALE_SECONDS``: workers beat at least once a second (their event loop wakes
    each second), so a stale slot belongs to a worker that exited or hangs.
    """

    def __init__(self, slots: int = SLOTS, stale: float = STALE_SECONDS) -> None:
        self.stale = stale
        self.counts = multiprocessing.RawArray("i", slots)
        self.beats = multiprocessing.RawArray("d", slots)
        self.used = multiprocessing.RawValue("i", 0)  # slots at or beyond this were never claimed
        self.lock = multiprocessing.Lock()

    def claim(self, now: float | None = None) -> int | None:
        """A free slot for this worker, or None when all are taken (the worker then accepts as gunicorn's)."""
        now = time.monotonic() if now is None else now
        with self.lock:
            for slot in range(len(self.beats)):
                if slot >= self.used.value or now - self.beats[slot] >= self.stale:
                    self.counts[slot], self.beats[slot] = 0, now
                    self.used.value = max(self.used.value, slot + 1)
                    return slot
        return None

    def release(self, slot: int) -> None:
        self.counts[slot], self.beats[slot] = 0, float("-inf")

    def limit(self, slot: int, held: int, now: float | None = None) -> int:
        """Publish ``held`` for ``slot`` and return how many connections that worker may hold now."""
        now = time.monotonic() if now is None else now
        self.counts[slot], self.beats[slot] = held, now
        total = live = 0
        for other in range(self.used.value):
            if now - self.beats[other] < self.stale:
                total += self.counts[other]
                live += 1
        return fair_limit(total, live)


class BalancedThreadWorker(ThreadWorker):
    """gthread, but ``worker_connections`` (which its event loop reads before every wait to decide whether
    to accept) is also bounded by the worker's fair share of all workers' connections."""

    board: ConnectionBoard | None = None

    def __init__(self, *args, **kwargs) -> None:
        if BalancedThreadWorker.board is None:  # in the arbiter, before the first worker is forked
            BalancedThreadWorker.board = ConnectionBoard()
        self.slot: int | None = None
        super().__init__(*args, **kwargs)

    @property
    def worker_connections(self) -> int:
        if self.slot is None or self.board is None:
            return self._cap
        return min(self._cap, self.board.limit(self.slot, self.nr_conns))

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._cap = value

    def accept(self, listener) -> None:
        """Accept only while under the share (others may have taken connections since the loop last looked),
        and publish the new count at once, so workers woken by the same burst see each other's accepts."""
        if self.slot is None or self.board is None:
            return super().accept(listener)
        if self.nr_conns >= self.worker_connections:
            return None  # left in the listen queue for a worker with fewer
        super().accept(listener)
        self.board.counts[self.slot] = self.nr_conns
        return None

    def init_process(self) -> None:
        assert self.board is not None
        self.slot = self.board.claim()
        if self.slot is None:
            self.log.warning("connection board full: worker %s accepts without sharing", os.getpid())
        try:
            super().init_process()
        finally:
            if self.slot is not None:
                self.board.release(self.slot)

    def handle_error(self, req, client, addr, exc) -> None:
        for kind, (code, message, field) in PARSER_REFUSALS.items():
            if isinstance(exc, kind):
                self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
                body = json.dumps(error_payload(code, message, {field: [str(exc)]}), ensure_ascii=False).encode()
                head = (
                    f"HTTP/1.1 {code} {HTTPStatus(code).phrase}\r\nConnection: close\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                try:
                    util.write_nonblock(client, head.encode("latin-1") + body)
                except OSError:
                    self.log.debug("Failed to send error message.")
                return
        super().handle_error(req, client, addr, exc)

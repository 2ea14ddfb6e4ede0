"""The badge check's limit, shared by the JSON API, the page a QR opens, the mini-program and the fast path."""

from __future__ import annotations

from flask import current_app

from backend.errors import RateLimited
from backend.extensions import cache


def limit_verification(address: str | None) -> None:
    """Checks per client address per minute, shared by the workers in batches (``batched_limit.py``: a
    write per scan would cost a third of the throughput); 0 disables the limit."""
    limit = current_app.config["VERIFY_RATE_LIMIT_PER_MINUTE"]
    if limit:
        wait = current_app.extensions["scan_limiter"].hit(cache.adapter, address or "-", limit)
        if wait is not None:
            raise RateLimited(wait)

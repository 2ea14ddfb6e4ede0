"""Background loops run as a process's foreground work (``flask search worker``, ``flask scheduler run``)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


def run_in_foreground(start: Callable[[], object], stop: Callable[[], object]) -> None:
    """Start a background loop (the search indexer, the scheduler), hold the process until SIGTERM or Ctrl-C,
    then stop it: what a service manager or ``docker compose stop`` sends ends the work cleanly (the batch or
    job under way finishes) instead of killing it mid-write."""
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    start()
    stopping.wait()
    stop()

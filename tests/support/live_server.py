"""A real gunicorn server, started as ``make run`` starts it, for tests that cross processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "WEB_WORKERS": str(workers),
            "WEB_THREADS": "4",
            "ACCESS_LOG": "",
            "SEARCH_INDEXER_THREAD": "0",
            **env,
        }
        self.process: subprocess.Popen | None = None
        # The server's log goes to a file, not a pipe: a pipe nobody reads fills up under a long load with
        # warnings (a dependency down), and the server then blocks writing to it.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop(), with the server)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> LiveServer:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def log_tail(self, characters: int = 2000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-characters:]

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

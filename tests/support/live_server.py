"""A real gunicorn server, started as ``make run`` starts it, for tests that cross processes."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def server_env(app, folder: Path, **overrides: str) -> dict[str, str]:
    """The environment a live server of ``app``'s (committed) database starts with: its secret and keys, its
    own instance folder and embedded index under ``folder``, its own keys on a shared Redis (a rate limit that
    other tests' servers used up must not refuse this one), no demo data, no scheduler; then ``overrides``."""
    return {
        "CACHE_KEY_PREFIX": f"live{uuid.uuid4().hex[:8]}:",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "BADGE_KEYS_DIR": app.config["BADGE_KEYS_DIR"],
        "TRANSPARENCY_KEYS_DIR": app.config["TRANSPARENCY_KEYS_DIR"],
        "INSTANCE_PATH": str(folder / "instance"),
        "SEARCH_EMBEDDED_PATH": str(folder / "search.sqlite3"),
        "DEMO_DATA": "0",
        "SCHEDULER_THREAD": "0",
        **overrides,
    }


def make_run_steps() -> list[list[str]]:
    """The ``flask`` commands ``make run`` runs before it starts gunicorn (migrate, search init, deadlines, demo
    data), read from the Makefile so that a server started here is set up as ``make run`` sets one up."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    steps = [line.split()[1:] for line in lines if line.startswith("\t$(FLASK) ")]
    assert steps and steps[0] == ["db", "upgrade"], steps
    return steps


def make_run_server(database_url: str, folder: Path, workers: int = 2) -> LiveServer:
    """A gunicorn server of the new, empty database ``database_url`` as ``make run`` serves one: set up by the
    Makefile's steps (demo data loaded), with make run's defaults (embedded search and the cache file, in an
    instance folder under ``folder``; the workers index and run the scheduler). Not started yet: use ``with``."""
    server = LiveServer(
        {
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(folder / "instance"),
            "DEMO_DATA": "1",
            "SEARCH_INDEXER_THREAD": "1",
            "SCHEDULER_THREAD": "1",
            "REDIS_URL": "",
            "ELASTICSEARCH_URL": "",
        },
        workers=workers,
    )
    flask = Path(sys.executable).parent / "flask"
    for step in make_run_steps():
        done = subprocess.run([str(flask), "--app", "backend", *step], cwd=ROOT, env=server.env, capture_output=True)
        assert done.returncode == 0, (step, done.stderr.decode(errors="replace")[-2000:])
    return server


def agency_client(app, code: str = "MKT") -> dict[str, str]:
    """An agency (泉州市市场监督管理局) and a client of it in ``app``'s database: the client's credentials."""
    from backend.accounts.services import create_client
    from backend.agencies.services import create_agency

    with app.app_context():
        create_agency(code=code, name="泉州市市场监督管理局", region_code="350500", actor="test")
        issued = create_client(code, actor="test")
    return {"client_id": issued.client.client_id, "client_secret": issued.secret}


def http_json(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> dict:
    """One JSON request to a live server; the JSON answer."""
    request = urllib.request.Request(
        url,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
        data=json.dumps(body).encode() if body is not None else None,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- which worker holds which connection (Linux /proc) --------------------------------------------
def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def _established(port: int) -> list[tuple[int, str]]:
    """(peer port, socket inode) of each established connection whose local port is ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                found.append((int(fields[2].rsplit(":", 1)[1], 16), fields[9]))
    return found


def established_inodes(port: int) -> set[str]:
    return {inode for _peer, inode in _established(port)}


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def held(pid: int, inodes: set[str]) -> int:
    return len(socket_inodes(pid) & inodes)


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

    def workers(self, count: int, timeout: float = 20) -> list[int]:
        """The worker processes, once ``count`` of them run."""
        deadline = time.monotonic() + timeout
        while len(found := children(self.process.pid)) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(found) == count, found
        return found

    def connection_to_each_worker(self, count: int, source: str = "127.0.0.1") -> dict[int, http.client.HTTPConnection]:
        """A kept-alive connection held by each of ``count`` workers, from the address ``source``: requests
        sent on them are answered by the worker named, whichever the new-connection balancing would pick."""
        workers = self.workers(count)
        held_by: dict[int, http.client.HTTPConnection] = {}
        spare = []
        for _ in range(8 * count):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(source, 0))
            connection.request("GET", "/healthz")
            connection.getresponse().read()  # accepted and answered: the connection lives in a worker now
            own_port = connection.sock.getsockname()[1]
            inode = next(inode for peer, inode in _established(self.port) if peer == own_port)
            pid = next(pid for pid in workers if inode in socket_inodes(pid))
            if pid in held_by:
                spare.append(connection)
            else:
                held_by[pid] = connection
            if len(held_by) == count:
                break
        for connection in spare:
            connection.close()
        assert len(held_by) == count, f"the connections all went to {list(held_by)}"
        return held_by

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

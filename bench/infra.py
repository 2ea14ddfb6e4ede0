"""Infrastructure the benches run on: an isolated instance (temporary folder, database, search prefix),
the ``flask`` CLI, the app in-process, gunicorn as ``make run`` starts it, and a keep-alive HTTP client.

The scripts run as ``.venv/bin/python bench/NAME.py``, so this folder is first on ``sys.path`` and they
import ``infra``, ``dataset`` (generated data) and ``reporting`` (tables, JSON, environment) by name;
importing this module also puts the repository root on ``sys.path`` so ``backend`` and ``search_index``
import as in the app.

Everything a bench creates is cleaned up by the context managers here, also on failure and on
SIGTERM: the temporary folder (instance path, SQLite files, logs), the PostgreSQL database
created for the run, the Elasticsearch indices of the run's prefix and the gunicorn processes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataset import Agency
from reporting import log

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RUN_TAG = uuid.uuid4().hex[:8]
BENCH_SECRET = "bench-secret-key-not-for-production-" + RUN_TAG


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so every ``finally`` and context manager cleans up."""

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


# -- an isolated instance: temporary folder and database -----------------------------------------
@contextlib.contextmanager
def temporary_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"sanxiang-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def temporary_database(tmp_dir: Path, tag: str) -> Iterator[str]:
    """A new empty database (``backend.extensions.database.temporary_database``, as the tests make theirs):
    on the PostgreSQL server in DATABASE_URL when set, else a SQLite file; named after the run, and said."""
    from backend.extensions.database import temporary_database as new_database

    name = f"sanxiang_bench_{tag}_{RUN_TAG}_{uuid.uuid4().hex[:6]}"
    with new_database(os.environ.get("DATABASE_URL"), name, tmp_dir / "bench.sqlite3") as url:
        on_server = database_kind(url) == "postgresql"
        if on_server:
            log(f"created database {name}")
        try:
            yield url
        finally:
            if on_server:
                log(f"dropping database {name}")


def drop_database(admin, name: str) -> None:
    """DROP DATABASE, retried (``backend.extensions.database.drop_database``), and say so."""
    from backend.extensions.database import drop_database as drop

    drop(admin, name)
    log(f"dropped database {name}")


def database_kind(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@dataclass
class Instance:
    """Settings of one isolated deployment, as environment variables (for subprocesses) and config."""

    tmp: Path
    database_url: str
    prefix: str
    elasticsearch_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def embedded_path(self) -> str:
        return str(self.tmp / "search.sqlite3")

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            INSTANCE_PATH=str(self.tmp / "instance"),
            DATABASE_URL=self.database_url,
            SEARCH_EMBEDDED_PATH=self.embedded_path,
            SEARCH_INDEX_PREFIX=self.prefix,
            ELASTICSEARCH_URL=self.elasticsearch_url or "",
            SEARCH_INDEXER_THREAD="0",
            SECRET_KEY=BENCH_SECRET,
            DEMO_DATA="0",
            APP_ENV="development",
        )
        env.update(self.extra)
        env.update(overrides)
        return env

    def config(self, **overrides: Any) -> dict[str, Any]:
        config = {
            "SECRET_KEY": BENCH_SECRET,
            "DATABASE_URL": self.database_url,
            "ELASTICSEARCH_URL": self.elasticsearch_url,
            "SEARCH_EMBEDDED_PATH": self.embedded_path,
            "SEARCH_INDEX_PREFIX": self.prefix,
            "SEARCH_INDEXER_THREAD": False,
            "DEMO_DATA": False,
        }
        config.update(overrides)
        return config


@contextlib.contextmanager
def instance(tag: str, *, elasticsearch_url: str | None = None) -> Iterator[Instance]:
    """Temporary folder + fresh database + unique search prefix; every search index of the prefix
    (both engines) is dropped at the end."""
    with temporary_dir(tag) as tmp, temporary_database(tmp, tag) as url:
        (tmp / "instance").mkdir()
        inst = Instance(tmp=tmp, database_url=url, prefix=f"bench_{tag}_{RUN_TAG}", elasticsearch_url=elasticsearch_url)
        try:
            yield inst
        finally:
            if elasticsearch_url:
                drop_indices(inst, elasticsearch_url)


def drop_indices(inst: Instance, elasticsearch_url: str) -> None:
    from search_index.elastic import ElasticsearchEngine
    from search_index.mappings import DEFINITIONS

    try:
        engine = ElasticsearchEngine(elasticsearch_url, prefix=inst.prefix, timeout=60)
        for definition in DEFINITIONS.values():
            engine.drop(definition)
        engine.client.close()
        log(f"dropped Elasticsearch indices {inst.prefix}-*")
    except Exception as exc:  # clean-up must not hide the real error
        log(f"could not drop Elasticsearch indices {inst.prefix}-*: {exc}")


# -- the CLI, as an operator runs it ---------------------------------------------------------
def flask_cli(inst: Instance, *args: str, **env: str) -> str:
    """``flask --app backend ARGS`` in a subprocess with the instance's environment; returns stdout."""
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "backend", *args],
        cwd=ROOT,
        env=inst.env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


# -- in-process app ------------------------------------------------------------------------
def make_app(inst: Instance, **config: Any):
    """``backend.create_app`` pointed at the instance. The environment is set first, so nothing is
    written to the repository's own ``instance/`` folder (the development secret key)."""
    os.environ["INSTANCE_PATH"] = str(inst.tmp / "instance")
    os.environ["SECRET_KEY"] = BENCH_SECRET
    from backend import create_app

    app = create_app(inst.config(**config))
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    return app


def migrate_in_process(app) -> None:
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["db", "upgrade"], catch_exceptions=False)
        if result.exit_code != 0:
            raise RuntimeError(f"db upgrade failed: {result.output}")


def create_agencies(app, agencies: Sequence[Agency]) -> None:
    from backend.agencies.services import create_agency

    with app.app_context():
        for agency in agencies:
            create_agency(
                actor="bench",
                code=agency.code,
                name=agency.name,
                region_code=agency.region,
                parent_code=agency.parent,
                address=agency.address,
                phone=agency.phone,
            )


def bulk_load(app, agency_code: str, bodies: Sequence[dict[str, Any]], chunk: int = 500) -> int:
    """Publish ``bodies`` (each with an external_id) through ``services.bulk_upsert``, the service the
    bulk API calls, ``chunk`` items per transaction; returns how many were created. One app context
    (so one session) per chunk, as one request would have."""
    from backend.agencies.services import get_agency
    from backend.disclosures.publishing import bulk_upsert

    created = 0
    for start in range(0, len(bodies), chunk):
        with app.app_context():
            agency = get_agency(agency_code)
            results = bulk_upsert(agency, list(bodies[start : start + chunk]), "bench")
            bad = [r for r in results if r["result"] != "created"]
            if bad:
                raise RuntimeError(f"bulk_upsert: {len(bad)} items not created, first: {bad[0]}")
            created += len(results)
    return created


def close_engine(engine) -> None:
    """Close a search engine object's connections (embedded: this thread's SQLite; ES: the client)."""
    if hasattr(engine, "close"):
        engine.close()
    client = getattr(engine, "client", None)
    if client is not None:
        client.close()


def dispose(app) -> None:
    app.extensions["officer_snapshots"].stop()
    app.extensions["database"].engine.dispose()
    close_engine(app.extensions["search"])


# -- gunicorn, exactly as `make run` starts it ----------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``.venv/bin/gunicorn -c deploy/gunicorn.conf.py`` with PORT set and access logs off."""

    def __init__(self, inst: Instance, *, workers: int | None = None, threads: int | None = None, **env: str) -> None:
        self.port = free_port()
        extra = {"PORT": str(self.port), "HOST": "127.0.0.1", "ACCESS_LOG": "", **env}
        if workers:
            extra["WEB_WORKERS"] = str(workers)
        if threads:
            extra["WEB_THREADS"] = str(threads)
        self.env = inst.env(**extra)
        self.log_path = inst.tmp / f"gunicorn-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self._log = open(self.log_path, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as one if it does not stop
        )
        try:
            self._wait_healthy()
            self._wait_workers_settled()
        except BaseException:
            self.stop()
            raise
        log(f"gunicorn pid {self.proc.pid} serving on 127.0.0.1:{self.port}")
        return self

    @property
    def expected_workers(self) -> int:
        return int(self.env.get("WEB_WORKERS") or os.cpu_count() or 1)

    def worker_pids(self) -> list[int]:
        """The master's child processes, from /proc (Linux)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                pids.append(int(entry.name))
        return pids

    def _cpu_ticks(self, pids: list[int]) -> int:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total

    def _wait_workers_settled(self, timeout: float = 60) -> None:
        """/healthz answers as soon as one worker is up; the others may still be importing the app (and
        running their start-up jobs), which would eat CPU during the first timed requests. Wait until
        every worker exists and none used CPU for half a second."""
        if not Path("/proc/self/stat").exists():
            time.sleep(5)
            return
        deadline = time.monotonic() + timeout
        previous = -1
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            ticks = self._cpu_ticks(pids)
            if len(pids) >= self.expected_workers and ticks == previous:
                return
            previous = ticks
            time.sleep(0.5)
        log(f"gunicorn workers still busy after {timeout}s; going on")

    def _wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not healthy after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # graceful: workers finish their requests
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        # Workers of a master that died abnormally: only this process group, by its id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        log(f"gunicorn pid {proc.pid} stopped")
        self.proc = None
        self._log.close()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


class HttpClient:
    """A keep-alive HTTP/1.1 client on ``http.client`` (``requests`` is not a dependency).

    gunicorn closes an idle keep-alive connection after 5 s, so a connection idle for more than
    4 s is replaced before it is used, and a request is never silently retried."""

    def __init__(self, port: int, timeout: float = 120) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, float]:
        """Returns (status, body, seconds from sending to the last byte of the response)."""
        if self.conn is None or time.monotonic() - self.last_used > 4:
            self.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.connect()
        headers = dict(headers or {})
        if body is not None:
            headers.setdefault("Content-Type", "application/json")
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        elapsed = time.perf_counter() - started
        self.last_used = time.monotonic()
        if response.will_close:
            self.close()
        return response.status, data, elapsed

    def json(self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None) -> Any:
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        status, data, _ = self.request(method, path, body, headers)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {data[:500]!r}")
        return json.loads(data)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def bearer_token(client: HttpClient, credentials: dict[str, str]) -> dict[str, str]:
    token = client.json("POST", "/api/v1/auth/token", credentials)["access_token"]
    return {"Authorization": f"Bearer {token}"}

"""The transparency log at scale. Targets: append >= 2,000 entries/s; at 1,000,000 entries inclusion and
consistency proofs p95 <= 5 ms; a withdrawal leaves Elasticsearch within 1 s.

What it measures, on one fresh database (PostgreSQL when DATABASE_URL is set, else a SQLite file):

(a) Append throughput through the real service, ``backend.transparency.services.append``, one app context
    (so one session, as one request has) and one commit per transaction, in transactions of 1, 10 and 500
    events (``--tx``, default 1x1000, 10x200, 500x20): entries/s and the p50/p95 of one transaction; then
    1-event transactions from ``--tx-threads`` (4) threads of this process at once and from
    ``--tx-processes`` (one per core, as gunicorn's workers) forked processes at once, as concurrent requests
    would append (the head row is locked until commit, so they queue). Once the log is at full size (after
    (c)), the same runs again (``--tx-after``, default 1x200, 10x100, 500x10): does appending slow down with
    the size of the log? Each run stops after ``--tx-time-limit`` seconds (default 60; the transactions done
    are reported).
    What the target means: the system appends in two ways. Bulk calls (a bulk publish of up to 500 items,
    a batch of up to 500 case records) append one entry per item in one transaction; single changes (one
    withdrawal, correction, expiry or credential status change per request) append one entry per
    transaction. The last lines of the report judge both against 2,000 entries/s, separately, and name
    every way that misses it: a single change is a transaction of its own, so for it entries/s is
    transactions/s. So each 1-event shape is also run with the smallest write transaction instead (``floor``:
    one app context, one INSERT of one row into a table of the bench's own, commit), at the same
    concurrency: the rate at which this machine commits requests' transactions at all, whatever they write.
(b) Growth of the log to N entries (``--entries``, default 1,000,000) through the same ``append`` in
    transactions of 5,000 events (entries + complete-subtree nodes + head, the real code path), with
    progress on stderr; a signed checkpoint (``services.checkpoint``) every 100,000 entries, as the public
    checkpoint endpoint would leave behind, so the audit below has signatures to check.
    ``--grow-time-limit`` stops the growth early (the size reached is then reported and used).
(c) 2,000 random inclusion proofs (``services.inclusion(index, N)``, index uniform in [0, N)) and 2,000
    random consistency proofs (``services.consistency(first, N)``, first uniform in [1, N)) in-process, one
    app context per proof, timing the service call; then the same through HTTP on gunicorn
    (``/api/v1/transparency/proof/inclusion?index=&tree_size=`` and ``/proof/consistency?first=&second=``),
    one keep-alive client, sequential. p50/p95/p99/max for each. 100 proofs of each kind and transport are
    checked against the root (``merkle.verify_inclusion`` / ``verify_consistency``), outside the timing.
    A series stops early after ``--proof-time-limit`` seconds (default 90; the n reached is reported), which
    keeps the bench bounded where proofs are slow (SQLite at a large size: see the plan printed).
(d) ``flask --app backend transparency verify`` on the whole log, as a subprocess with the instance's
    environment: seconds, CPU seconds, peak RSS; it must print ``ok``.
(e) Withdrawal latency (needs ELASTICSEARCH_URL or --elasticsearch-url): the gunicorn server above runs with
    the indexer thread on (SEARCH_INDEXER_THREAD=1) and Elasticsearch; 50 decisions are published through the
    bulk API, and once all 50 are searchable in Elasticsearch each is withdrawn through ``POST
    /api/v1/publish/disclosures/{external_id}/withdraw``, one at a time; from the moment the withdraw response
    has arrived the engine is polled directly (``_count`` with an ``ids`` query on the alias, every 10 ms)
    until the item no longer appears. p50/p95/max of that delay, and of the withdraw call itself.

The in-process parts use ``infra.make_app`` on the same database (embedded search engine: nothing they do
touches the index). Gunicorn is started as ``make run`` starts it (infra.Gunicorn). ``--profile`` adds, at
the end, a cProfile of one 5,000-event append transaction and of 500 in-process inclusion and consistency
proofs, one proof timed part by part (head query, node query, pure Merkle code), and the per-entry work of
``services.audit`` timed piece by piece over 20,000 stored entries. The database's plan for each proof's
node query is always printed (EXPLAIN ANALYZE on PostgreSQL).

Run (about 10 minutes at the default size on PostgreSQL; use --entries 200000 for a quick look):

    DATABASE_URL=postgresql+psycopg://sanxiang:sanxiang@127.0.0.1:55432/sanxiang \\
    ELASTICSEARCH_URL=http://127.0.0.1:59200 \\
        .venv/bin/python bench/transparency.py --entries 1000000

Progress goes to stderr; stdout gets the tables and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import multiprocessing
import os
import random
import resource
import subprocess
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import dataset
import infra
import reporting

TARGET_APPEND_PER_S = 2000
TARGET_PROOF_P95_MS = 5.0
TARGET_WITHDRAWAL_S = 1.0
CHECKPOINT_EVERY = 100_000
EVENT_KINDS = (
    ("publish", 80),
    ("correct", 5),
    ("withdraw", 3),
    ("withhold", 2),
    ("expire", 5),
    ("credential_status", 5),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="grow the log to this size (default 1e6)")
    parser.add_argument("--batch", type=int, default=5000, help="events per growth transaction (default 5000)")
    parser.add_argument(
        "--tx", default="1x1000,10x200,500x20", help="append runs, EVENTSxTRANSACTIONS (default 1x1000,10x200,500x20)"
    )
    parser.add_argument(
        "--tx-after",
        default="1x200,10x100,500x10",
        help="append runs again at the full size (default 1x200,10x100,500x10)",
    )
    parser.add_argument("--tx-threads", type=int, default=4, help="threads of the concurrent 1-event run (default 4)")
    parser.add_argument(
        "--tx-processes",
        type=int,
        default=os.cpu_count() or 2,
        help="processes of the other concurrent 1-event run (default: cores, as gunicorn's workers)",
    )
    parser.add_argument("--tx-time-limit", type=float, default=60, help="seconds per append run before it stops")
    parser.add_argument("--proofs", type=int, default=2000, help="proofs of each kind, each way (default 2000)")
    parser.add_argument("--withdrawals", type=int, default=50, help="items withdrawn in (e) (default 50)")
    parser.add_argument("--elasticsearch-url", default=os.environ.get("ELASTICSEARCH_URL") or None)
    parser.add_argument("--grow-time-limit", type=float, default=1200, help="stop growing after this many seconds")
    parser.add_argument(
        "--proof-time-limit", type=float, default=90, help="seconds per series of proofs before it stops (default 90)"
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: as make run, one per core)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: as make run, 4)")
    parser.add_argument("--seed", type=int, default=9162)
    parser.add_argument("--profile", action="store_true", help="cProfile an append, proofs and the audit's pieces")
    args = parser.parse_args()
    try:
        args.tx_runs = [tuple(int(x) for x in part.split("x")) for part in args.tx.split(",") if part]
        args.tx_after_runs = [tuple(int(x) for x in part.split("x")) for part in args.tx_after.split(",") if part]
    except ValueError:
        parser.error("--tx takes EVENTSxTRANSACTIONS pairs, e.g. 1x1000,10x200,500x20")
    return args


# -- events -------------------------------------------------------------------------------------------
class Events:
    """Realistic log events: mostly publications with a commitment, some corrections, withdrawals,
    withholdings, expiries and credential changes, from the demo agencies and their clients."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.agencies = [a.code for a in dataset.publishers(dataset.make_agencies())]
        self.kinds = [k for k, _ in EVENT_KINDS]
        self.weights = [w for _, w in EVENT_KINDS]

    def make(self, count: int) -> list[Any]:
        from backend.transparency.services import Event

        rng = self.rng
        events = []
        for kind in rng.choices(self.kinds, self.weights, k=count):
            agency = rng.choice(self.agencies)
            commitment = None
            detail: dict[str, Any] = {}
            if kind in ("publish", "correct", "withdraw"):
                commitment = hashlib.sha256(rng.randbytes(32)).hexdigest()
            if kind == "withdraw":
                detail = {"reason": rng.choice(("revoked", "confirmed_illegal", "remade", "credit_repair"))}
            if kind == "credential_status":
                item_id = f"{agency}/3505{rng.randrange(10**6):06d}"
                detail = {"status": rng.choice(("suspended", "revoked", "active"))}
                actor = f"client:ac_{rng.randrange(16):04x}"
            else:
                item_id = uuid.UUID(int=rng.getrandbits(128)).hex
                actor = "system" if kind == "expire" else f"client:ac_{rng.randrange(16):04x}"
            events.append(Event(kind, item_id, agency, actor, commitment, detail))
        return events


def append_transaction(app, events: list[Any]) -> float:
    """One app context, ``append`` and commit: what a request that records ``events`` does. Seconds."""
    from backend.extensions import db
    from backend.transparency import services

    started = time.perf_counter()
    with app.app_context():
        services.append(events)
        db.session.commit()
    return time.perf_counter() - started


FLOOR_TABLE = "bench_floor"


def floor_transaction(app, _events: list[Any]) -> float:
    """The smallest write a request can make, for comparison: one app context, one INSERT of one row into
    a table of its own (no lock shared with anything), commit. Seconds."""
    from sqlalchemy import text

    from backend.extensions import db

    started = time.perf_counter()
    with app.app_context():
        db.session.execute(text(f"INSERT INTO {FLOOR_TABLE} (at) VALUES (CURRENT_TIMESTAMP)"))
        db.session.commit()
    return time.perf_counter() - started


def create_floor_table(app) -> None:
    from sqlalchemy import text

    from backend.extensions import db

    with app.app_context():
        serial = "INTEGER PRIMARY KEY" if db.session.get_bind().dialect.name == "sqlite" else "BIGSERIAL PRIMARY KEY"
        db.session.execute(text(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id {serial}, at TIMESTAMP)"))
        db.session.commit()


def log_size(app) -> int:
    from backend.transparency import services

    with app.app_context():
        return services.tree_size()


# -- (a) append throughput ----------------------------------------------------------------------------
def _append_worker(
    app, batches: list[list[Any]], seconds: list[float], errors: list[str], barrier: Any, limit: float, transaction
) -> None:
    barrier.wait()
    began = time.perf_counter()
    for batch in batches:
        if time.perf_counter() - began > limit:
            break
        try:
            seconds.append(transaction(app, batch))
        except Exception as exc:  # a lock timeout is a result too
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")


def _append_process(app, batches: list[list[Any]], barrier: Any, limit: float, results: Any, transaction) -> None:
    """A forked worker process (as a gunicorn worker is): its own connections, then the same loop."""
    app.extensions["database"].engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    seconds: list[float] = []
    errors: list[str] = []
    try:
        _append_worker(app, batches, seconds, errors, barrier, limit, transaction)
    finally:
        results.put((seconds, errors))


def append_runs(
    app, events: Events, runs: list[tuple[int, int]], threads: int, processes: int, time_limit: float, at: str
) -> list[dict[str, Any]]:
    """Each (events per transaction, transactions) run sequentially from one thread; then the 1-event run
    again from ``threads`` threads of this process and from ``processes`` forked processes at once, as
    concurrent requests in one gunicorn worker and in several would append (the head row lock serializes
    them). A run stops after ``time_limit`` seconds (the transactions done are reported)."""
    results = []
    plan = [(size, transactions, 1, "thread") for size, transactions in runs]
    single = runs[0][1] if runs and runs[0][0] == 1 else 1000
    if threads > 1 and runs:
        plan.append((1, single, threads, "thread"))
    if processes > 1 and runs:
        plan.append((1, single, processes, "process"))
    # Each 1-event shape again with the smallest write transaction instead of an append: what this machine's
    # requests can commit at all, one transaction each, at that concurrency.
    plan = [
        (size, transactions, n_workers, kind, what)
        for size, transactions, n_workers, kind in plan
        for what in (("append", "floor") if size == 1 else ("append",))
    ]
    create_floor_table(app)
    fork = multiprocessing.get_context("fork")
    for size, transactions, n_workers, kind, what in plan:
        transaction = append_transaction if what == "append" else floor_transaction
        # Warm-up (not counted): statement compilation for this batch size.
        for _ in range(3):
            transaction(app, events.make(size))
        per_worker = [[events.make(size) for _ in range(transactions // n_workers)] for _ in range(n_workers)]
        seconds: list[list[float]] = [[] for _ in range(n_workers)]
        errors: list[str] = []
        if kind == "process":
            barrier: Any = fork.Barrier(n_workers + 1)
            queue = fork.Queue()
            workers: list[Any] = [
                fork.Process(target=_append_process, args=(app, per_worker[k], barrier, time_limit, queue, transaction))
                for k in range(n_workers)
            ]
        else:
            barrier = threading.Barrier(n_workers + 1)
            workers = [
                threading.Thread(
                    target=_append_worker,
                    args=(app, per_worker[k], seconds[k], errors, barrier, time_limit, transaction),
                    daemon=True,
                )
                for k in range(n_workers)
            ]
        for worker in workers:
            worker.start()
        barrier.wait()
        started = time.perf_counter()
        if kind == "process":
            for k in range(n_workers):
                seconds[k], worker_errors = queue.get()
                errors += worker_errors
        for worker in workers:
            worker.join()
        wall = time.perf_counter() - started
        flat = [s for per in seconds for s in per]
        entries = size * len(flat)
        result = {
            "at": at,
            "what": what,
            "events_per_transaction": size,
            "workers": n_workers,
            "concurrency": f"{n_workers} {kind}{'es' if kind == 'process' else 's'}" if n_workers > 1 else "1 thread",
            "transactions": len(flat),
            "entries": entries,
            "seconds": round(wall, 3),
            "entries_per_s": round(entries / wall, 1),
            "transactions_per_s": round(len(flat) / wall, 1),
            "transaction_ms": reporting.summary_ms(flat),
            "errors": errors[:5],
            "error_count": len(errors),
        }
        reporting.log(
            f"{what} at {at}, {size} per transaction, {result['concurrency']}: {entries} entries in {wall:.2f}s = "
            f"{result['entries_per_s']:.0f}/s (p50 {result['transaction_ms'].get('p50')} ms per transaction"
            + (f", {len(errors)} errors" if errors else "")
            + ")"
        )
        results.append(result)
    return results


def append_verdict(runs: list[dict[str, Any]]) -> list[str]:
    """What the append target means here, and whether each way the system appends meets it.

    Entries come from two kinds of call: bulk calls (a bulk publish of up to 500 items, a batch of up to 500
    case records) append one entry per item in one transaction; single changes (one withdrawal, correction,
    expiry or credential status change) append one entry in a transaction of their own. Entries per second
    is only the same thing as transactions per second for the second kind, so both are judged, separately.
    """
    lines = []
    appends = [run for run in runs if run.get("what", "append") == "append"]
    for at in dict.fromkeys(run["at"] for run in appends):
        here = [run for run in appends if run["at"] == at]
        floors = {run["concurrency"]: run for run in runs if run["at"] == at and run.get("what") == "floor"}
        bulk = [run for run in here if run["events_per_transaction"] > 1]
        single = [run for run in here if run["events_per_transaction"] == 1]
        parts = [
            f"{run['events_per_transaction']}/tx {run['entries_per_s']:,.0f}/s {_pass(_meets(run))}" for run in bulk
        ]
        if parts:
            lines.append(f"log size {at}: bulk calls (entries per transaction > 1): " + "; ".join(parts))
        parts = []
        for run in sorted(single, key=lambda r: r["workers"]):
            part = f"{run['concurrency']} {run['entries_per_s']:,.0f}/s {_pass(_meets(run))}"
            floor = floors.get(run["concurrency"])
            if floor:
                part += (
                    f" (the smallest write transaction, {floor['concurrency']}: {floor['transactions_per_s']:,.0f}/s;"
                    f" appends at {run['entries_per_s'] / floor['transactions_per_s']:.0%} of it)"
                )
            parts.append(part)
        if parts:
            lines.append(f"log size {at}: single changes (1 entry per transaction): " + "; ".join(parts))
    missed = [run for run in appends if not _meets(run)]
    if missed:
        shapes = sorted({f"{run['events_per_transaction']}/tx ({run['concurrency']})" for run in missed})
        lines.append(
            f"target MISSED for: {', '.join(shapes)}. Each of these transactions pays the fixed cost of one (lock "
            "the head, write, commit: a few round trips on PostgreSQL) for few entries, holding the head lock, so "
            "the rate is bounded by transactions/s rather than by the log's work per entry."
        )
        floors = [run["transactions_per_s"] for run in runs if run.get("what") == "floor"]
        if floors:
            lines.append(
                f"for scale: the smallest write transaction (one INSERT and commit, nothing shared) reached at most "
                f"{max(floors):,.0f}/s here, at any concurrency measured"
            )
    else:
        lines.append("target met by every way of appending measured")
    return lines


def _meets(run: dict[str, Any]) -> bool:
    return run["entries_per_s"] >= TARGET_APPEND_PER_S


# -- (b) growth ---------------------------------------------------------------------------------------
def grow(app, events: Events, target: int, batch: int, time_limit: float) -> dict[str, Any]:
    from backend.transparency import services

    size = log_size(app)
    start_size = size
    started = time.perf_counter()
    in_append = 0.0
    checkpoints = []
    last_report = started
    batch_seconds: list[float] = []
    batch_counts: list[int] = []
    while size < target:
        if time.perf_counter() - started > time_limit:
            reporting.log(f"growth stopped by --grow-time-limit at {size:,} entries")
            break
        count = min(batch, target - size)
        chunk = events.make(count)
        seconds = append_transaction(app, chunk)
        in_append += seconds
        batch_seconds.append(seconds)
        batch_counts.append(count)
        size += count
        if size // CHECKPOINT_EVERY != (size - count) // CHECKPOINT_EVERY:
            with app.app_context():
                made = services.checkpoint()
                checkpoints.append(made.tree_size)
        now = time.perf_counter()
        if now - last_report > 15 or size >= target:
            elapsed = now - started
            rate = (size - start_size) / elapsed
            eta = (target - size) / rate if rate else 0
            recent = slice(-10, None)
            reporting.log(
                f"grown to {size:,} entries in {elapsed:.0f}s ({rate:,.0f}/s overall, last batches "
                f"{sum(batch_counts[recent]) / sum(batch_seconds[recent]):,.0f}/s; ETA {eta:.0f}s)"
            )
            last_report = now
    wall = time.perf_counter() - started
    grown = size - start_size
    # Throughput by tenth of the growth: does appending slow down as the tables grow?
    tenths = []
    per = max(1, len(batch_seconds) // 10)
    for i in range(0, len(batch_seconds), per):
        tenths.append(round(sum(batch_counts[i : i + per]) / sum(batch_seconds[i : i + per])))
    return {
        "start_size": start_size,
        "size": size,
        "grown": grown,
        "batch": batch,
        "seconds": round(wall, 1),
        "seconds_in_append": round(in_append, 1),
        "entries_per_s": round(grown / wall, 1) if wall else 0.0,
        "entries_per_s_in_append": round(grown / in_append, 1) if in_append else 0.0,
        "batch_ms": reporting.summary_ms(batch_seconds),
        "entries_per_s_by_tenth": tenths,
        "checkpoints": checkpoints,
    }


def table_sizes(database_url: str) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            counts = {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("transparency_entries", "transparency_nodes", "transparency_checkpoints")
            }
            if engine.dialect.name == "postgresql":
                counts["database_bytes"] = conn.execute(
                    text("SELECT pg_database_size(current_database())")
                ).scalar_one()
            return counts
    finally:
        engine.dispose()


# -- (c) proofs ---------------------------------------------------------------------------------------
def proof_requests(rng: random.Random, size: int, count: int) -> tuple[list[int], list[int]]:
    indexes = [rng.randrange(size) for _ in range(count)]
    firsts = [rng.randrange(1, size) for _ in range(count)]
    return indexes, firsts


def proofs_in_process(app, size: int, indexes: list[int], firsts: list[int], limit: float) -> dict[str, Any]:
    from backend.transparency import services

    results: dict[str, Any] = {}
    for kind, values in (("inclusion", indexes), ("consistency", firsts)):
        call = services.inclusion if kind == "inclusion" else services.consistency
        for value in values[:20]:  # warm-up: statement compilation, pool
            with app.app_context():
                call(value, size)
        seconds = []
        proofs = []
        series_started = time.perf_counter()
        for value in values:
            if time.perf_counter() - series_started > limit:
                reporting.log(f"in-process {kind} proofs stopped by --proof-time-limit after {len(seconds)}")
                break
            with app.app_context():
                started = time.perf_counter()
                proof = call(value, size)
                seconds.append(time.perf_counter() - started)
            proofs.append(proof["hashes"])
        results[kind] = {"ms": reporting.summary_ms(seconds), "hashes_mean": sum(map(len, proofs)) / len(proofs)}
        checked = min(100, len(proofs))
        results[kind]["checked"] = check_proofs(app, kind, size, values[:checked], proofs[:checked])
        reporting.log(f"in-process {kind} proofs at size {size:,}: {results[kind]['ms']}")
    return results


def proofs_http(port: int, size: int, indexes: list[int], firsts: list[int], app, limit: float) -> dict[str, Any]:
    client = infra.HttpClient(port)
    results: dict[str, Any] = {}
    try:
        for kind, values in (("inclusion", indexes), ("consistency", firsts)):
            if kind == "inclusion":
                paths = [f"/api/v1/transparency/proof/inclusion?index={v}&tree_size={size}" for v in values]
            else:
                paths = [f"/api/v1/transparency/proof/consistency?first={v}&second={size}" for v in values]
            for path in paths[:20]:  # warm-up: each worker's first requests
                client.request("GET", path)
            seconds, proofs, errors = [], [], 0
            series_started = time.perf_counter()
            for path in paths:
                if time.perf_counter() - series_started > limit:
                    reporting.log(f"HTTP {kind} proofs stopped by --proof-time-limit after {len(seconds)}")
                    break
                status, data, elapsed = client.request("GET", path)
                if status != 200:
                    errors += 1
                    continue
                seconds.append(elapsed)
                proofs.append([bytes.fromhex(h) for h in json.loads(data)["hashes"]])
            results[kind] = {"ms": reporting.summary_ms(seconds), "errors": errors}
            checked = min(100, len(proofs))
            results[kind]["checked"] = (
                check_proofs(app, kind, size, values[:checked], proofs[:checked]) if not errors else None
            )
            reporting.log(f"HTTP {kind} proofs at size {size:,}: {results[kind]['ms']}")
    finally:
        client.close()
    return results


def check_proofs(app, kind: str, size: int, values: list[int], proofs: list[list[bytes]]) -> dict[str, int]:
    """Verify proofs against the tree's roots the way a client does (RFC 9162 verification)."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.transparency import merkle, services
    from backend.transparency.models import LogEntry

    good = 0
    with app.app_context():
        root = services.root_at(size)
        for value, proof in zip(values, proofs, strict=True):
            if kind == "inclusion":
                leaf = bytes(db.session.scalar(select(LogEntry.leaf_hash).where(LogEntry.index == value)))
                good += merkle.verify_inclusion(leaf, value, size, proof, root)
            else:
                good += merkle.verify_consistency(value, size, services.root_at(value), root, proof)
        db.session.rollback()
    return {"checked": len(values), "valid": good}


# -- (d) the audit ------------------------------------------------------------------------------------
def run_verify_cli(inst: infra.Instance, timeout: float = 3600) -> dict[str, Any]:
    """``flask --app backend transparency verify`` with the instance's environment; wall, CPU, peak RSS."""
    out_path, err_path = inst.tmp / "verify.out", inst.tmp / "verify.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(infra.VENV_BIN / "flask"), "--app", "backend", "transparency", "verify"],
            cwd=infra.ROOT,
            env=inst.env(),
            stdout=out,
            stderr=err,
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace").strip()
    stderr = err_path.read_text(errors="replace").strip()
    return {
        "seconds": round(wall, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
        "exit_code": proc.returncode,
        "stdout": stdout[-500:],
        "stderr_tail": stderr[-1500:] if proc.returncode else "",
        "ok": proc.returncode == 0 and stdout.startswith("ok"),
    }


# -- (e) withdrawal latency ---------------------------------------------------------------------------
class ElasticPoller:
    """Asks Elasticsearch directly (not through the app) whether documents are searchable."""

    def __init__(self, url: str, alias: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 9200
        self.alias = alias
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def count(self, ids: list[str]) -> int:
        body = json.dumps({"query": {"ids": {"values": ids}}})
        try:
            self.conn.request("POST", f"/{self.alias}/_count", body, {"Content-Type": "application/json"})
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            raise
        if response.status == 404:
            return 0
        if response.status != 200:
            raise RuntimeError(f"Elasticsearch _count: HTTP {response.status}: {data[:300]!r}")
        return int(json.loads(data)["count"])

    def close(self) -> None:
        self.conn.close()


def withdrawal_latency(port: int, inst: infra.Instance, es_url: str, count: int, seed: int) -> dict[str, Any]:
    from search_index.mappings import DISCLOSURES

    agency = dataset.publishers(dataset.make_agencies())[0]
    infra.flask_cli(inst, "agency", "create", "--code", agency.code, "--name", agency.name, "--region", agency.region)
    credentials = json.loads(infra.flask_cli(inst, "agency-client", "create", "--agency", agency.code))
    client = infra.HttpClient(port)
    headers = infra.bearer_token(client, credentials)
    corpus = dataset.Corpus(seed)
    items = [corpus.decision(agency, f"wd-{infra.RUN_TAG}-{i:03d}") for i in range(count)]
    published = client.json("POST", "/api/v1/publish/disclosures:bulk", {"items": items}, headers)
    made = [r for r in published["results"] if r["result"] == "created"]
    if len(made) != count:
        raise RuntimeError(f"bulk publish created {len(made)} of {count}: {published['results'][:3]}")
    ids = {r["external_id"]: r["id"] for r in made}
    poller = ElasticPoller(es_url, f"{inst.prefix.lower()}-{DISCLOSURES.name}")
    started = time.perf_counter()
    while poller.count(list(ids.values())) < count:
        if time.perf_counter() - started > 120:
            raise RuntimeError("the published items did not all become searchable within 120 s")
        time.sleep(0.05)
    searchable_after = time.perf_counter() - started
    reporting.log(f"{count} items searchable in Elasticsearch {searchable_after:.2f}s after the bulk response")
    body = json.dumps(
        {
            "reason": "revoked",
            "explanation": "该处罚决定已被泉州市人民政府行政复议决定撤销。",
            "document_no": "泉政复决〔2025〕12号",
        },
        ensure_ascii=False,
    ).encode()
    delays, calls, timeouts, polls = [], [], 0, []
    for external_id, doc_id in ids.items():
        status, data, elapsed = client.request(
            "POST", f"/api/v1/publish/disclosures/{external_id}/withdraw", body, headers
        )
        answered = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"withdraw {external_id}: HTTP {status}: {data[:300]!r}")
        calls.append(elapsed)
        n = 0
        while True:
            n += 1
            asked = time.perf_counter()
            if poller.count([doc_id]) == 0:
                delays.append(time.perf_counter() - answered)
                break
            if asked - answered > 10:
                timeouts += 1
                break
            time.sleep(max(0.0, 0.01 - (time.perf_counter() - asked)))
        polls.append(n)
    poller.close()
    client.close()
    result = {
        "items": count,
        "searchable_after_publish_s": round(searchable_after, 2),
        "gone_after_response_ms": reporting.summary_ms(delays),
        "withdraw_call_ms": reporting.summary_ms(calls),
        "polls_per_item_max": max(polls),
        "timeouts_over_10s": timeouts,
    }
    reporting.log(f"withdrawal: gone from Elasticsearch after {result['gone_after_response_ms']}")
    return result


# -- profiles -----------------------------------------------------------------------------------------
def profile_pieces(app, events: Events, size: int, batch: int) -> dict[str, Any]:
    """cProfile of one growth transaction and of 500 in-process inclusion proofs; the audit's per-entry
    work timed piece by piece over 20,000 stored entries."""
    import cProfile
    import pstats

    from sqlalchemy import select

    from backend.extensions import db
    from backend.transparency import merkle, services
    from backend.transparency.models import LogEntry

    out: dict[str, Any] = {}
    with app.app_context():
        # SQLite scans the node table for every proof (see the plan): fewer calls keep this bounded there.
        calls = 500 if db.engine.dialect.name == "postgresql" else 40
    out["proof_calls"] = calls
    profiler = cProfile.Profile()
    chunk = events.make(batch)
    profiler.enable()
    append_transaction(app, chunk)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(18)
    out["append"] = text.getvalue()
    size += batch

    rng = random.Random(1)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        with app.app_context():
            services.inclusion(rng.randrange(size), size)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(18)
    out["inclusion"] = text.getvalue()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        with app.app_context():
            services.consistency(rng.randrange(1, size), size)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(18)
    out["consistency"] = text.getvalue()

    # One proof's parts, each call in its own app context (as a request has).
    class Recorder:
        def __init__(self) -> None:
            self.keys: set = set()

        def nodes(self, keys):
            self.keys |= set(keys)
            return {key: bytes(32) for key in keys}

    samples = []
    for _ in range(calls):
        index = rng.randrange(size)
        recorder = Recorder()
        merkle.inclusion_proof(index, size, recorder)
        samples.append((index, recorder.keys))
    first_samples = []
    for _ in range(calls):
        first = rng.randrange(1, size)
        recorder = Recorder()
        merkle.consistency_proof(first, size, recorder)
        first_samples.append(recorder.keys)

    def timed(fn) -> float:
        seconds = []
        for sample in range(calls):
            with app.app_context():
                started = time.perf_counter()
                fn(sample)
                seconds.append(time.perf_counter() - started)
                db.session.rollback()
        return reporting.summary_ms(seconds)

    out["proof_parts_ms"] = {
        "services.tree_size() (head query; a proof at a named size has none)": timed(lambda i: services.tree_size()),
        "SizedNodes(size).nodes(inclusion keys) (nodes + size check)": timed(
            lambda i: services.SizedNodes(size).nodes(samples[i][1])
        ),
        "DatabaseNodes().nodes(inclusion keys)": timed(lambda i: services.DatabaseNodes().nodes(samples[i][1])),
        "DatabaseNodes().nodes(consistency keys)": timed(lambda i: services.DatabaseNodes().nodes(first_samples[i])),
        "merkle.inclusion_proof, nodes in memory": timed(
            lambda i: merkle.inclusion_proof(samples[i][0], size, Recorder())
        ),
        "services.inclusion (whole)": timed(lambda i: services.inclusion(samples[i][0], size)),
    }

    # The audit, piece by piece, on 20,000 entries.
    n = 20_000
    with app.app_context():
        started = time.perf_counter()
        rows = list(
            db.session.scalars(select(LogEntry).order_by(LogEntry.index).limit(n).execution_options(yield_per=5000))
        )
        load = time.perf_counter() - started
        started = time.perf_counter()
        encoded = [services.entry_bytes(e) for e in rows]
        entry_bytes = time.perf_counter() - started
        started = time.perf_counter()
        leaves = [merkle.leaf_hash(b) for b in encoded]
        hashing = time.perf_counter() - started
        started = time.perf_counter()
        frontier: dict = {}
        for index, leaf in enumerate(leaves):
            frontier = services._extend(frontier, index, leaf)
        extend = time.perf_counter() - started
        started = time.perf_counter()
        stack_frontier: dict = {}
        # For comparison: the same nodes from one appended_nodes call over the whole run.
        merkle.appended_nodes(0, stack_frontier, leaves)
        one_call = time.perf_counter() - started
        db.session.rollback()
    out["audit_pieces_us_per_entry"] = {
        "load LogEntry rows (ORM, yield_per)": round(load / n * 1e6, 2),
        "entry_bytes (canonical JSON)": round(entry_bytes / n * 1e6, 2),
        "leaf_hash (SHA-256)": round(hashing / n * 1e6, 2),
        "_extend (frontier dict per entry)": round(extend / n * 1e6, 2),
        "  vs merkle.appended_nodes over the run": round(one_call / n * 1e6, 2),
    }
    return out


def explain_nodes_query(app, size: int) -> dict[str, str]:
    """The database's plan for each proof's one node query, as the service sends it (PostgreSQL: EXPLAIN
    ANALYZE of the statement with the node keys as arrays, condensed; SQLite: the OR of key pairs)."""
    from sqlalchemy import and_, or_, select, text

    from backend.extensions import db
    from backend.transparency import merkle, services
    from backend.transparency.models import MerkleNode

    class Recorder:
        """A NodeReader that notes the keys a proof asks for (and answers dummy hashes)."""

        def __init__(self) -> None:
            self.keys: set = set()

        def nodes(self, keys):
            self.keys |= set(keys)
            return {key: bytes(32) for key in keys}

    plans = {}
    for kind in ("inclusion", "consistency"):
        recorder = Recorder()
        if kind == "inclusion":
            merkle.inclusion_proof(size // 3, size, recorder)
        else:
            merkle.consistency_proof(size // 3, size, recorder)
        keys = sorted(recorder.keys)
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                statement = text("EXPLAIN (ANALYZE, BUFFERS) " + services._PG_NODES_AND_SIZE.text)
                rows = db.session.execute(statement, services._key_arrays(keys)).all()
            else:
                wanted = or_(*(and_(MerkleNode.level == level, MerkleNode.idx == idx) for level, idx in keys))
                query = select(MerkleNode.level, MerkleNode.idx, MerkleNode.hash).where(wanted)
                compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
                rows = db.session.execute(text("EXPLAIN QUERY PLAN " + str(compiled))).all()
            db.session.rollback()
        lines = [" | ".join(str(c) for c in row) for row in rows]
        if len(lines) > 12:
            scans = sum("Index Scan" in line for line in lines)
            lines = [*lines[:8], f"   ... ({scans} index scans in all) ...", *lines[-2:]]
        plans[kind] = f"{len(keys)} nodes asked for\n" + "\n".join(lines)
    return plans


# -- main ---------------------------------------------------------------------------------------------
def main() -> None:
    args = parse_args()
    infra.exit_on_sigterm()
    es_url = args.elasticsearch_url
    result: dict[str, Any] = {
        "bench": "transparency",
        "targets": {
            "append_entries_per_s": TARGET_APPEND_PER_S,
            "proof_p95_ms_at_1e6": TARGET_PROOF_P95_MS,
            "withdrawal_s": TARGET_WITHDRAWAL_S,
        },
        **reporting.environment(),
    }
    result["args"] = {k: v for k, v in vars(args).items() if k not in ("tx_runs", "tx_after_runs")}
    bench_started = time.perf_counter()
    events = Events(args.seed)
    with infra.instance("transparency", elasticsearch_url=es_url) as inst:
        result["database"] = infra.database_kind(inst.database_url)
        reporting.log(f"database {result['database']}; migrating")
        infra.flask_cli(inst, "db", "upgrade")
        if es_url:
            infra.flask_cli(inst, "search", "init")
        app = infra.make_app(inst, ELASTICSEARCH_URL=None)
        try:
            reporting.log("(a) append throughput")
            result["append"] = append_runs(
                app, events, args.tx_runs, args.tx_threads, args.tx_processes, args.tx_time_limit, "start"
            )
            reporting.log(f"(b) growing the log to {args.entries:,} entries in transactions of {args.batch}")
            result["growth"] = grow(app, events, args.entries, args.batch, args.grow_time_limit)
            # Proofs are asked at this size (tree_size / second = size), also after the log grows further.
            size = result["growth"]["size"]
            result["tables"] = table_sizes(inst.database_url)
            reporting.log(f"tables: {result['tables']}")
            result["nodes_query_plan"] = explain_nodes_query(app, size)
            reporting.log(f"(c) {args.proofs} inclusion and {args.proofs} consistency proofs in-process")
            indexes, firsts = proof_requests(random.Random(args.seed), size, args.proofs)
            result["proofs_in_process"] = proofs_in_process(app, size, indexes, firsts, args.proof_time_limit)
            if args.tx_after_runs:
                reporting.log(f"(a) append throughput again at {size:,} entries")
                result["append"] += append_runs(
                    app, events, args.tx_after_runs, args.tx_threads, args.tx_processes, args.tx_time_limit, f"{size:,}"
                )
            reporting.log("(d) flask --app backend transparency verify")
            result["verify"] = run_verify_cli(inst)
            reporting.log(f"verify: {result['verify']['seconds']}s, {result['verify']['stdout'][:120]}")
            server_env = {"SEARCH_INDEXER_THREAD": "1" if es_url else "0"}
            with infra.Gunicorn(inst, workers=args.workers, threads=args.threads, **server_env) as server:
                result["gunicorn"] = {
                    "workers": server.expected_workers,
                    "threads": int(server.env.get("WEB_THREADS") or 4),
                    "indexer_thread": server_env["SEARCH_INDEXER_THREAD"] == "1",
                }
                reporting.log("(c) the same proofs through HTTP")
                result["proofs_http"] = proofs_http(server.port, size, indexes, firsts, app, args.proof_time_limit)
                if es_url:
                    reporting.log(f"(e) withdrawal latency, {args.withdrawals} items")
                    result["withdrawal"] = withdrawal_latency(server.port, inst, es_url, args.withdrawals, args.seed)
                else:
                    reporting.log("(e) skipped: no ELASTICSEARCH_URL / --elasticsearch-url")
            if args.profile:
                reporting.log("profiling an append, 500 inclusion proofs and the audit's pieces")
                result["profile"] = profile_pieces(app, events, log_size(app), args.batch)
            result["final_size"] = log_size(app)
            result["append_verdict"] = append_verdict(result["append"])
        finally:
            infra.dispose(app)
    result["bench_seconds"] = round(time.perf_counter() - bench_started, 1)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["bench_peak_rss_mib"] = round(usage.ru_maxrss / 1024)
    print_report(result)
    result.pop("profile", None)
    reporting.emit_json(result)


def _pass(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_report(result: dict[str, Any]) -> None:
    db_kind = result["database"]
    if "profile" in result:
        profile = result["profile"]
        print("\ncProfile of one growth transaction (append + commit), by own time:")
        print("\n".join(line for line in profile["append"].splitlines()[:32] if line.strip()))
        for kind in ("inclusion", "consistency"):
            print(f"\ncProfile of {profile['proof_calls']} in-process {kind} proofs, by own time:")
            print("\n".join(line for line in profile[kind].splitlines()[:32] if line.strip()))
        reporting.print_table(
            f"One in-process proof, part by part (ms, {profile['proof_calls']} calls each, one app context per call, "
            "no profiler)",
            ["part", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            [[name, ms["p50"], ms["p95"], ms["p99"], ms["max"]] for name, ms in profile["proof_parts_ms"].items()],
        )
        reporting.print_table(
            "The audit's per-entry work, piece by piece (µs per entry, 20,000 entries, no profiler)",
            ["piece", "µs/entry"],
            list(profile["audit_pieces_us_per_entry"].items()),
        )
    for kind, plan in result["nodes_query_plan"].items():
        print(f"\nPlan of the {kind} proof's node query at size {result['growth']['size']:,} ({db_kind}):")
        print(plan)

    rows = []
    for run in result["append"]:
        ms = run["transaction_ms"]
        rows.append(
            [
                run["at"],
                run.get("what", "append"),
                run["events_per_transaction"],
                run["concurrency"],
                run["transactions"],
                run["entries"],
                run["seconds"],
                run["entries_per_s"],
                run["transactions_per_s"],
                ms.get("p50", float("nan")),
                ms.get("p95", float("nan")),
                ms.get("max", float("nan")),
                run["error_count"],
                _pass(run["entries_per_s"] >= TARGET_APPEND_PER_S) if run.get("what", "append") == "append" else "-",
            ]
        )
    headers = ["log size", "what", "events/tx", "concurrency", "transactions", "entries", "s", "entries/s", "tx/s"]
    headers += ["tx p50 ms", "tx p95 ms", "tx max ms", "errors", ">=2000/s"]
    reporting.print_table(
        f"(a) append through services.append, one app context and commit per transaction ({db_kind}); 'floor': the"
        " smallest write transaction (one INSERT and commit) at the same concurrency",
        headers,
        rows,
    )
    for run in result["append"]:
        for error in run["errors"]:
            print(f"    {run['at']}, {run['events_per_transaction']}/tx, {run['concurrency']}: {error}")
    g = result["growth"]
    t = result["tables"]
    print(
        f"\n(b) growth {g['start_size']:,} -> {g['size']:,} entries in transactions of {g['batch']:,}: "
        f"{g['seconds']} s = {g['entries_per_s']:,.0f} entries/s ({g['entries_per_s_in_append']:,.0f}/s inside "
        f"append+commit; one transaction p50 {g['batch_ms'].get('p50')} ms, p95 {g['batch_ms'].get('p95')} ms, max "
        f"{g['batch_ms'].get('max')} ms); by tenth of the growth: {g['entries_per_s_by_tenth']}"
    )
    print(
        f"    tables: {t['transparency_entries']:,} entries, {t['transparency_nodes']:,} nodes, "
        f"{t['transparency_checkpoints']} signed checkpoints"
        + (f", database {t['database_bytes'] / 2**20:,.0f} MiB" if "database_bytes" in t else "")
    )
    size = g["size"]
    rows = []
    for way, key in (("in-process", "proofs_in_process"), ("HTTP", "proofs_http")):
        for kind in ("inclusion", "consistency"):
            figures = result.get(key, {}).get(kind)
            if not figures:
                continue
            ms = figures["ms"]
            checked = figures.get("checked") or {}
            rows.append(
                [
                    kind,
                    way,
                    ms["n"],
                    ms["p50"],
                    ms["p95"],
                    ms["p99"],
                    ms["max"],
                    f"{checked.get('valid', 0)}/{checked.get('checked', 0)}",
                    _pass(ms["p95"] <= TARGET_PROOF_P95_MS),
                ]
            )
    reporting.print_table(
        f"(c) proofs at tree size {size:,} ({db_kind})",
        ["proof", "via", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "verified", "p95<=5ms"],
        rows,
    )
    v = result["verify"]
    print(
        f"\n(d) flask --app backend transparency verify on {size:,} entries: {v['seconds']} s wall, "
        f"{v['cpu_seconds']} s CPU, peak RSS {v['peak_rss_mib']} MiB, exit {v['exit_code']}: {v['stdout'][:160]}"
        + (f"\n    stderr: {v['stderr_tail']}" if v["stderr_tail"] else "")
    )
    w = result.get("withdrawal")
    if w:
        gone = w["gone_after_response_ms"]
        call = w["withdraw_call_ms"]
        reporting.print_table(
            f"(e) withdrawal: from the withdraw response until Elasticsearch no longer finds the item "
            f"({w['items']} items, polled every 10 ms, indexer thread on)",
            ["measure", "n", "p50 ms", "p95 ms", "max ms", "target"],
            [
                [
                    "gone from Elasticsearch",
                    gone["n"],
                    gone["p50"],
                    gone["p95"],
                    gone["max"],
                    _pass(gone["max"] <= TARGET_WITHDRAWAL_S * 1000 and not w["timeouts_over_10s"]),
                ],
                ["withdraw API call", call["n"], call["p50"], call["p95"], call["max"], "-"],
            ],
        )
        print(f"    (the {w['items']} items were searchable {w['searchable_after_publish_s']} s after publishing)")
    else:
        print("\n(e) withdrawal latency: skipped (no Elasticsearch)")
    print(f"\nAppend target (>= {TARGET_APPEND_PER_S:,} entries/s), by the way the system appends:")
    for line in result["append_verdict"]:
        print(f"    {line}")
    print(f"bench took {result['bench_seconds']} s; log size at the end {result['final_size']:,}")


if __name__ == "__main__":
    main()

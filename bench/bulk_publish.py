"""Bulk publishing through the API into the database. Target: >= 1,000 items/s.

What it measures: items per second created by ``POST /api/v1/publish/disclosures:bulk`` (500 items a
call, realistic distinct decisions, about 30% of them natural persons whose ID number and phone are
in the text, so the privacy gate masks them), first from one client calling sequentially, then from
N clients calling at the same time (each its own credential and its own external ids). For each
phase: items/s over the wall time of the phase, p50/p95/max of one bulk call, and a check that every
response reported the expected ``created`` count (errors are printed if not). At the end the
database must hold exactly the items published.

The instance is isolated and set up the way an operator does it: a temporary INSTANCE_PATH; a fresh
PostgreSQL database on the server in DATABASE_URL when that variable is set (dropped at the end),
else a SQLite file in the temporary folder; the embedded search file in the temporary folder;
SEARCH_INDEXER_THREAD=0 (this measures the ingest into the database: the search index catches up
from the outbox separately, see es_catchup.py); SECRET_KEY set; DEMO_DATA=0. ``flask --app backend
db upgrade`` and ``search init`` migrate it (as ``make run`` does), ``flask --app backend agency
create`` and ``agency-client create`` make the agency and its clients, and gunicorn is started
exactly as ``make run`` starts it (``.venv/bin/gunicorn -c deploy/gunicorn.conf.py``; PORT a free
port, ACCESS_LOG="" to silence access logs; WEB_WORKERS/WEB_THREADS as by default unless given).

``--profile`` afterwards runs one more bulk of the same size in-process through
``services.bulk_upsert`` under cProfile, against the same database, and prints where the time goes.

Run (the database is SQLite unless DATABASE_URL is set):

    .venv/bin/python bench/bulk_publish.py
    DATABASE_URL=postgresql+psycopg://sanxiang:sanxiang@127.0.0.1:55432/sanxiang \\
        .venv/bin/python bench/bulk_publish.py --calls 20 --batch 500 --clients 2 --profile

Progress goes to stderr; stdout gets the tables and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from typing import Any

import dataset
import infra
import reporting

WARM_CALLS, WARM_ITEMS = 8, 20  # warm-up bulk calls, not counted


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="bulk calls per phase (default 20)")
    parser.add_argument("--batch", type=int, default=500, help="items per bulk call, at most 500 (default 500)")
    parser.add_argument("--clients", type=int, default=2, help="clients of the concurrent phase; 0 skips it")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: as make run, one per core)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: as make run, 4)")
    parser.add_argument("--person-share", type=float, default=0.3, help="share of natural-person parties")
    parser.add_argument("--seed", type=int, default=20251)
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process bulk_upsert at the end")
    args = parser.parse_args()
    if not 1 <= args.batch <= 500:
        parser.error("--batch must be 1..500 (the API's limit)")
    return args


def make_calls(corpus: dataset.Corpus, agency: dataset.Agency, prefix: str, calls: int, batch: int, share: float):
    """Request bodies, encoded once before any timing."""
    bodies = []
    for call in range(calls):
        items = [corpus.decision(agency, f"{prefix}-{call:04d}-{i:03d}", person_share=share) for i in range(batch)]
        bodies.append(json.dumps({"items": items}, ensure_ascii=False).encode())
    return bodies


def post_bulk(client: infra.HttpClient, headers: dict[str, str], body: bytes, expected: int) -> dict[str, Any]:
    status, data, elapsed = client.request("POST", "/api/v1/publish/disclosures:bulk", body, headers)
    record: dict[str, Any] = {"seconds": elapsed, "status": status, "created": 0, "error": None}
    try:
        payload = json.loads(data)
    except ValueError:
        payload = None
    if status != 200 or not isinstance(payload, dict):
        record["error"] = f"HTTP {status}: {data[:300]!r}"
        return record
    record["created"] = payload.get("created", 0)
    if record["created"] != expected:
        problems = [r for r in payload.get("results", []) if r.get("result") != "created"][:3]
        record["error"] = (
            f"created {record['created']} of {expected} (updated {payload.get('updated')}, unchanged "
            f"{payload.get('unchanged')}, invalid {payload.get('invalid')}); first: {problems}"
        )
    return record


class LockSampler:
    """PostgreSQL only: samples pg_stat_activity of the bench database every 20 ms during a phase, to
    show how often a request's transaction was waiting on a lock held by another one."""

    QUERY = (
        "SELECT count(*) FILTER (WHERE xact_start IS NOT NULL), "
        "count(*) FILTER (WHERE wait_event_type = 'Lock'), "
        "string_agg(left(regexp_replace(query, '\\s+', ' ', 'g'), 70), ' | ') FILTER (WHERE wait_event_type = 'Lock') "
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.samples: list[tuple[int, int]] = []
        self.blocked: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LockSampler:
        if self.database_url.startswith("postgresql"):
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url, poolclass=None)
        try:
            with engine.connect() as conn:
                while not self._stop.is_set():
                    open_, waiting, queries = conn.execute(text(self.QUERY)).one()
                    conn.rollback()
                    self.samples.append((open_, waiting))
                    if queries:
                        self.blocked.update(queries.split(" | "))
                    self._stop.wait(0.02)
        finally:
            engine.dispose()

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def summary(self) -> dict[str, Any] | None:
        busy = [(a, w) for a, w in self.samples if a]
        if not busy:
            return None
        return {
            "samples_with_a_transaction_open": len(busy),
            "share_with_a_lock_wait": round(sum(1 for _, w in busy if w) / len(busy), 3),
            "mean_open_transactions": round(sum(a for a, _ in busy) / len(busy), 2),
            "blocked_statements": dict(self.blocked.most_common(3)),
        }


def run_phase(
    name: str, port: int, tokens: list[dict[str, str]], work: list[list[bytes]], batch: int, database_url: str
) -> dict:
    """Each client (a thread with its own keep-alive connection and token) posts its bodies in order;
    all start together; items/s is over the wall time from the start to the last response."""
    records: list[list[dict[str, Any]]] = [[] for _ in work]
    barrier = threading.Barrier(len(work) + 1)

    def client_loop(k: int) -> None:
        client = infra.HttpClient(port)
        try:
            barrier.wait()
            for body in work[k]:
                try:
                    records[k].append(post_bulk(client, tokens[k], body, batch))
                except Exception as exc:  # a dropped connection is a result too
                    records[k].append({"seconds": 0.0, "status": None, "created": 0, "error": repr(exc)})
        finally:
            client.close()

    threads = [threading.Thread(target=client_loop, args=(k,), daemon=True) for k in range(len(work))]
    for thread in threads:
        thread.start()
    with LockSampler(database_url) as sampler:
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    flat = [r for per_client in records for r in per_client]
    created = sum(r["created"] for r in flat)
    errors = [r["error"] for r in flat if r["error"]]
    latencies = [r["seconds"] for r in flat if r["status"] == 200]
    result = {
        "phase": name,
        "clients": len(work),
        "calls": len(flat),
        "items_expected": sum(len(w) for w in work) * batch,
        "items_created": created,
        "wall_s": round(wall, 3),
        "items_per_s": round(created / wall, 1) if wall else 0.0,
        "call_ms": reporting.summary_ms(latencies),
        "errors": errors,
        "postgresql_activity": sampler.summary(),
    }
    reporting.log(f"{name}: {created} items in {wall:.1f}s = {result['items_per_s']:.0f} items/s")
    for error in errors[:5]:
        reporting.log(f"  error: {error}")
    return result


def count_rows(database_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(database_url)
    try:
        existing = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            return {
                table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("disclosures", "disclosure_versions", "search_outbox", "transparency_entries")
                if table in existing
            }
    finally:
        engine.dispose()


def profile_in_process(inst: infra.Instance, agency: dataset.Agency, corpus: dataset.Corpus, batch: int) -> dict:
    """One bulk_upsert of ``batch`` new items under cProfile; the top functions go to stdout."""
    import cProfile
    import io
    import pstats

    app = infra.make_app(inst)
    try:
        items = [corpus.decision(agency, f"profile-{i:04d}") for i in range(batch)]
        # One unprofiled bulk first so statement compilation and imports are not counted.
        infra.bulk_load(app, agency.code, [corpus.decision(agency, f"profile-warm-{i:03d}") for i in range(50)])
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        infra.bulk_load(app, agency.code, items, chunk=batch)
        profiler.disable()
        seconds = time.perf_counter() - started
    finally:
        infra.dispose(app)
    stats = pstats.Stats(profiler)
    wanted = {  # function -> the file it must come from (functions missing from the code are skipped)
        "bulk_upsert": "disclosures/publishing.py",
        "load": "marshmallow/schema.py",
        "_apply": "disclosures/publishing.py",
        "_gate": "disclosures/publishing.py",
        "_schedule": "disclosures/publishing.py",
        "_log": "disclosures/publishing.py",
        "_insert_drafts": "disclosures/publishing.py",
        "commit": "orm/session.py",
        "_record_changes": "search/indexing.py",
    }
    split = {}
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore
        if function in wanted and filename.endswith(wanted[function]) and function not in split:
            split[function] = round(cumulative * 1000, 1)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    print(f"\ncProfile of one in-process bulk_upsert of {batch} items ({seconds * 1000:.0f} ms under the profiler)")
    print("\n".join(out.getvalue().splitlines()[:60]))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print("\n".join(out.getvalue().splitlines()[:40]))
    return {"items": batch, "profiled_ms": round(seconds * 1000, 1), "cumulative_ms": split}


def main() -> None:
    args = parse_args()
    infra.exit_on_sigterm()
    result: dict[str, Any] = {"bench": "bulk_publish", "target_items_per_s": 1000, **reporting.environment()}
    result["args"] = vars(args)
    agency = dataset.publishers(dataset.make_agencies())[0]  # 泉州市市场监督管理局: food, drugs, market
    corpus = dataset.Corpus(args.seed)
    bench_started = time.perf_counter()
    with infra.instance("bulk") as inst:  # ELASTICSEARCH_URL stays unset: the ingest is what is measured
        result["database"] = infra.database_kind(inst.database_url)
        reporting.log(f"database {result['database']}; migrating")
        infra.flask_cli(inst, "db", "upgrade")
        infra.flask_cli(inst, "search", "init")
        infra.flask_cli(
            inst, "agency", "create", "--code", agency.code, "--name", agency.name, "--region", agency.region
        )
        credentials = [
            json.loads(infra.flask_cli(inst, "agency-client", "create", "--agency", agency.code, "--label", f"b{k}"))
            for k in range(max(1, args.clients))
        ]
        reporting.log("generating request bodies")
        sequential = make_calls(corpus, agency, "seq", args.calls, args.batch, args.person_share)
        concurrent = []
        if args.clients:
            per_client = [args.calls // args.clients + (k < args.calls % args.clients) for k in range(args.clients)]
            concurrent = [
                make_calls(corpus, agency, f"c{k}", n, args.batch, args.person_share) for k, n in enumerate(per_client)
            ]
        warm = [make_calls(corpus, agency, f"warm{k}", 1, WARM_ITEMS, args.person_share)[0] for k in range(WARM_CALLS)]
        result["request_body_kib"] = round(sum(map(len, sequential)) / len(sequential) / 1024, 1)

        with infra.Gunicorn(inst, workers=args.workers, threads=args.threads) as server:
            result["gunicorn"] = {
                "workers": server.expected_workers,
                "threads": int(server.env.get("WEB_THREADS") or 4),
            }
            client = infra.HttpClient(server.port)
            tokens = [infra.bearer_token(client, c) for c in credentials]
            # Warm-up (not counted): every worker compiles its statements on its first bulk.
            for body in warm:
                record = post_bulk(client, tokens[0], body, WARM_ITEMS)
                if record["error"]:
                    raise RuntimeError(f"warm-up failed: {record['error']}")
            client.close()
            url = inst.database_url
            phases = [run_phase("sequential, 1 client", server.port, tokens[:1], [sequential], args.batch, url)]
            if concurrent:
                name = f"concurrent, {args.clients} clients"
                phases.append(run_phase(name, server.port, tokens, concurrent, args.batch, url))
        result["phases"] = phases
        rows = count_rows(inst.database_url)
        expected_rows = WARM_CALLS * WARM_ITEMS + sum(p["items_expected"] for p in phases)
        result["rows"] = rows
        result["rows_ok"] = rows["disclosures"] == expected_rows
        if args.profile:
            result["profile"] = profile_in_process(inst, agency, corpus, args.batch)
    result["bench_seconds"] = round(time.perf_counter() - bench_started, 1)

    print_report(result, expected_rows)
    reporting.emit_json(result)


def print_report(result: dict[str, Any], expected_rows: int) -> None:
    rows = []
    for phase in result["phases"]:
        ms = phase["call_ms"]
        rows.append(
            [
                phase["phase"],
                phase["calls"],
                phase["items_created"],
                phase["wall_s"],
                phase["items_per_s"],
                ms.get("p50", float("nan")),
                ms.get("p95", float("nan")),
                ms.get("max", float("nan")),
                "PASS" if phase["items_per_s"] >= result["target_items_per_s"] else "below",
                len(phase["errors"]),
            ]
        )
    gunicorn = result["gunicorn"]
    print_title = (
        f"Bulk publish through the API ({result['database']}, gunicorn {gunicorn['workers']} workers x "
        f"{gunicorn['threads']} threads, {result['args']['batch']} items/call, "
        f"{result['request_body_kib']} KiB/call, {result['cpus']} CPUs)"
    )
    reporting.print_table(
        print_title,
        ["phase", "calls", "items", "wall s", "items/s", "p50 ms", "p95 ms", "max ms", ">=1000/s", "errors"],
        rows,
    )
    for phase in result["phases"]:
        for error in phase["errors"][:10]:
            print(f"  {phase['phase']}: {error}")
    for phase in result["phases"]:
        activity = phase.get("postgresql_activity")
        if activity:
            print(
                f"{phase['phase']}: PostgreSQL sampled every 20 ms while a transaction was open: "
                f"{activity['mean_open_transactions']} open on average, one waiting on a lock in "
                f"{activity['share_with_a_lock_wait']:.0%} of the samples"
            )
            for statement, count in activity["blocked_statements"].items():
                print(f"    waiting in {count} samples: {statement}")
    counts = result["rows"]
    state = "ok" if result["rows_ok"] else f"MISMATCH, expected {expected_rows}"
    print(
        f"\ndatabase afterwards: {counts['disclosures']:,} disclosures ({state}), "
        f"{counts['disclosure_versions']:,} versions, {counts['search_outbox']:,} outbox rows waiting for the indexer"
        + (f", {counts['transparency_entries']:,} transparency log entries" if "transparency_entries" in counts else "")
    )
    if "profile" in result:
        print(f"in-process bulk_upsert split (cumulative ms under cProfile): {result['profile']['cumulative_ms']}")
    print(f"bench took {result['bench_seconds']} s")


if __name__ == "__main__":
    main()

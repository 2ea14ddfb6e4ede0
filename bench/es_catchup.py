"""Search catch-up from the outbox. Target: Elasticsearch catch-up >= 3,000 docs/s.

What it measures: how fast ``backend.search.indexing.Indexer(app).drain()`` empties a full outbox
into the search engine: N published decisions (default 20,000) are written to a fresh database
through ``backend.disclosures.publishing.bulk_upsert`` in chunks of 500 (the service behind the bulk
API, so the outbox fills exactly as in production), then the drain is timed to completion into
Elasticsearch (indices ensured first; refreshed afterwards; the index must then hold exactly N
documents). For comparison the same outbox is drained into the embedded engine: after the first
drain the outbox is refilled with one row per item (the rows a rebuild would enqueue) and drained
again into an embedded index. Per engine: docs/s, and how much of the drain the engine was busy
writing: the wall time during which at least one ``write`` call was in progress (timed by wrapping
the engine object's method in this process; the indexer writes to Elasticsearch from two threads
while it reads the next batch, so overlapping calls count once). The rest is time the engine
waited on the database side: leasing, loading rows, building documents, deleting outbox rows.

Everything runs in this process: ``backend.create_app`` on a fresh database (PostgreSQL when
DATABASE_URL is set, else SQLite in a temporary folder) with a unique SEARCH_INDEX_PREFIX; the
indices and the database are dropped at the end. ``--profile`` refills the outbox once more and
prints a cProfile of one extra Elasticsearch drain (the figures in the table are never profiled).

Run (needs Elasticsearch; the database is SQLite unless DATABASE_URL is set):

    ELASTICSEARCH_URL=http://127.0.0.1:59200 \\
    DATABASE_URL=postgresql+psycopg://sanxiang:sanxiang@127.0.0.1:55432/sanxiang \\
        .venv/bin/python bench/es_catchup.py --items 20000

Progress goes to stderr; stdout gets the table and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import threading
import time
from typing import Any

import dataset
import infra
import reporting


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000, help="published decisions to index (default 20000)")
    parser.add_argument("--chunk", type=int, default=500, help="items per bulk_upsert transaction (default 500)")
    parser.add_argument("--batch-size", type=int, default=500, help="Indexer batch size (default 500, the app's)")
    parser.add_argument(
        "--engines",
        default="elasticsearch,embedded",
        help="comma-separated, in order: elasticsearch, embedded (default both)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile the Elasticsearch drain")
    return parser.parse_args()


def load(app, agencies: list[dataset.Agency], items: int, chunk: int, seed: int) -> float:
    """bulk_upsert ``items`` decisions, a chunk per agency in turn; returns seconds."""
    corpus = dataset.Corpus(seed)
    started = time.perf_counter()
    done = 0
    turn = 0
    while done < items:
        agency = agencies[turn % len(agencies)]
        size = min(chunk, items - done)
        bodies = [corpus.decision(agency, f"cu-{done + i:07d}") for i in range(size)]
        infra.bulk_load(app, agency.code, bodies, chunk=chunk)
        done += size
        turn += 1
        if turn % 10 == 0:
            reporting.log(f"loaded {done}/{items}")
    return time.perf_counter() - started


def refill_outbox(app) -> int:
    """One outbox row per published item and per agency, as if every row had just changed."""
    from sqlalchemy import text

    from backend.extensions import db

    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        rows = db.session.execute(
            text(
                "INSERT INTO search_outbox (index_name, doc_id, version, created_at) "
                "SELECT 'disclosures', id, version, :now FROM disclosures WHERE status = 'published'"
            ),
            {"now": now},
        ).rowcount
        rows += db.session.execute(
            text(
                "INSERT INTO search_outbox (index_name, doc_id, version, created_at) "
                "SELECT 'agencies', code, version, :now FROM agencies"
            ),
            {"now": now},
        ).rowcount
        db.session.commit()
    return rows


def outbox_size(app) -> int:
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.search.indexing import SearchOutbox

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SearchOutbox))


def drain(app, engine, batch_size: int, *, profile: bool) -> dict[str, Any]:
    """Time Indexer(app).drain() into ``engine``; the time the engine's write calls were running
    (at least one of them) is measured separately."""
    from backend.extensions import search
    from backend.search.indexing import Indexer
    from search_index.interfaces import SourceState
    from search_index.mappings import DEFINITIONS, DISCLOSURES

    app.extensions["search"] = engine
    with app.app_context():
        search.ensure_indices()
        # New, empty indices with every change still in the outbox: they project this database as of no
        # change yet, so the indexer catches up instead of rebuilding them first.
        database = search.database_source()
        for definition in DEFINITIONS.values():
            engine.record_source(definition, SourceState(database.database, 0))
    write_seconds = [0.0]
    busy = {"calls": 0, "since": 0.0}
    lock = threading.Lock()
    original_write = engine.write

    def timed_write(definition, changes):
        with lock:
            if not busy["calls"]:
                busy["since"] = time.perf_counter()
            busy["calls"] += 1
        try:
            return original_write(definition, changes)
        finally:
            with lock:
                busy["calls"] -= 1
                if not busy["calls"]:
                    write_seconds[0] += time.perf_counter() - busy["since"]

    engine.write = timed_write  # this object only: the application code is untouched
    pending = outbox_size(app)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    try:
        done = Indexer(app, batch_size=batch_size).drain()
    finally:
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
        del engine.write
    engine.refresh(DISCLOSURES)
    count = engine.count(DISCLOSURES)
    result = {
        "engine": engine.name,
        "outbox_rows": pending,
        "drained": done,
        "seconds": round(seconds, 2),
        "engine_write_seconds": round(write_seconds[0], 2),
        "indexed": count,
        "left_in_outbox": outbox_size(app),
    }
    if profiler:
        import io
        import pstats

        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        result["profile"] = out.getvalue()
    return result


def main() -> None:
    args = parse_args()
    infra.exit_on_sigterm()
    es_url = os.environ.get("ELASTICSEARCH_URL")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "elasticsearch" in engines and not es_url:
        sys.exit(
            "es_catchup.py needs Elasticsearch: set ELASTICSEARCH_URL (e.g. http://127.0.0.1:59200; "
            '`eval "$(make -s services)"` starts one), or pass --engines embedded'
        )
    result: dict[str, Any] = {"bench": "es_catchup", "target_docs_per_s": 3000, **reporting.environment()}
    result["args"] = vars(args)
    bench_started = time.perf_counter()
    agencies = dataset.make_agencies()
    with infra.instance("catchup", elasticsearch_url=es_url) as inst:
        result["database"] = infra.database_kind(inst.database_url)
        app = infra.make_app(inst, ELASTICSEARCH_URL=None)
        try:
            infra.migrate_in_process(app)
            infra.create_agencies(app, agencies)
            reporting.log(f"loading {args.items} decisions through bulk_upsert ({result['database']})")
            seconds = load(app, dataset.publishers(agencies), args.items, args.chunk, args.seed)
            result["load"] = {
                "items": args.items,
                "seconds": round(seconds, 1),
                "items_per_s": round(args.items / seconds),
            }
            reporting.log(f"loaded in {seconds:.1f}s; outbox holds {outbox_size(app)} rows")
            from search_index import make_engine

            runs = []
            for position, name in enumerate(engines):
                if position:
                    refill_outbox(app)
                config = dict(app.config, ELASTICSEARCH_URL=es_url if name == "elasticsearch" else None)
                engine = make_engine(config)
                reporting.log(f"draining the outbox into {name}")
                run = drain(app, engine, args.batch_size, profile=False)
                run["docs_per_s"] = round(args.items / run["seconds"]) if run["seconds"] else 0
                run["ok"] = run["indexed"] == args.items and run["left_in_outbox"] == 0
                reporting.log(f"{name}: {run['indexed']} documents in {run['seconds']}s = {run['docs_per_s']} docs/s")
                runs.append(run)
                infra.close_engine(engine)
            result["runs"] = runs
            if args.profile and "elasticsearch" in engines:
                # A separate, extra drain under cProfile: the figures above are never profiled.
                refill_outbox(app)
                engine = make_engine(dict(app.config, ELASTICSEARCH_URL=es_url))
                reporting.log("profiling one more Elasticsearch drain (not part of the figures)")
                profiled = drain(app, engine, args.batch_size, profile=True)
                result["profile"] = {"seconds_under_profiler": profiled["seconds"], "text": profiled["profile"]}
        finally:
            infra.dispose(app)
    result["bench_seconds"] = round(time.perf_counter() - bench_started, 1)
    print_report(result)
    result.pop("profile", None)
    reporting.emit_json(result)


def print_report(result: dict[str, Any]) -> None:
    if "profile" in result:
        seconds = result["profile"]["seconds_under_profiler"]
        print(f"\ncProfile of an extra Elasticsearch drain ({seconds} s under cProfile)")
        print("\n".join(result["profile"]["text"].splitlines()[:70]))
    rows = []
    for run in result["runs"]:
        other = run["seconds"] - run["engine_write_seconds"]
        rows.append(
            [
                run["engine"],
                run["outbox_rows"],
                run["indexed"],
                run["seconds"],
                run["docs_per_s"],
                run["engine_write_seconds"],
                round(other, 2),
                "PASS" if run["docs_per_s"] >= result["target_docs_per_s"] else "below",
                "ok" if run["ok"] else "MISMATCH",
            ]
        )
    load = result["load"]
    reporting.print_table(
        f"Outbox catch-up ({load['items']:,} published decisions, {result['database']}, batch "
        f"{result['args']['batch_size']}, {result['cpus']} CPUs)",
        ["engine", "outbox rows", "indexed", "drain s", "docs/s", "engine busy s", "db side s", ">=3000/s", "count"],
        rows,
    )
    print(
        f"\nload through bulk_upsert (in-process, not part of the target): {load['items']:,} items in "
        f"{load['seconds']} s = {load['items_per_s']:,} items/s"
    )
    print(f"bench took {result['bench_seconds']} s")


if __name__ == "__main__":
    main()

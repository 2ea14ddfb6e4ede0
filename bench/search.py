"""Public search through the API as the items grow. Targets: p95 <= 50 ms on each engine at 100,000 items;
at 1,000,000, Elasticsearch API p95 <= 30 ms (engine p95 <= 20 ms) and embedded API p95 <= 100 ms.

What it measures: ``GET /api/v1/disclosures?...`` (the public search with its four facets) against
N items (default 100,000; ``--items 100000,300000,1000000`` sweeps: it loads up to each size in turn,
rebuilds the indices and measures again, then prints the growth as one table), sequentially from one
client, on the embedded engine and, when
ELASTICSEARCH_URL is set, on Elasticsearch. For each engine it prints the API's p50/p95/p99, the
engine's own time for the same queries (``SearchResult.took_ms`` from calling the engine in this
process with the same SearchQuery the service builds; for Elasticsearch that is the server's
``took``, and the client-side wall time of the call is shown beside it), and the ratio API p50 /
engine p50 (what the API adds: routing, argument parsing, loading the 20 rows from the database,
the agency names of the facets, serialising). The same figures are split by query kind:

- word:     one 2-character word (食品, 处罚, 许可, 环境, 交通, 消防, 药品, 建筑, ...)
- phrase:   one 4-character phrase (行政处罚, 过期食品, 安全生产, ...)
- two:      two terms, each matched as a phrase (食品 处罚, 消防 检查, ...)
- filtered: a word or phrase (or no text) with filters: phase, category, agency, region, date range

sort=date is used in about a quarter of the queries, and pages 1-3. The mix is seeded, so every run
and both engines get the same queries. Matches are counted exactly up to SearchQuery.exact_up_to (10,000)
and estimated above it: for every query the engine is asked again with ``exact_up_to=None``, and the bench
counts the queries whose total (or facets) it said were exact but differ from the exact count (must be 0),
and how far the estimates are from it. For the embedded engine the time inside each SQL statement
is collected as well (by wrapping this process's own connection object; the application code is
untouched), which shows where its time goes per kind.

Steps: a fresh database (PostgreSQL when DATABASE_URL is set, else SQLite); N realistic items
(mostly post-phase decisions across the six categories, 40 agencies in 3 cities and 7 districts,
some pre- and during-phase items) published in-process through ``services.bulk_upsert`` in chunks
of 500 (the real path), by ``--load-workers`` processes on PostgreSQL; each engine's index built
with ``backend.search.indexing.reindex`` (timed); then per engine gunicorn is started as ``make run``
does (engine chosen by ELASTICSEARCH_URL being set or not; same SEARCH_INDEX_PREFIX and
SEARCH_EMBEDDED_PATH; SEARCH_INDEXER_THREAD=0 so nothing else runs meanwhile), warmed up, and the
timed queries run. Indices, database, temporary folder and gunicorn are cleaned up at the end.
What runs after a bulk load in production is done before measuring, not during it: PostgreSQL's ``VACUUM
(ANALYZE)`` of every table (autovacuum's work), and Elasticsearch's segment merges after a rebuild (the bench
flushes the index and waits until none has run for 20 seconds). The warm-up (``--warmup``, 300 queries of
another seed) brings the index and the rows into the system's page cache, as a server in use has them;
Elasticsearch's own caches are then cleared, and again before the in-process run, so no timed query is
answered from what an earlier one asked. A query asked again within a run may come from the shard request
cache, which nothing empties while the bench runs (it writes nothing then); the kind "first asked" holds each
query's first asking alone.

Run:

    DATABASE_URL=postgresql+psycopg://sanxiang:sanxiang@127.0.0.1:55432/sanxiang \\
    ELASTICSEARCH_URL=http://127.0.0.1:59200 \\
        .venv/bin/python bench/search.py --items 100000 --queries 500

Progress goes to stderr; stdout gets the tables and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any
from urllib.parse import urlencode

import dataset
import infra
import reporting

WORDS = ("食品", "处罚", "许可", "环境", "交通", "消防", "药品", "建筑")
MORE_WORDS = ("安全", "经营", "运输", "施工", "广告", "价格", "排放", "医疗", "旅游", "油烟", "噪声", "罚款", "整改")
PHRASES = (
    "行政处罚",
    "过期食品",
    "安全生产",
    "食品安全",
    "环境保护",
    "道路运输",
    "建筑施工",
    "消防安全",
    "药品经营",
    "超标排放",
    "疏散通道",
    "特种设备",
    "非法营运",
    "施工许可",
    "危险废物",
    "医疗废物",
    "虚假广告",
    "明码标价",
    "占道经营",
    "扬尘污染",
)
TWO_TERMS = (
    "食品 处罚",
    "消防 检查",
    "环境 排放",
    "药品 处方",
    "交通 运输",
    "建筑 施工",
    "行政处罚 食品",
    "许可 道路运输",
    "罚款 过期",
    "安全生产 整改",
)
KINDS = ("word", "phrase", "two", "filtered")
KIND_WEIGHTS = (30, 25, 15, 30)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--items",
        type=lambda text: sorted(int(n) for n in text.split(",")),
        default=[100_000],
        help="items in the database (default 100000); several, comma-separated, sweep the sizes",
    )
    parser.add_argument("--queries", type=int, default=500, help="timed queries per engine (default 500)")
    parser.add_argument(
        "--warmup", type=int, default=300, help="warm-up queries per engine, other ones than those timed (default 300)"
    )
    parser.add_argument("--pre-share", type=float, default=0.06, help="share of pre/during-phase items")
    parser.add_argument("--engines", default="embedded,elasticsearch", help="comma-separated (ES needs its URL)")
    parser.add_argument("--load-workers", type=int, help="loading processes (default 2 on PostgreSQL, 1 on SQLite)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: as make run, one per core)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: as make run, 4)")
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument(
        "--profile-api",
        choices=("embedded", "elasticsearch"),
        help="afterwards, cProfile 100 of the queries through the app in-process (Flask test client) on this engine",
    )
    return parser.parse_args()


# -- loading -----------------------------------------------------------------------------------
AGENCY_WEIGHT = {"市监": 5, "环": 2, "交": 2, "建": 2, "应急": 2, "城管": 2, "文旅": 1, "卫健": 1, "综执": 2}


def plan(agencies: list[dataset.Agency], items: int) -> list[tuple[dataset.Agency, int]]:
    """How many items each agency publishes: market regulators most, culture and health least."""

    def weight(agency: dataset.Agency) -> int:
        return next((w for suffix, w in AGENCY_WEIGHT.items() if agency.abbr.endswith(suffix)), 1)

    total = sum(weight(a) for a in agencies)
    counts = [items * weight(a) // total for a in agencies]
    for i in range(items - sum(counts)):
        counts[i % len(counts)] += 1
    return list(zip(agencies, counts, strict=True))


def load_part(
    inst: infra.Instance, part: list[tuple[dataset.Agency, int]], seed: int, pre_share: float, tag: str
) -> int:
    """One loading process: its agencies' items, generated and published 500 at a time."""
    infra.exit_on_sigterm()
    app = infra.make_app(inst)
    corpus = dataset.Corpus(seed)
    done = 0
    try:
        for agency, count in part:
            for start in range(0, count, 500):
                size = min(500, count - start)
                bodies = [corpus.item(agency, f"{tag}-{start + i:06d}", pre_share) for i in range(size)]
                done += infra.bulk_load(app, agency.code, bodies)
    finally:
        infra.dispose(app)
    return done


def load(
    inst: infra.Instance, agencies: list[dataset.Agency], args: argparse.Namespace, items: int, step: int, workers: int
) -> float:
    """Publish ``items`` more items (step ``step`` of a sweep: its own external ids and seed)."""
    assignments = plan(dataset.publishers(agencies), items)
    parts: list[list[tuple[dataset.Agency, int]]] = [[] for _ in range(workers)]
    for i, assignment in enumerate(sorted(assignments, key=lambda a: -a[1])):
        parts[i % workers].append(assignment)
    started = time.perf_counter()
    seed = args.seed + 1000 * step
    if workers == 1:
        done = load_part(inst, parts[0], seed, args.pre_share, f"s{step}w0")
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            futures = [
                pool.submit(load_part, inst, part, seed + k, args.pre_share, f"s{step}w{k}")
                for k, part in enumerate(parts)
            ]
            done = sum(f.result() for f in futures)
    seconds = time.perf_counter() - started
    if done != items:
        raise RuntimeError(f"loaded {done} items, expected {items}")
    return seconds


# -- queries -------------------------------------------------------------------------------
def make_queries(n: int, seed: int, agencies: list[dataset.Agency]) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    publishers = dataset.publishers(agencies)
    regions = sorted({a.region for a in agencies})
    earliest, _ = dataset.decision_dates()
    queries = []
    for _ in range(n):
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        params: dict[str, Any] = {}
        if kind == "word":
            params["q"] = rng.choice(WORDS) if rng.random() < 0.75 else rng.choice(MORE_WORDS)
        elif kind == "phrase":
            params["q"] = rng.choice(PHRASES)
        elif kind == "two":
            params["q"] = rng.choice(TWO_TERMS)
        else:
            text = rng.random()
            if text < 0.45:
                params["q"] = rng.choice(WORDS + MORE_WORDS)
            elif text < 0.8:
                params["q"] = rng.choice(PHRASES)
            # else: no text, browsing by filters (an agency's penalties, newest first)
            filters = rng.sample(("phase", "category", "agency", "region", "date"), rng.choice((1, 1, 2, 2, 3)))
            for name in filters:
                if name == "phase":
                    params["phase"] = "post" if rng.random() < 0.85 else "pre"
                elif name == "category":
                    params["category"] = rng.choices(dataset.CATEGORIES, dataset.CATEGORY_WEIGHTS)[0]
                elif name == "agency":
                    params["agency"] = rng.choice(publishers).code
                elif name == "region":
                    params["region"] = rng.choice(regions)
                else:
                    start = earliest + dt.timedelta(days=rng.randrange(0, dataset.DATE_SPAN_DAYS - 30))
                    params["date_from"] = start.isoformat()
                    params["date_to"] = (start + dt.timedelta(days=rng.choice((30, 90, 180)))).isoformat()
        if rng.random() < 0.25 or (kind == "filtered" and "q" not in params):
            params["sort"] = "date"
        page = rng.choices((1, 2, 3), (70, 20, 10))[0]
        if page > 1:
            params["page"] = page
        queries.append({"kind": kind, "params": params})
    return queries


def search_query(params: dict[str, Any]):
    """The SearchQuery ``reading.search_public`` builds for these arguments."""
    from backend.disclosures.facets import FACETS
    from search_index.interfaces import SearchQuery

    filters = {name: [params[name]] for name in ("phase", "type", "category", "agency", "region") if params.get(name)}
    return SearchQuery(
        text=params.get("q", ""),
        filters=filters,
        date_from=dt.date.fromisoformat(params["date_from"]) if "date_from" in params else None,
        date_to=dt.date.fromisoformat(params["date_to"]) if "date_to" in params else None,
        facets=FACETS,
        sort=params.get("sort", "relevance"),
        page=int(params.get("page", 1)),
        page_size=20,
    )


def run_api(port: int, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    client = infra.HttpClient(port)
    out = []
    try:
        for query in queries:
            status, data, seconds = client.request("GET", "/api/v1/disclosures?" + urlencode(query["params"]))
            total = json.loads(data).get("total") if status == 200 else None
            out.append(
                {"seconds": seconds, "status": status, "total": total, "error": None if status == 200 else data[:200]}
            )
    finally:
        client.close()
    return out


class TimedConnection:
    """Wraps this process's sqlite3 connection of the embedded engine: time per SQL statement.

    Rows are fetched inside the timing, so a statement's time is all of its work."""

    def __init__(self, conn, sink: dict[str, float]) -> None:
        self._conn = conn
        self.sink = sink

    def execute(self, sql: str, params: Any = ()):
        started = time.perf_counter()
        rows = self._conn.execute(sql, params).fetchall()
        self.sink[statement_kind(sql)] += time.perf_counter() - started
        return _Rows(rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return self.rows


def statement_kind(sql: str) -> str:
    sql = " ".join(sql.split())
    if ("count(*) FROM" in sql and "GROUP BY" in sql) or sql.startswith("SELECT combo, n FROM"):
        return "count+facets"
    if "ORDER BY" in sql and "DESC LIMIT" in sql:
        return "page keys"
    if sql.startswith("SELECT key, id, body"):
        return "load page rows"
    return "other sql"


def run_engine(engine, queries: list[dict[str, Any]], check: bool = False) -> list[dict[str, Any]]:
    """Each query on the engine in-process: its time, total and whether the counts are exact; ``check``: also
    asked again counting exactly (not timed), to compare."""
    import dataclasses

    from search_index.mappings import DISCLOSURES

    timed = engine.name == "embedded"
    if timed:
        engine._connect()  # this process's own connection, wrapped for statement timing
        real = engine._local.conn
    out = []
    try:
        for query in queries:
            sink: dict[str, float] = defaultdict(float)
            if timed:
                engine._local.conn = TimedConnection(real, sink)
            started = time.perf_counter()
            result = engine.search(DISCLOSURES, search_query(query["params"]))
            wall = time.perf_counter() - started
            record = {
                "took": result.took_ms / 1000,
                "wall": wall,
                "total": result.total,
                "total_exact": result.total_exact,
                "facets_exact": result.facets_exact,
            }
            if timed:
                record["statements"] = dict(sink)
                record["statements"]["python (rows, highlight)"] = max(0.0, result.took_ms / 1000 - sum(sink.values()))
                engine._local.conn = real
            if check:
                exact = engine.search(DISCLOSURES, dataclasses.replace(search_query(query["params"]), exact_up_to=None))
                record["exact_total"] = exact.total
                record["wrong"] = (result.total_exact and result.total != exact.total) or (
                    result.facets_exact and result.facets != exact.facets
                )
            out.append(record)
    finally:
        if timed:
            engine._local.conn = real
    return out


def profile_api(inst: infra.Instance, es_url: str | None, name: str, queries: list[dict[str, Any]]) -> dict:
    """The same requests through ``app.test_client()`` under cProfile: where the API's time goes."""
    import cProfile
    import io
    import pstats

    app = infra.make_app(inst, ELASTICSEARCH_URL=es_url if name == "elasticsearch" else None)
    client = app.test_client()
    sample = queries[:100]
    try:
        for query in sample[:10]:  # warm: first statement compilation, connection
            client.get("/api/v1/disclosures?" + urlencode(query["params"]))
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for query in sample:
            response = client.get("/api/v1/disclosures?" + urlencode(query["params"]))
            if response.status_code != 200:
                raise RuntimeError(f"profile: HTTP {response.status_code}: {response.data[:200]!r}")
        profiler.disable()
        seconds = time.perf_counter() - started
    finally:
        infra.dispose(app)
    stats = pstats.Stats(profiler)
    wanted = {
        ("reading.py", "search_public"): "search_public (whole service)",
        ("elastic.py", "search"): "engine.search",
        ("embedded.py", "search"): "engine.search",
        ("facets.py", "label_facets"): "label_facets (agency and region names)",
        ("schema.py", "dump"): "marshmallow dump",
        ("provider.py", "dumps"): "JSON encoding",
    }
    split: dict[str, float] = {}
    for (filename, _line, function), values in stats.stats.items():  # type: ignore[attr-defined]
        label = wanted.get((filename.rsplit("/", 1)[-1], function))
        if label and label not in split:
            split[label] = round(values[3] * 1000 / len(sample), 2)
    if "search_public (whole service)" in split:
        split["rest of search_public (load 20 rows, build items)"] = round(
            split["search_public (whole service)"]
            - split.get("engine.search", 0)
            - split.get("label_facets (agency and region names)", 0),
            2,
        )
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_callees("search_public")
    return {
        "engine": name,
        "requests": len(sample),
        "ms_per_request_under_profiler": round(seconds * 1000 / len(sample), 2),
        "cumulative_ms_per_request": split,
        "text": out.getvalue(),
    }


# -- per engine ----------------------------------------------------------------------------
def build_index(app, engine) -> dict[str, Any]:
    from backend.extensions import search
    from backend.search.indexing import reindex
    from search_index.mappings import DISCLOSURES

    app.extensions["search"] = engine
    with app.app_context():
        search.ensure_indices()
        started = time.perf_counter()
        reindex(DISCLOSURES)
        seconds = time.perf_counter() - started
        count = engine.count(DISCLOSURES)
    return {"seconds": round(seconds, 1), "documents": count, "docs_per_s": round(count / seconds) if seconds else 0}


def vacuum(app) -> float:
    """What autovacuum does after a bulk load, done before measuring rather than during: every table's statistics
    and visibility map (PostgreSQL; SQLite: ANALYZE). Every table, not the disclosures alone: the load also
    writes their versions, the transparency log and the search outbox (a million rows each at 1M items), which
    autovacuum would otherwise work through while the queries are timed. Returns its seconds."""
    from sqlalchemy import text

    from backend.extensions.database import db

    started = time.perf_counter()
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)" if conn.dialect.name == "postgresql" else "ANALYZE"))
    seconds = round(time.perf_counter() - started, 1)
    reporting.log(f"vacuum and analyze after the load: {seconds} s")
    return seconds


def settle(engine, limit: float = 600, quiet: float = 20) -> float:
    """Seconds until the engine's own work after a build is done, so that queries do not share the machine with it:
    Elasticsearch's segment merges (the embedded engine merges within its rebuild). The index is flushed first:
    otherwise Elasticsearch flushes it a minute later by itself (index.translog.flush_threshold_age), and that
    commit (and the flush after a large merge) starts merges of hundreds of megabytes in the middle of the timed
    queries (the API's p95 at 1M was 44-56 ms in runs that did not wait for them, 22 ms in one that did). A merge
    may also start a few seconds after the last one ends, so no merge running is not enough: none for ``quiet``
    seconds on end."""
    client = getattr(engine, "client", None)
    started = time.perf_counter()
    if client is not None:
        client.indices.flush(index=f"{engine.prefix}-*")
    calm_since = None
    while client is not None and time.perf_counter() - started < limit:
        stats = client.nodes.stats(metric="indices", index_metric="merge")
        if any(node["indices"]["merges"]["current"] for node in stats["nodes"].values()):
            calm_since = None
        elif calm_since is None:
            calm_since = time.perf_counter()
        elif time.perf_counter() - calm_since >= quiet:
            return round(calm_since - started, 1)
        time.sleep(1)
    return round(time.perf_counter() - started, 1)


def clear_caches(engine, inst: infra.Instance) -> None:
    """Empty Elasticsearch's query, request and field data caches (what was asked before is not answered from
    them); the system's page cache keeps the index as a server in use has it."""
    client = getattr(engine, "client", None)
    if client is not None:
        client.indices.clear_cache(index=f"{inst.prefix}-*")


def bench_engine(name: str, inst: infra.Instance, es_url: str | None, args, queries, warmup) -> dict[str, Any]:
    from search_index import make_engine

    engine = make_engine(inst.config(ELASTICSEARCH_URL=es_url if name == "elasticsearch" else None))
    env = {"ELASTICSEARCH_URL": es_url if name == "elasticsearch" else ""}
    with infra.Gunicorn(inst, workers=args.workers, threads=args.threads, **env) as server:
        reporting.log(f"{name}: {len(warmup)} warm-up queries")
        run_api(server.port, warmup)
        clear_caches(engine, inst)
        reporting.log(f"{name}: {len(queries)} timed queries through the API")
        api = run_api(server.port, queries)
    reporting.log(f"{name}: the same queries on the engine in-process")
    clear_caches(engine, inst)
    run_engine(engine, warmup[:20])
    own = run_engine(engine, queries, check=True)
    infra.close_engine(engine)
    errors = [a["error"] for a in api if a["error"]]
    mismatched = sum(1 for a, e in zip(api, own, strict=True) if a["total"] is not None and a["total"] != e["total"])

    def figures(indices: list[int]) -> dict[str, Any]:
        api_s = [api[i]["seconds"] for i in indices if api[i]["status"] == 200]
        took = [own[i]["took"] for i in indices]
        wall = [own[i]["wall"] for i in indices]
        figures = {
            "n": len(indices),
            "api_ms": reporting.summary_ms(api_s),
            "engine_took_ms": reporting.summary_ms(took),
            "engine_call_ms": reporting.summary_ms(wall),
            "mean_total_hits": round(sum(own[i]["exact_total"] for i in indices) / len(indices)) if indices else 0,
            "estimated": sum(1 for i in indices if not own[i]["total_exact"]),
            "wrong_exact_counts": sum(1 for i in indices if own[i]["wrong"]),
        }
        errors = [
            abs(own[i]["total"] - own[i]["exact_total"]) / own[i]["exact_total"]
            for i in indices
            if not own[i]["total_exact"] and own[i]["exact_total"]
        ]
        if errors:
            figures["estimate_error_pct"] = {
                "mean": round(100 * sum(errors) / len(errors), 1),
                "max": round(100 * max(errors), 1),
            }
        if api_s and took:
            figures["ratio_api_p50_to_engine_p50"] = round(
                figures["api_ms"]["p50"] / max(figures["engine_took_ms"]["p50"], 0.01), 1
            )
        if name == "embedded" and indices:
            parts: dict[str, float] = defaultdict(float)
            for i in indices:
                for part, seconds in own[i]["statements"].items():
                    parts[part] += seconds
            figures["engine_mean_ms_by_part"] = {k: round(v * 1000 / len(indices), 2) for k, v in parts.items()}
        return figures

    by_kind = {kind: figures([i for i, q in enumerate(queries) if q["kind"] == kind]) for kind in KINDS}
    by_kind["filtered, no text"] = figures(
        [i for i, q in enumerate(queries) if q["kind"] == "filtered" and "q" not in q["params"]]
    )
    by_kind["sort=date"] = figures([i for i, q in enumerate(queries) if q["params"].get("sort") == "date"])
    # A query asked again (the commonest are) may come from a cache (Elasticsearch's shard request cache, which
    # the next change to the index empties; this bench writes nothing while it measures): the first asking alone.
    seen = {json.dumps(q["params"], sort_keys=True) for q in warmup}
    first = []
    for i, query in enumerate(queries):
        key = json.dumps(query["params"], sort_keys=True)
        if key not in seen:
            first.append(i)
            seen.add(key)
    by_kind["first asked"] = figures(first)
    slowest = sorted(range(len(queries)), key=lambda i: -api[i]["seconds"])[:8]
    return {
        "engine": name,
        "all": figures(list(range(len(queries)))),
        "by_kind": by_kind,
        "errors": errors[:10],
        "error_count": len(errors),
        "total_mismatches_api_vs_engine": mismatched,
        "slowest": [
            {
                "api_ms": round(api[i]["seconds"] * 1000, 1),
                "engine_took_ms": round(own[i]["took"] * 1000, 1),
                "total": own[i]["total"],
                **queries[i],
            }
            for i in slowest
        ],
    }


def main() -> None:
    args = parse_args()
    infra.exit_on_sigterm()
    es_url = os.environ.get("ELASTICSEARCH_URL") or None
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "elasticsearch" in engines and not es_url:
        reporting.log("ELASTICSEARCH_URL is not set: measuring the embedded engine only")
        engines.remove("elasticsearch")
    result: dict[str, Any] = {"bench": "search", **reporting.environment(), "args": vars(args)}
    bench_started = time.perf_counter()
    agencies = dataset.make_agencies()
    queries = make_queries(args.queries, args.seed, agencies)
    warmup = make_queries(args.warmup, args.seed + 1, agencies)
    result["sizes"] = []
    with infra.instance("search", elasticsearch_url=es_url) as inst:
        result["database"] = infra.database_kind(inst.database_url)
        workers = args.load_workers or (2 if result["database"] == "postgresql" else 1)
        app = infra.make_app(inst, ELASTICSEARCH_URL=None)
        infra.migrate_in_process(app)
        infra.create_agencies(app, agencies)
        infra.dispose(app)  # no open connection crosses the fork of the loading processes
        loaded = 0
        for step, items in enumerate(args.items):
            size = measure_size(inst, es_url, args, agencies, engines, items - loaded, step, workers, queries, warmup)
            result["sizes"].append(size)
            loaded = items
        if args.profile_api and args.profile_api in engines:
            reporting.log(f"profiling the API in-process on {args.profile_api}")
            result["profile_api"] = profile_api(inst, es_url, args.profile_api, queries)
    result["bench_seconds"] = round(time.perf_counter() - bench_started, 1)
    result["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(result)
    if "profile_api" in result:
        result["profile_api"].pop("text")
    reporting.emit_json(result)


def measure_size(inst, es_url, args, agencies, engines, more, step, workers, queries, warmup) -> dict[str, Any]:
    """Load ``more`` items, rebuild each engine's index from the database, and measure the queries on it."""
    from search_index import make_engine

    reporting.log(f"loading {more} more items through bulk_upsert with {workers} process(es)")
    seconds = load(inst, agencies, args, more, step, workers)
    app = infra.make_app(inst, ELASTICSEARCH_URL=None)
    try:
        with app.app_context():
            from sqlalchemy import func, select

            from backend.disclosures.models import Disclosure
            from backend.extensions.database import db

            items = db.session.scalar(select(func.count()).select_from(Disclosure))
        size: dict[str, Any] = {
            "items": items,
            "load": {"items": more, "seconds": round(seconds, 1), "items_per_s": round(more / seconds)},
            "index_build": {},
        }
        reporting.log(f"{items} items; loaded {more} in {seconds:.1f}s")
        size["vacuum_seconds"] = vacuum(app)
        for name in engines:
            engine = make_engine(dict(app.config, ELASTICSEARCH_URL=es_url if name == "elasticsearch" else None))
            reporting.log(f"building the {name} index with reindex()")
            size["index_build"][name] = build_index(app, engine)
            size["index_build"][name]["settled_after_s"] = settle(engine)
            reporting.log(f"{name}: {size['index_build'][name]}")
            infra.close_engine(engine)
    finally:
        infra.dispose(app)
    size["engines"] = [bench_engine(name, inst, es_url, args, queries, warmup) for name in engines]
    return size


def print_report(result: dict[str, Any]) -> None:
    for size in result["sizes"]:
        print_size(size)
    if len(result["sizes"]) > 1:
        print_sweep(result["sizes"])
    if "profile_api" in result:
        profile = result["profile_api"]
        print(
            f"\ncProfile of {profile['requests']} API searches in-process on {profile['engine']} "
            f"({profile['ms_per_request_under_profiler']} ms/request under the profiler)"
        )
        lines = profile["text"].splitlines()
        callees = [i for i, line in enumerate(lines) if "called..." in line]
        print("\n".join(lines[:55]))
        if callees:
            print("\n".join(lines[callees[-1] : callees[-1] + 30]))
        print(f"cumulative ms per request: {profile['cumulative_ms_per_request']}")
    print(
        f"\nbench took {result['bench_seconds']} s (load average at start {result['load_avg_at_start']}, "
        f"at end {result['load_avg_at_end']})"
    )


def target_p95_ms(items: int, engine: str) -> float:
    """The API p95 target: 50 ms up to 100,000 items (issue 9); at a million, 30 ms on Elasticsearch and 100 ms
    embedded (issue 22); in between, the 100,000 figure."""
    if items >= 1_000_000:
        return 30.0 if engine == "elasticsearch" else 100.0
    return 50.0


def print_size(size: dict[str, Any]) -> None:
    """One size's figures: loading, index builds, and per engine the queries by kind."""
    load = size["load"]
    print(
        f"\n=== {size['items']:,} items: {load['items']:,} loaded through bulk_upsert in {load['seconds']} s "
        f"({load['items_per_s']:,} items/s)"
    )
    reporting.print_table(
        "Index build with reindex()",
        ["engine", "documents", "seconds", "docs/s"],
        [[name, b["documents"], b["seconds"], b["docs_per_s"]] for name, b in size["index_build"].items()],
    )
    for run in size["engines"]:
        target = target_p95_ms(size["items"], run["engine"])
        rows = []
        for label, f in [("all", run["all"]), *run["by_kind"].items()]:
            if not f["n"]:
                continue
            error = f.get("estimate_error_pct", {})
            rows.append(
                [
                    label,
                    f["n"],
                    f["mean_total_hits"],
                    f["api_ms"].get("p50", float("nan")),
                    f["api_ms"].get("p95", float("nan")),
                    f["api_ms"].get("p99", float("nan")),
                    f["engine_took_ms"]["p50"],
                    f["engine_took_ms"]["p95"],
                    f["engine_call_ms"]["p50"],
                    f.get("ratio_api_p50_to_engine_p50", float("nan")),
                    f["estimated"],
                    f"{error['mean']} / {error['max']}" if error else "-",
                    f["wrong_exact_counts"],
                    "PASS" if f["api_ms"].get("p95", 1e9) <= target else "over",
                ]
            )
        reporting.print_table(
            f"Search through the API: {run['engine']} ({run['all']['n']} sequential queries, page size 20, 4 facets)",
            [
                "kind",
                "n",
                "hits",
                "API p50",
                "API p95",
                "API p99",
                "engine p50",
                "engine p95",
                "call p50",
                "API/engine",
                "estimated",
                "est. error % mean/max",
                "wrong exact",
                f"p95<={target:g}",
            ],
            rows,
        )
        print(
            "(ms; engine = SearchResult.took_ms in-process; call = wall time of engine.search() in-process; "
            "estimated = queries whose total was an estimate; wrong exact = said exact, differs from the exact count)"
        )
        if run["engine"] == "embedded":
            parts = sorted({p for f in run["by_kind"].values() for p in f.get("engine_mean_ms_by_part", {})})
            reporting.print_table(
                "Embedded engine: mean ms per query inside each part of search()",
                ["kind", *parts],
                [
                    [label, *[f["engine_mean_ms_by_part"].get(p, 0.0) for p in parts]]
                    for label, f in [("all", run["all"]), *run["by_kind"].items()]
                    if f["n"]
                ],
            )
        print(f"\nslowest queries on {run['engine']} (API ms / engine ms / hits / kind / params):")
        for slow in run["slowest"]:
            times = f"{slow['api_ms']:8.1f} {slow['engine_took_ms']:8.1f}"
            print(f"  {times} {slow['total']:7d}  {slow['kind']:8s} {slow['params']}")
        if run["error_count"]:
            print(f"  {run['error_count']} errors, first: {run['errors'][:3]}")
        if run["total_mismatches_api_vs_engine"]:
            print(f"  {run['total_mismatches_api_vs_engine']} queries where the API's total differs from the engine's")


def print_sweep(sizes: list[dict[str, Any]]) -> None:
    """The growth: per engine and query kind, API p50 / p95 / p99 and the engine's p95 at each size, and the
    largest size's API p95 over the smallest's."""
    engines = [run["engine"] for run in sizes[0]["engines"]]
    for name in engines:
        runs = [next(r for r in size["engines"] if r["engine"] == name) for size in sizes]
        rows = []
        for label in ["all", *runs[0]["by_kind"]]:
            figures = [run["all"] if label == "all" else run["by_kind"][label] for run in runs]
            if not figures[0]["n"]:
                continue
            cells = [
                "{p50:.1f} / {p95:.1f} / {p99:.1f}".format(**f["api_ms"]) + f" ({f['engine_took_ms']['p95']:.1f})"
                for f in figures
            ]
            growth = figures[-1]["api_ms"]["p95"] / max(figures[0]["api_ms"]["p95"], 0.01)
            rows.append([label, *cells, f"{growth:.2f}"])
        builds = [f"{size['index_build'][name]['docs_per_s']:,} docs/s" for size in sizes]
        rows.append(["index build", *builds, ""])
        reporting.print_table(
            f"Sweep: {name}, API p50 / p95 / p99 (engine p95), ms",
            [
                "kind",
                *[f"{size['items']:,} items" for size in sizes],
                f"p95 x{sizes[-1]['items'] // sizes[0]['items']}",
            ],
            rows,
        )


if __name__ == "__main__":
    main()

"""Search results before and after a change of the engines, compared query by query.

Three steps, so that the engines of two commits answer the very same documents and queries:

    .venv/bin/python bench/search_compare.py documents --items 10000 --out /tmp/docs.jsonl
        # a fresh database (SQLite unless DATABASE_URL is set), the bench's seeded items published through
        # bulk_upsert, and the index documents the database projects, one JSON line each
    .venv/bin/python bench/search_compare.py results --docs /tmp/docs.jsonl --engine embedded --out after.json
        # an index of those documents built with engine.reindex, and the bench's seeded query mix (the
        # API's SearchQuery, four facets) answered with exact counts: for each query its total, facets,
        # first page of ids in order and every matching id
    (the same ``results`` step run in a checkout of the earlier commit, with this file copied in)
    .venv/bin/python bench/search_compare.py compare before.json after.json

``compare`` prints, per query kind, how many queries have the same total, the same facet counts, the
same set of matching documents, the same first page in the same order, and the same first page as a set
(relevance order can differ where scores changed: the engines' ranking is BM25 on Elasticsearch). It
exits 1 when any total, facet count or set of matches differs. ELASTICSEARCH_URL selects the cluster for
``--engine elasticsearch``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import dataset
import infra
import reporting
import search as bench_search


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    documents = steps.add_parser("documents", help="publish the seeded items and write their index documents")
    documents.add_argument("--items", type=int, default=10_000)
    documents.add_argument("--seed", type=int, default=100)
    documents.add_argument("--out", required=True)
    results = steps.add_parser("results", help="index the documents and answer the query mix")
    results.add_argument("--docs", required=True)
    results.add_argument("--engine", choices=("embedded", "elasticsearch"), default="embedded")
    results.add_argument("--queries", type=int, default=400)
    results.add_argument("--seed", type=int, default=100)
    results.add_argument("--out", required=True)
    compare = steps.add_parser("compare", help="compare two results files")
    compare.add_argument("before")
    compare.add_argument("after")
    return parser.parse_args()


def write_documents(args: argparse.Namespace) -> None:
    agencies = dataset.make_agencies()
    with infra.instance("compare") as inst:
        app = infra.make_app(inst, ELASTICSEARCH_URL=None)
        try:
            infra.migrate_in_process(app)
            infra.create_agencies(app, agencies)
            load_args = argparse.Namespace(seed=args.seed, pre_share=0.06)
            infra.dispose(app)
            bench_search.load(inst, agencies, load_args, args.items, 0, 1)
            app = infra.make_app(inst, ELASTICSEARCH_URL=None)
            from backend.extensions import db
            from backend.search.indexing import SEARCHABLE

            with app.app_context(), open(args.out, "w", encoding="utf-8") as out:
                written = 0
                for change in SEARCHABLE["disclosures"].stream_changes(db.session):
                    if hasattr(change, "body"):
                        line = {"id": change.id, "version": change.version, "body": change.body}
                        out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
                        written += 1
        finally:
            infra.dispose(app)
    reporting.log(f"{written} documents in {args.out}")


def write_results(args: argparse.Namespace) -> None:
    from search_index import make_engine
    from search_index.interfaces import Document, SearchQuery
    from search_index.mappings import DISCLOSURES

    documents = [json.loads(line) for line in Path(args.docs).read_text(encoding="utf-8").splitlines()]
    es_url = os.environ.get("ELASTICSEARCH_URL") if args.engine == "elasticsearch" else None
    if args.engine == "elasticsearch" and not es_url:
        sys.exit("--engine elasticsearch needs ELASTICSEARCH_URL")
    exact = {"exact_up_to": None} if "exact_up_to" in {f.name for f in dataclasses.fields(SearchQuery)} else {}
    queries = bench_search.make_queries(args.queries, args.seed, dataset.make_agencies())
    answers = []
    with infra.temporary_dir("compare") as tmp:
        config = {
            "ELASTICSEARCH_URL": es_url,
            "SEARCH_INDEX_PREFIX": f"compare_{infra.RUN_TAG}",
            "SEARCH_EMBEDDED_PATH": str(tmp / "search.sqlite3"),
        }
        engine = make_engine(config)
        try:
            engine.ensure_index(DISCLOSURES)
            started = time.perf_counter()
            engine.reindex(DISCLOSURES, (Document(d["id"], d["version"], d["body"]) for d in documents))
            engine.refresh(DISCLOSURES)
            reporting.log(f"{engine.count(DISCLOSURES)} documents indexed in {time.perf_counter() - started:.1f}s")
            for query in queries:
                asked = dataclasses.replace(bench_search.search_query(query["params"]), **exact)
                page = engine.search(DISCLOSURES, asked)
                every = engine.search(
                    DISCLOSURES, dataclasses.replace(asked, page=1, page_size=max(page.total, 1), facets=())
                )
                answers.append(
                    {
                        **query,
                        "total": page.total,
                        "facets": page.facets,
                        "page": [hit.id for hit in page.hits],
                        "matches": sorted(hit.id for hit in every.hits),
                    }
                )
        finally:
            engine.drop(DISCLOSURES)
            infra.close_engine(engine)
    Path(args.out).write_text(json.dumps({"engine": args.engine, "answers": answers}, ensure_ascii=False))
    reporting.log(f"{len(answers)} answers in {args.out}")


def compare(args: argparse.Namespace) -> int:
    before = json.loads(Path(args.before).read_text(encoding="utf-8"))
    after = json.loads(Path(args.after).read_text(encoding="utf-8"))
    pairs = list(zip(before["answers"], after["answers"], strict=True))
    if any(b["params"] != a["params"] for b, a in pairs):
        sys.exit("the two files answer different queries")
    checks = {
        "same total": lambda b, a: b["total"] == a["total"],
        "same facets": lambda b, a: b["facets"] == a["facets"],
        "same matches": lambda b, a: b["matches"] == a["matches"],
        "page 1 same order": lambda b, a: b["page"] == a["page"],
        "page 1 same set": lambda b, a: sorted(b["page"]) == sorted(a["page"]),
    }
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    differing = []
    for b, a in pairs:
        for kind in ("all", b["kind"], "sort=date" if b["params"].get("sort") == "date" else "relevance"):
            tally[kind]["n"] += 1
            for name, check in checks.items():
                tally[kind][name] += check(b, a)
        if not all(checks[name](b, a) for name in ("same total", "same facets", "same matches")):
            differing.append(b["params"])
    reporting.print_table(
        f"{before['engine']}: {args.before} against {args.after}",
        ["queries", "n", *checks],
        [[kind, counts["n"], *[counts[name] for name in checks]] for kind, counts in tally.items()],
    )
    for params in differing[:10]:
        print(f"  differs: {params}")
    return 1 if differing else 0


def main() -> None:
    args = parse_args()
    infra.exit_on_sigterm()
    if args.step == "documents":
        write_documents(args)
    elif args.step == "results":
        write_results(args)
    else:
        sys.exit(compare(args))


if __name__ == "__main__":
    main()

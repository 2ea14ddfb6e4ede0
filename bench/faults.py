"""Each dependency cut under load. Targets: 0 undocumented 5xx; acknowledged = stored = searchable.

What it does: per outage (``--outages redis,database,elasticsearch``, all by default, in that order), a fresh
gunicorn started as ``make run`` starts it (2 workers x 4 threads, the search indexer thread on, the scheduler
off) whose PostgreSQL, Redis and Elasticsearch are each reached through a ``tests.support.tcp_proxy.TcpProxy``
on the loopback (the shared servers keep running). The mixed load of ``tests.support.outages.MixedLoad``
(``--threads`` clients, each cycling through a badge check by the API, the badge page ``/v/<token>``, a
complaint, an agency token, a PUT of a new decision and a search) runs ``--before`` seconds, then the outage's
proxy is stopped for ``--down`` seconds and started again, and the load goes on ``--after`` seconds.

Per outage: requests; 5xx other than the documented 503s (target 0) and requests not answered at all;
documented 503s (with Retry-After: every kind with the database down, search with Elasticsearch down);
publications acknowledged (2xx), stored (rows in the database) and searchable (found by an ``ids`` count on
the disclosures alias after a wait of at most ``--catch-up-limit`` s) — targets equal; recovery: from the
service's return until every kind was answered 2xx again; catch-up: from the return until every publication
acknowledged by then was searchable (includes Elasticsearch's 1 s refresh).

Rate limits stay on (the limiter is what failed with Redis down) but high, since every request comes from
127.0.0.1. One fresh PostgreSQL database and one search-index prefix for the whole run, dropped at the end.

Run (needs all three services):

    DATABASE_URL=postgresql+psycopg://sanxiang:sanxiang@127.0.0.1:55432/sanxiang \\
    REDIS_URL=redis://127.0.0.1:56379/0 ELASTICSEARCH_URL=http://127.0.0.1:59200 \\
        .venv/bin/python bench/faults.py

Progress goes to stderr; stdout gets the table and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from urllib.parse import urlsplit, urlunsplit

import infra
import reporting

from tests.factories.officers import officer
from tests.support.outages import OUTAGES, MixedLoad, run_outage, wait_until
from tests.support.tcp_proxy import TcpProxy

BADGE = "35050012345"
COLUMNS = (
    "requests",
    "5xx_undocumented",
    "unanswered",
    "503_documented",
    "acknowledged",
    "stored",
    "searchable",
    "down_s",
    "recovery_s",
    "catch_up_s",
)
SERVICES = {"database": "DATABASE_URL", "redis": "REDIS_URL", "elasticsearch": "ELASTICSEARCH_URL"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outages", default=",".join(OUTAGES), help="comma-separated, in order (default all three)")
    parser.add_argument("--threads", type=int, default=4, help="load threads (default 4)")
    parser.add_argument("--before", type=float, default=2.0, help="seconds of load before the cut (default 2)")
    parser.add_argument("--down", type=float, default=10.0, help="seconds the service is cut (default 10)")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of load after its return (default 5)")
    parser.add_argument("--catch-up-limit", type=float, default=60.0, help="longest wait for search (default 60)")
    return parser.parse_args()


def proxied(url: str) -> tuple[TcpProxy, str]:
    """A started proxy in front of the server ``url`` names, and ``url`` pointing at the proxy instead."""
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname, parts.port)
    proxy.start()
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return proxy, urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}"))


def http_json(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
        data=json.dumps(body, ensure_ascii=False).encode() if body is not None else None,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def indexed(engine, public_ids: list[str]) -> int:
    """How many of these publications a search finds now."""
    from search_index.mappings import DISCLOSURES

    if not public_ids:
        return 0
    return engine.client.count(index=engine.alias(DISCLOSURES), query={"ids": {"values": public_ids}})["count"]


def searchable(engine):
    return lambda public_ids: indexed(engine, public_ids) == len(public_ids)


def stored(app, public_ids: list[str]) -> int:
    from sqlalchemy import func, select

    from backend.disclosures.models import Disclosure
    from backend.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Disclosure).where(Disclosure.id.in_(public_ids)))


def cut(outage: str, inst, app, credentials: dict, badge_token: str, args: argparse.Namespace) -> dict:
    """One outage under load against a fresh server; the figures of its row."""
    engine = app.extensions["search"]
    proxies, env = {}, {}
    for name, variable in SERVICES.items():
        url = inst.database_url if name == "database" else os.environ[variable]
        proxies[name], env[variable] = proxied(url)
    try:
        with infra.Gunicorn(
            inst,
            workers=2,
            threads=4,
            **env,
            SEARCH_INDEXER_THREAD="1",
            SCHEDULER_THREAD="0",
            CACHE_KEY_PREFIX=f"{inst.prefix}:",
            VERIFY_RATE_LIMIT_PER_MINUTE="1000000",
            COMPLAINT_RATE_LIMIT_PER_HOUR="1000000",
        ) as server:
            base = f"http://127.0.0.1:{server.port}"
            token = http_json("POST", f"{base}/api/v1/auth/token", credentials)["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            http_json("PUT", f"{base}/api/v1/publish/officers/{BADGE}", officer(), bearer)
            load = MixedLoad(base, badge_token, credentials, bearer, threads=args.threads)
            reporting.log(f"{outage}: load {args.before}s, cut {args.down}s, load {args.after}s more")
            report = run_outage(
                load,
                proxies[outage],
                outage,
                before=args.before,
                down=args.down,
                after=args.after,
                searchable=searchable(engine),
                catch_up_limit=args.catch_up_limit,
            )
            # While the server runs: its indexer threads index what was acknowledged last.
            ids = list(report.acknowledged.values())
            found = searchable(engine)
            wait_until(lambda: found(ids), args.catch_up_limit, step=0.2)
    finally:
        for proxy in proxies.values():
            proxy.stop()
    unanswered = sum(1 for answer in report.undocumented if answer.status == 0)
    during = {kind: dict(counts) for kind, counts in report.statuses("during").items()}
    reporting.log(f"{outage}: answered during the cut: {during}")
    return {
        "requests": len(report.answers),
        "5xx_undocumented": report.server_errors - unanswered,
        "unanswered": unanswered,
        "503_documented": report.unavailable,
        "acknowledged": len(ids),
        "stored": stored(app, ids),
        "searchable": indexed(engine, ids),
        "down_s": round(report.down_seconds, 2),
        "recovery_s": None if report.recovered_after is None else round(report.recovered_after, 2),
        "catch_up_s": None if report.searchable_after is None else round(report.searchable_after, 2),
        "during": during,
    }


def main() -> None:
    args = parse_args()
    infra.exit_on_sigterm()
    missing = [variable for variable in SERVICES.values() if not os.environ.get(variable)]
    if missing or not os.environ["DATABASE_URL"].startswith("postgresql"):
        sys.exit(f"bench/faults.py needs PostgreSQL, Redis and Elasticsearch: set {', '.join(SERVICES.values())}")
    outages = [name.strip() for name in args.outages.split(",") if name.strip()]
    if unknown := set(outages) - set(OUTAGES):
        sys.exit(f"unknown outage(s): {', '.join(sorted(unknown))}")
    elasticsearch_url = os.environ["ELASTICSEARCH_URL"]
    rows, figures = [], {"environment": reporting.environment(), "args": vars(args), "outages": {}}
    with infra.instance("faults", elasticsearch_url=elasticsearch_url) as inst:
        app = infra.make_app(inst)
        infra.migrate_in_process(app)
        from backend.accounts.services import create_client
        from backend.agencies.services import create_agency
        from backend.officers import tokens
        from backend.search.indexing import reconcile
        from search_index.mappings import DEFINITIONS

        with app.app_context():
            create_agency(code="MKT", name="泉州市市场监督管理局", region_code="350500", actor="bench")
            issued = create_client("MKT", actor="bench")
            for definition in DEFINITIONS.values():
                app.extensions["search"].ensure_index(definition)
            reconcile(rebuild=True)  # as `flask search init` does: new indices project this database
        with app.test_request_context():
            badge_token = tokens.issue("MKT", BADGE).token
        credentials = {"client_id": issued.client.client_id, "client_secret": issued.secret}
        try:
            for outage in outages:
                row = cut(outage, inst, app, credentials, badge_token, args)
                figures["outages"][outage] = row
                rows.append([outage, *("-" if row[key] is None else row[key] for key in COLUMNS)])
        finally:
            infra.dispose(app)
    reporting.print_table(
        "Dependency cut under a mixed load (targets: 5xx 0, unanswered 0; acknowledged = stored = searchable)",
        ["outage", *COLUMNS],
        rows,
    )
    reporting.emit_json(figures)


if __name__ == "__main__":
    main()

"""Cases: record appends through the API, and the supervision summary at scale.

Targets (issue 8): record appends ≥ 1,000/s through the API; the supervision summary over
1,000,000 disclosures and 100,000 cases answers in ≤ 1 s on PostgreSQL.

    .venv/bin/python bench/cases.py [--appends 20000] [--batch 50] [--clients 4]
                                    [--disclosures 1000000] [--cases 100000]
                                    [--skip-summary] [--skip-appends] [--keep-data NAME]

Appends go through gunicorn (started as ``make run`` starts it): each client owns a case and
posts batches of records, the real path (validation, hash chain, transparency log, one commit).
For the summary, the million rows are written straight into the tables with the shape the
services give them (publishing a million items through the API would take the bench's whole
budget and measure something else); the database's trigger counts them for the 公示率 counters as it
does any write, and the deltas are folded once after the load, as the scheduler's job does every
minute. The query then runs through the API, like a supervisor's.
Uses PostgreSQL when DATABASE_URL is set (a fresh database), else SQLite.

Loading a million rows takes minutes; ``--keep-data NAME`` keeps the summary's database (PostgreSQL
database ``sanxiang_bench_keep_NAME``, or ``/tmp/sanxiang-bench-keep-NAME.sqlite3``) after the run and
reuses it on the next run with the same name and sizes: it is migrated to the current head and
ANALYZEd, not reloaded (a different --disclosures/--cases reloads it). Drop it with ``--drop-data NAME``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import threading
import time
import uuid

import dataset
import infra
import reporting

OFFICERS = ["35050012345", "35050012346"]


def record_batch(rng: random.Random, start: int, size: int) -> list[dict]:
    steps = ["investigation", "evidence", "notice", "service", "execution"]
    batch = []
    for n in range(start, start + size):
        captured = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=rng.randint(1, 600))
        batch.append(
            {
                "step": steps[n % len(steps)],
                "time": captured.isoformat(),
                "officers": OFFICERS,
                "place": f"泉州市鲤城区中山路 {n % 500} 号",
                "text": f"第 {n} 条执法记录：现场检查经营场所，制作笔录。",
                "evidence": [
                    {
                        "kind": "video",
                        "sha256": f"{n:064x}",
                        "size": 1_000_000 + n,
                        "uri": f"oss://mkt/case/{n}.mp4",
                        "captured_at": captured.isoformat(),
                    }
                ],
            }
        )
    return batch


def bench_appends(inst: infra.Instance, args: argparse.Namespace) -> dict:
    infra.flask_cli(inst, "agency", "create", "--code", "MKT", "--name", "泉州市市场监督管理局", "--region", "350500")
    credentials = json.loads(infra.flask_cli(inst, "agency-client", "create", "--agency", "MKT"))
    with infra.Gunicorn(inst) as server:
        setup = infra.HttpClient(server.port)
        headers = infra.bearer_token(setup, credentials)
        for badge in OFFICERS:  # records name registered officers only
            officer = {"name": "李明", "domains": ["市场监管"], "valid_from": "2024-01-01", "valid_until": "2099-12-31"}
            setup.json("PUT", f"/api/v1/publish/officers/{badge}", officer, headers)
        for c in range(args.clients):
            setup.json(
                "PUT",
                f"/api/v1/publish/cases/BENCH-{c}",
                {"category": "penalty", "matter": "食品安全行政处罚", "officers": OFFICERS, "opened_on": "2026-01-05"},
                headers,
            )
        per_client = args.appends // args.clients
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def run(c: int) -> None:
            rng = random.Random(c)
            client = infra.HttpClient(server.port)
            for start in range(0, per_client, args.batch):
                body = json.dumps({"records": record_batch(rng, start, min(args.batch, per_client - start))}).encode()
                status, data, elapsed = client.request(
                    "POST", f"/api/v1/publish/cases/BENCH-{c}/records", body, headers
                )
                with lock:
                    latencies.append(elapsed)
                    if status != 201:
                        errors.append(data[:200].decode(errors="replace"))

        started = time.perf_counter()
        threads = [threading.Thread(target=run, args=(c,)) for c in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        chains_valid = all(
            setup.json("GET", f"/api/v1/publish/cases/BENCH-{c}/records", headers=headers)["valid"]
            for c in range(args.clients)
        )
    total = per_client * args.clients
    return {
        "records": total,
        "seconds": round(wall, 2),
        "records_per_s": round(total / wall, 1),
        "batch": args.batch,
        "clients": args.clients,
        "errors": len(errors),
        "first_error": errors[:1],
        "chains_valid": chains_valid,
        "request_ms": reporting.summary_ms(latencies),
    }


def load_rows(app, disclosures: int, cases: int) -> float:
    """Rows shaped like the services write them, inserted in bulk; returns seconds."""
    from sqlalchemy import insert, select, update

    from backend.agencies.models import Agency
    from backend.cases.models import Case
    from backend.disclosures.models import Disclosure
    from backend.extensions import db

    rng = random.Random(8)
    started = time.perf_counter()
    with app.app_context():
        agencies = db.session.scalars(select(Agency).where(Agency.supervises.is_(False))).all()
        now = dt.datetime.now(dt.UTC)
        chunk = 20_000
        for base in range(0, disclosures, chunk):
            rows = []
            for n in range(base, min(base + chunk, disclosures)):
                decided = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
                deadline = decided + dt.timedelta(days=rng.choice((9, 11, 28)))
                state = rng.random()
                status = "published" if state < 0.93 else ("pending" if state < 0.97 else "withdrawn")
                published = (
                    None
                    if status == "pending"
                    else dt.datetime.combine(decided + dt.timedelta(days=rng.randint(0, 14)), dt.time(2), dt.UTC)
                )
                rows.append(
                    {
                        "id": uuid.uuid4().hex,
                        "agency_id": agencies[n % len(agencies)].id,
                        "external_id": f"b{n}",
                        "case_no": _decision_of(n, cases),
                        "phase": "post",
                        "type": "decision",
                        "category": rng.choice(("penalty", "licensing", "inspection")),
                        "title": f"行政处罚决定书 {n}",
                        "content": "",
                        "region_code": "350500",
                        "attachments": [],
                        "details": {},
                        "decision_date": decided,
                        "public": {},
                        "privacy_report": {},
                        "content_hash": "x",
                        "status": status,
                        "published_at": published,
                        "publish_deadline": deadline,
                        "deadline_provisional": False,
                        "published_late": bool(published and published.date() > deadline),
                        "withdrawn_at": now if status == "withdrawn" else None,
                        "withdrawal_reason": "revoked" if status == "withdrawn" else None,
                        "minor": False,
                        "confidential": False,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
            db.session.execute(insert(Disclosure), rows)
            db.session.commit()
            reporting.log(f"disclosures: {min(base + chunk, disclosures):,}")
        for base in range(0, cases, chunk):
            rows = [
                {
                    "agency_id": agencies[n % len(agencies)].id,
                    "case_no": f"C{n}",
                    "category": "penalty",
                    "major": n % 10 == 0,
                    "matter": "食品安全行政处罚",
                    "officers": OFFICERS,
                    "opened_on": dt.date(2025, 1, 1) + dt.timedelta(days=n % 365),
                    "content_hash": "x",
                    "record_count": 0,
                    "missing_av": int(n % 17 == 0),
                    "recording_gaps": int(n % 19 == 0),
                    "late_evidence": int(n % 23 == 0),
                    "had_hearing": n % 31 == 0,
                    "decided": n % 3 == 0,
                    # Major cases became major on a day of 2025: some after their decision was published.
                    "major_since": (
                        dt.datetime(2025, 1, 1, 2, tzinfo=dt.UTC) + dt.timedelta(days=n % 365) if n % 10 == 0 else None
                    ),
                    "major_by": "flag" if n % 10 == 0 else None,
                    **_decided_columns(n),
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(base, min(base + chunk, cases))
            ]
            db.session.execute(insert(Case), rows)
            db.session.commit()
        # Each agency began reporting cases mid-year (its first case), so the decisions it published without a case
        # since then, about a third of all, are counted in the summary: the count's worst case.
        db.session.execute(update(Agency).values(reports_cases_since=dt.datetime(2025, 7, 1, tzinfo=dt.UTC)))
        db.session.commit()
        reporting.log(f"cases: {cases:,}")
    return time.perf_counter() - started


def _decision_of(n: int, cases: int) -> str | None:
    """The case disclosure ``n`` is the decision of: most decided cases (n % 3 == 0) have theirs, one in 20 does
    not (it counts against 公示率 over decided cases); disclosure n and case n share their agency."""
    return f"C{n}" if n < cases and n % 3 == 0 and n % 20 != 0 else None


def _decided_columns(n: int) -> dict:
    """What the first decision record sets on a decided case (cases.services.set_decision_deadline)."""
    if n % 3:
        return {"decided_on": None, "publish_deadline": None, "publish_by": None, "deadline_provisional": False}
    decided_on = dt.date(2025, 1, 1) + dt.timedelta(days=n % 365)
    deadline = decided_on + dt.timedelta(days=9)
    end = dt.datetime.combine(deadline, dt.time(16), dt.UTC)  # midnight after the deadline day, in Beijing
    return {"decided_on": decided_on, "publish_deadline": deadline, "publish_by": end, "deadline_provisional": False}


def loaded_sizes(app) -> tuple[int, int] | None:
    """(disclosures, cases) of a kept database, or None when it was never fully loaded."""
    from sqlalchemy import func, select

    from backend.accounts.models import AdminUser
    from backend.cases.models import Case
    from backend.disclosures.models import Disclosure
    from backend.extensions import db

    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(AdminUser).where(AdminUser.username == "sup")) == 0:
            return None  # the admin is created last: a load that stopped half-way is redone
        return (
            db.session.scalar(select(func.count()).select_from(Disclosure)),
            db.session.scalar(select(func.count()).select_from(Case)),
        )


def bench_summary(inst: infra.Instance, args: argparse.Namespace) -> dict:
    app = infra.make_app(inst)
    if args.keep_data and loaded_sizes(app) == (args.disclosures, args.cases):
        reporting.log("reusing the kept data")
        load_seconds = None
    else:
        if args.keep_data:
            # Other sizes, or a load that stopped half-way: start again from an empty database.
            infra.dispose(app)
            drop_kept(args.keep_data)
            kept_url(args.keep_data)
            infra.flask_cli(inst, "db", "upgrade")
            app = infra.make_app(inst)
        load_seconds = load_sizes(app, args)
    with app.app_context():
        from backend.supervision.counts import compact

        # The loaded rows' counter deltas, folded as the scheduler's job does every COUNTS_JOB_SECONDS.
        started = time.perf_counter()
        reporting.log(f"folded {compact():,} counter deltas in {time.perf_counter() - started:.1f} s")
    if inst.database_url.startswith("postgresql"):
        with app.app_context():
            from sqlalchemy import text

            from backend.extensions import db

            db.session.execute(text("ANALYZE"))
            db.session.commit()
    if load_seconds is not None:
        with app.app_context():
            from backend.accounts.services import create_admin

            create_admin(username="sup", password="bench password 1", role="admin", actor="bench")
    infra.dispose(app)
    with infra.Gunicorn(inst) as server:
        client = infra.HttpClient(server.port)
        token = client.json("POST", "/api/v1/admin/auth/token", {"username": "sup", "password": "bench password 1"})
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        timings = []
        for _ in range(args.summary_runs):
            status, data, elapsed = client.request(
                "GET", "/api/v1/supervision/summary?from=2025-01-01&to=2025-12-31", headers=headers
            )
            if status != 200:
                raise RuntimeError(data[:300])
            timings.append(elapsed)
        body = json.loads(data)
    return {
        "disclosures": args.disclosures,
        "cases": args.cases,
        "load_seconds": None if load_seconds is None else round(load_seconds, 1),
        "summary_ms": reporting.summary_ms(timings),
        "agencies_in_summary": len(body["on_time"]),
        "counters_equal_direct": counters_equal_direct(inst, body),
    }


def counters_equal_direct(inst: infra.Instance, body: dict) -> bool:
    """The 公示率 the API answered (from the counters) against a count over every disclosure."""
    import datetime as dt

    from sqlalchemy import true

    from backend.supervision.services import on_time_rates

    app = infra.make_app(inst)
    try:
        with app.app_context():
            direct = on_time_rates(true(), dt.date(2025, 1, 1), dt.date(2025, 12, 31), direct=True)
    finally:
        infra.dispose(app)
    return body["on_time"] == json.loads(json.dumps(direct, default=str))


def load_sizes(app, args: argparse.Namespace) -> float:
    agencies = dataset.make_agencies(12)
    infra.create_agencies(app, agencies)
    with app.app_context():
        from sqlalchemy import update

        from backend.agencies.models import Agency
        from backend.extensions import db

        db.session.execute(update(Agency).where(Agency.name.like("%司法局")).values(supervises=True))
        db.session.commit()
    return load_rows(app, args.disclosures, args.cases)


def kept_url(name: str) -> str:
    """The URL of the database kept under ``name``, created (empty) when it does not exist."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url or server_url.startswith("sqlite"):
        return f"sqlite:////tmp/sanxiang-bench-keep-{name}.sqlite3"
    from urllib.parse import urlsplit, urlunsplit

    from sqlalchemy import create_engine, text

    database = f"sanxiang_bench_keep_{name}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}):
                conn.execute(text(f'CREATE DATABASE "{database}"'))
                reporting.log(f"created database {database} (kept)")
    finally:
        admin.dispose()
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{database}"))


@contextlib.contextmanager
def kept_instance(name: str):
    """Like ``infra.instance`` but the database outlives the run (see --keep-data)."""
    url = kept_url(name)
    with infra.temporary_dir("cases-keep") as tmp:
        (tmp / "instance").mkdir()
        yield infra.Instance(tmp=tmp, database_url=url, prefix=f"bench_cases_keep_{name}")


def drop_kept(name: str) -> None:
    server_url = os.environ.get("DATABASE_URL")
    if not server_url or server_url.startswith("sqlite"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"/tmp/sanxiang-bench-keep-{name}.sqlite3")
        return
    from sqlalchemy import create_engine

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        infra.drop_database(admin, f"sanxiang_bench_keep_{name}")
    finally:
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--disclosures", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--summary-runs", type=int, default=10)
    parser.add_argument("--skip-summary", action="store_true")
    parser.add_argument("--skip-appends", action="store_true")
    parser.add_argument("--keep-data", metavar="NAME", help="keep the summary's data after the run, reuse it next time")
    parser.add_argument("--drop-data", metavar="NAME", help="drop the data kept under NAME, and do nothing else")
    args = parser.parse_args()
    if args.keep_data and not args.keep_data.isidentifier():
        parser.error("--keep-data: letters, digits and _ only")
    if args.drop_data:
        drop_kept(args.drop_data)
        return
    infra.exit_on_sigterm()
    result = {"bench": "cases", "environment": reporting.environment()}
    if not args.skip_appends:
        with infra.instance("cases-append") as inst:
            infra.flask_cli(inst, "db", "upgrade")
            result["database"] = infra.database_kind(inst.database_url)
            result["appends"] = bench_appends(inst, args)
        print_appends(result)
    if not args.skip_summary:
        summary_instance = kept_instance(args.keep_data) if args.keep_data else infra.instance("cases-summary")
        with summary_instance as inst:
            infra.flask_cli(inst, "db", "upgrade")
            result["database"] = infra.database_kind(inst.database_url)
            result["summary"] = summary = bench_summary(inst, args)
        reporting.print_table(
            f"Supervision summary over {args.disclosures:,} disclosures and {args.cases:,} cases",
            ["load s", "p50 ms", "p95 ms", "max ms", "agencies", "= direct count"],
            [
                [
                    "kept" if summary["load_seconds"] is None else summary["load_seconds"],
                    summary["summary_ms"]["p50"],
                    summary["summary_ms"]["p95"],
                    summary["summary_ms"]["max"],
                    summary["agencies_in_summary"],
                    summary["counters_equal_direct"],
                ]
            ],
        )
    reporting.emit_json(result)


def print_appends(result: dict) -> None:
    appends = result["appends"]
    reporting.print_table(
        f"Record appends through the API ({result['database']})",
        ["records", "clients", "batch", "seconds", "records/s", "errors", "chains valid", "req p50 ms", "req p99 ms"],
        [
            [
                appends["records"],
                appends["clients"],
                appends["batch"],
                appends["seconds"],
                appends["records_per_s"],
                appends["errors"],
                appends["chains_valid"],
                appends["request_ms"]["p50"],
                appends["request_ms"]["p99"],
            ]
        ],
    )


if __name__ == "__main__":
    main()

"""负面清单: the figures per matter and the list's refresh at scale.

    .venv/bin/python bench/negative_list.py [--disclosures 200000] [--cases 20000] [--complaints 20000]
                                            [--corrections 20000] [--runs 5]

Loads decisions and cases as bench/cases.py does (written straight into the tables), then complaints naming
decisions and transparency-log ``correct`` entries on them (rows only: the Merkle tree is not this bench's
subject), ANALYZEs, and times ``negative_list.figures`` over the whole period and ``refresh`` (the first run
opens the entries, later runs change nothing). Most decisions carry no case and no matter, so each is its own
matter: the grouping's worst case. Uses PostgreSQL when DATABASE_URL is set (a fresh database), else SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

import cases
import infra
import reporting


def load_events(app, complaints: int, corrections: int) -> None:
    """Complaints naming random decisions, and correction log entries on random decisions, in 2025."""
    from sqlalchemy import insert, select

    from backend.complaints.models import Complaint
    from backend.disclosures.models import Disclosure
    from backend.extensions import db
    from backend.transparency.models import LogEntry

    rng = random.Random(17)
    with app.app_context():
        items = db.session.execute(select(Disclosure.id, Disclosure.agency_id)).all()

        def moment() -> dt.datetime:
            return dt.datetime(2025, 1, 1, 2, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 525_000))

        for base in range(0, complaints, 20_000):
            rows = []
            for n in range(base, min(base + 20_000, complaints)):
                item_id, agency_id = rng.choice(items)
                at = moment()
                rows.append(
                    {
                        "tracking_no": f"T{n:012d}",
                        "query_code_hash": "x",
                        "category": "misconduct",
                        "content": "执法不规范",
                        "disclosure_id": item_id,
                        "channel": "web",
                        "content_hash": f"{n}",
                        "agency_id": agency_id,
                        "routed_by": "disclosure",
                        "status": "submitted",
                        "created_at": at,
                        "accept_due": at.date(),
                        "version": 1,
                    }
                )
            db.session.execute(insert(Complaint), rows)
            db.session.commit()
        for base in range(0, corrections, 20_000):
            rows = [
                {
                    "index": 10_000_000 + n,
                    "leaf_hash": b"\0" * 32,
                    "event": "correct",
                    "item_id": rng.choice(items)[0],
                    "agency": "bench",
                    "actor": "bench",
                    "at": moment(),
                    "detail": {},
                }
                for n in range(base, min(base + 20_000, corrections))
            ]
            db.session.execute(insert(LogEntry), rows)
            db.session.commit()
    reporting.log(f"complaints: {complaints:,}, corrections: {corrections:,}")


def timed(app, runs: int) -> dict:
    from sqlalchemy import true

    from backend.extensions import db
    from backend.supervision import negative_list

    thresholds = negative_list.Thresholds(
        days=500, complaints=3, corrections=3, withdrawals=2, overdue=3, deductions=10
    )
    on = dt.date(2026, 5, 15)  # a window covering all of 2025 and the load's withdrawals
    with app.app_context():
        figures_s, refresh_s, outcomes = [], [], []
        for _ in range(runs):
            started = time.perf_counter()
            found = negative_list.figures(true(), on - dt.timedelta(days=thresholds.days - 1), on)
            figures_s.append(time.perf_counter() - started)
            db.session.rollback()
            started = time.perf_counter()
            outcomes.append(negative_list.refresh(thresholds, on))
            refresh_s.append(time.perf_counter() - started)
    return {
        "matters_with_figures": len(found),
        "figures_ms": reporting.summary_ms(figures_s),
        "refresh_ms": reporting.summary_ms(refresh_s),
        "first_refresh": outcomes[0],
        "later_refreshes": outcomes[1:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--disclosures", type=int, default=200_000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--complaints", type=int, default=20_000)
    parser.add_argument("--corrections", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    infra.exit_on_sigterm()
    result = {"bench": "negative_list", "environment": reporting.environment()}
    with infra.instance("negative-list") as inst:
        infra.flask_cli(inst, "db", "upgrade")
        result["database"] = infra.database_kind(inst.database_url)
        app = infra.make_app(inst)
        load_seconds = cases.load_sizes(app, args)
        load_events(app, args.complaints, args.corrections)
        if inst.database_url.startswith("postgresql"):
            with app.app_context():
                from sqlalchemy import text

                from backend.extensions import db

                db.session.execute(text("ANALYZE"))
                db.session.commit()
        result["negative_list"] = timing = timed(app, args.runs)
        infra.dispose(app)
    reporting.print_table(
        f"负面清单 over {args.disclosures:,} decisions, {args.complaints:,} complaints, "
        f"{args.corrections:,} corrections ({result['database']})",
        ["load s", "matters", "figures p50 ms", "figures max ms", "refresh p50 ms", "first refresh"],
        [
            [
                round(load_seconds, 1),
                timing["matters_with_figures"],
                timing["figures_ms"]["p50"],
                timing["figures_ms"]["max"],
                timing["refresh_ms"]["p50"],
                timing["first_refresh"],
            ]
        ],
    )
    reporting.emit_json(result)


if __name__ == "__main__":
    main()

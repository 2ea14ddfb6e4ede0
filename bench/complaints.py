"""Complaint intake under steady load: 50 submissions a second for 60 seconds through gunicorn.

Target (issue 6): zero errors, zero lost (every tracking number retrievable afterwards with its
query code), p99 printed. The load is open-loop: request i is due at start + i/rate whatever the
server does, so a slow server shows up as latency and lateness instead of a lower offered rate.
Each request comes from its own simulated address (X-Forwarded-For behind one trusted proxy),
so the per-address rate limit stays on, as in production.

    .venv/bin/python bench/complaints.py [--rate 50] [--seconds 60] [--threads 24]

Uses PostgreSQL when DATABASE_URL is set (a fresh database on that server), else SQLite.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import infra
import reporting

CATEGORIES = ["no_credential", "misconduct", "arbitrary_charges", "attitude", "wrong_disclosure", "other"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="submissions per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=24, help="client threads (enough to never queue)")
    args = parser.parse_args()
    infra.exit_on_sigterm()
    total = int(args.rate * args.seconds)
    with infra.instance("complaints") as inst:
        infra.flask_cli(inst, "db", "upgrade")
        infra.flask_cli(
            inst, "agency", "create", "--code", "SFJ", "--name", "泉州市司法局", "--region", "350500", "--supervises"
        )
        infra.flask_cli(
            inst,
            "agency",
            "create",
            "--code",
            "MKT",
            "--name",
            "泉州市市场监督管理局",
            "--region",
            "350500",
            "--parent",
            "SFJ",
        )
        with infra.Gunicorn(inst, TRUSTED_PROXY_COUNT="1") as server:
            local = threading.local()
            started = time.perf_counter() + 0.5
            outcomes: list[tuple[int, float, float, dict | None]] = [None] * total  # type: ignore[list-item]

            def submit(i: int) -> None:
                due = started + i / args.rate
                time.sleep(max(0.0, due - time.perf_counter()))
                client = getattr(local, "client", None) or infra.HttpClient(server.port, timeout=30)
                local.client = client
                body = {
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "content": f"压力测试投诉第 {i} 件：执法人员在检查中未出示执法证件，现场秩序混乱。",
                    "agency": "MKT" if i % 3 else None,
                    "place": f"泉州市鲤城区中山路 {i % 300} 号",
                }
                headers = {"X-Forwarded-For": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"}
                sent = time.perf_counter()
                try:
                    status, data, elapsed = client.request(
                        "POST", "/api/v1/complaints", json.dumps(body, ensure_ascii=False).encode(), headers
                    )
                    outcomes[i] = (status, elapsed, sent - due, json.loads(data) if status == 201 else None)
                except Exception as exc:  # counted as an error, with its reason
                    outcomes[i] = (0, time.perf_counter() - sent, sent - due, {"error": repr(exc)})

            reporting.log(f"offering {total} submissions at {args.rate}/s")
            with ThreadPoolExecutor(max_workers=args.threads) as pool:
                list(pool.map(submit, range(total)))
            wall = time.perf_counter() - started

            filed = [o[3] for o in outcomes if o[0] == 201]
            errors = [o for o in outcomes if o[0] != 201]
            reporting.log(f"checking that all {len(filed)} filed complaints can be read back")
            reader = infra.HttpClient(server.port)
            lost = 0
            for complaint in filed:
                status, _, _ = reader.request(
                    "GET",
                    f"/api/v1/complaints/{complaint['tracking_no']}",
                    headers={"X-Query-Code": complaint["query_code"]},
                )
                lost += status != 200
            distinct = len({c["tracking_no"] for c in filed})
        latency = reporting.summary_ms([o[1] for o in outcomes])
        lateness = reporting.summary_ms([max(0.0, o[2]) for o in outcomes])
        result = {
            "bench": "complaints",
            "database": infra.database_kind(inst.database_url),
            "offered": total,
            "offered_rate": args.rate,
            "achieved_rate": round(total / wall, 1),
            "filed": len(filed),
            "errors": len(errors),
            "lost": lost + (len(filed) - distinct),
            "latency_ms": latency,
            "start_lateness_ms": lateness,
            "first_errors": [e[3] for e in errors[:3]],
            "environment": reporting.environment(),
        }
    reporting.print_table(
        f"Complaint intake, {args.rate:g}/s for {args.seconds:g} s ({result['database']})",
        ["offered", "filed", "errors", "lost", "achieved/s", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [
            [
                total,
                len(filed),
                len(errors),
                result["lost"],
                result["achieved_rate"],
                latency["p50"],
                latency["p95"],
                latency["p99"],
                latency["max"],
            ]
        ],
    )
    reporting.emit_json(result)


if __name__ == "__main__":
    main()

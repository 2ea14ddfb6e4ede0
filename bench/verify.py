"""Badge verification under load. Target: verify throughput >= 0.6 x /healthz throughput, p99 <= 25 ms at 32
connections (wrk, same run, same server).

What it measures: ``wrk -t2 -c32 -d15s --latency`` against a gunicorn server started exactly as ``make run``
starts it (``.venv/bin/gunicorn -c deploy/gunicorn.conf.py``, a worker per core, 4 threads each unless
--workers/--threads say otherwise), first on ``/healthz`` (the ceiling: the app answering without touching
anything), then on ``GET /api/v1/badges/verify?token=...`` (what the mini-program calls) and on ``GET
/v/<token>`` (the HTML page a phone camera opens from the QR). Each URL gets a short unmeasured wrk warm-up
first. Per URL: requests/s, the latency distribution wrk prints (50/75/90/99%), max, errors and non-2xx
responses; then the ratio verify/healthz and the p99 against the target.

It is run once per cache adapter (``--cache file,redis``, both by default, in one invocation): ``file`` with
REDIS_URL empty (the default cache: a SQLite file every worker shares, CACHE_PATH), ``redis`` with REDIS_URL set
(from --redis-url, else the REDIS_URL environment variable). Every run is a fresh gunicorn on the same isolated
instance (a temporary INSTANCE_PATH; a fresh PostgreSQL database when DATABASE_URL is set, else a SQLite
file, as ``make run`` uses; SECRET_KEY set; DEMO_DATA=0) with VERIFY_RATE_LIMIT_PER_MINUTE=0 (the per-address
limit would otherwise throttle the single load generator: every request comes from 127.0.0.1; ``--rate-limit
1000000000`` counts every scan as ``make run`` does, refusing none) and SEARCH_INDEXER_THREAD=0. Access logs
are off (infra.Gunicorn; ``--access-log`` turns them on, as ``make run`` has them, written to the instance
folder).

Set-up through the real paths: ``flask --app backend db upgrade`` / ``search init`` / ``agency create`` /
``agency-client create``, then ``PUT /api/v1/publish/officers/{badge_no}`` with a JPEG photo through the API.
The badge token is a *static* one (what citizens scan on a printed card), issued in-process with
``backend.officers.tokens.issue`` inside ``app.test_request_context()`` of an app sharing the server's
BADGE_KEYS_DIR (the instance folder) and SECRET_KEY; before the load it is checked once over HTTP (result
``valid``, token_kind ``static``) and the HTML page must say 有效.

After each server has stopped, the rows in ``badge_scans`` are counted against the verifications wrk saw
answered (every scan must be logged; the workers flush their buffers every second and at exit); a shortfall is
printed as SCANS MISSING.

Profiling (``--profile auto``, the default: only when a target is missed in that cache mode; ``always``;
``never``): in-process, with an app on the same instance and the same cache, 2,000 Flask test-client calls of
/healthz, of the verify API and of the page, timed (no profiler); then the pieces of the verify path timed one
by one (2,000 calls each: JWT header parse, key lookup, signature check through PyJWT and raw Ed25519, cache
get, snapshot, rate-limit hit as it would run with the default limit, scan-log append, schema dump + JSON,
page template, scan receipt); then 2,000 verify calls under cProfile, printed by own time and grouped by
package. Nothing of the profile is in the wrk figures.

Run:

    .venv/bin/python bench/verify.py                                   # SQLite, file + redis
    REDIS_URL=redis://127.0.0.1:56379/0 .venv/bin/python bench/verify.py --cache file,redis
    DATABASE_URL=postgresql+psycopg://sanxiang:sanxiang@127.0.0.1:55432/sanxiang \\
        REDIS_URL=redis://127.0.0.1:56379/0 .venv/bin/python bench/verify.py --profile always

The signature suite: ``--suite sm2`` (or SIGNATURE_SUITE=sm2 in the environment) runs everything with the 国密
suite, SM2 with SM3: the server, the CLI and the in-process apps all read it, and make their keys of it. Every
run first prints the suite's costs in-process (µs per call, no profiler): a raw sign and verify of a badge
token's signing input, ``tokens.issue``, a token's signature check past the per-worker memo and through it, and
a scan receipt (an HMAC with Ed25519, an SM2 signature with sm2). Then the wrk runs give the verify API's ratio to
/healthz under that suite (the memo checks each badge's signature once per worker, hence the target holds).

    .venv/bin/python bench/verify.py --suite sm2 --cache file

Progress goes to stderr; stdout gets the tables and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

import dataset
import infra
import reporting

TARGET_RATIO = 0.6
TARGET_P99_MS = 25.0
DEFAULT_REDIS = "redis://127.0.0.1:56379/0"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default="file,redis", help="comma-separated: file, redis (default both)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or None, help="for --cache redis")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (default 32)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t (default 2)")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured wrk run (default 15)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured wrk before each (default 3)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: as make run, one per core)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: as make run, 4)")
    parser.add_argument(
        "--badges",
        type=int,
        default=1,
        help="distinct badges the verify requests go round (default 1: one badge scanned again and again)",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help="VERIFY_RATE_LIMIT_PER_MINUTE for the server (default 0: off; a huge one counts every scan, refuses none)",
    )
    parser.add_argument("--no-page", action="store_true", help="skip the HTML page /v/<token>")
    parser.add_argument("--access-log", action="store_true", help="gunicorn access log on, as make run has it")
    parser.add_argument(
        "--suite",
        choices=("ed25519", "sm2"),
        default=os.environ.get("SIGNATURE_SUITE") or "ed25519",
        help="SIGNATURE_SUITE of the server and of every in-process app (default: the environment's, else ed25519)",
    )
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--profile-calls", type=int, default=2000, help="in-process calls per timing (default 2000)")
    args = parser.parse_args()
    args.caches = [c.strip() for c in args.cache.split(",") if c.strip()]
    unknown = set(args.caches) - {"file", "redis"}
    if unknown or not args.caches:
        parser.error(f"--cache takes file and/or redis, not {sorted(unknown) or 'nothing'}")
    if args.badges < 1:
        parser.error("--badges takes a positive number")
    if "redis" in args.caches and not args.redis_url:
        parser.error(f"--cache redis needs --redis-url or REDIS_URL (the local one is {DEFAULT_REDIS})")
    # Read by the gunicorn server and the flask commands (infra passes the environment on) and by in-process apps.
    os.environ["SIGNATURE_SUITE"] = args.suite
    return args


# -- wrk ----------------------------------------------------------------------------------------------
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"not a wrk duration: {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """The figures of ``wrk --latency`` output (latencies in ms)."""
    result: dict[str, Any] = {}
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{output}")
    result["requests_per_s"] = float(match.group(1))
    match = re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", output)
    if match:
        result["avg_ms"], result["stdev_ms"], result["max_ms"] = (_ms(g) for g in match.groups())
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)\s*$", output, re.MULTILINE):
        result[f"p{pct}_ms"] = _ms(value)
    match = re.search(r"(\d+) requests in ([\d.]+\w+)", output)
    if match:
        result["requests"] = int(match.group(1))
        result["seconds"] = round(_ms(match.group(2)) / 1000, 2)
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, match.groups()), strict=True)) if match else {}
    )
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(match.group(1)) if match else 0
    return result


# wrk's requests go round the tokens in a file (a line each), each thread starting at a different one.
ROTATE_LUA = """
local tokens, prefix, n = {}, "", 0
local started = 0
function setup(thread)
  thread:set("offset", started * 7919)
  started = started + 1
end
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  prefix = args[2]
  n = offset % #tokens
end
function request()
  n = n % #tokens + 1
  return wrk.format("GET", prefix .. tokens[n])
end
"""


def run_wrk(url: str, threads: int, connections: int, seconds: int, rotate: tuple[str, ...] = ()) -> dict[str, Any]:
    """``rotate``: (lua script, tokens file, path prefix) to go round many badges instead of ``url``'s path."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", url]
    if rotate:
        script, *script_args = rotate
        command[1:1] = ["-s", script]
        command += ["--", *script_args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
    result = parse_wrk(done.stdout)
    result["command"] = " ".join(command)
    result["raw"] = done.stdout
    return result


# -- set-up -------------------------------------------------------------------------------------------
def jpeg_photo() -> dict[str, str]:
    """A real 300x400 JPEG (a portrait-sized gradient), as an agency's system would upload."""
    from PIL import Image

    image = Image.new("RGB", (300, 400))
    image.putdata([(90 + x // 4, 110 + y // 5, 150) for y in range(400) for x in range(300)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return {"media_type": "image/jpeg", "data": base64.b64encode(buffer.getvalue()).decode()}


def officer_body() -> dict[str, Any]:
    return {
        "name": "陈建国",
        "domains": ["食品安全", "药品经营", "市场监管"],
        "regions": ["350500"],
        "valid_from": "2024-01-01",
        "valid_until": "2029-12-31",
        "exam_date": "2023-11-18",
        "photo": jpeg_photo(),
    }


def issue_static_token(inst: infra.Instance, agency_code: str, badge_no: str) -> str:
    """``tokens.issue`` in-process with the server's keys folder and SECRET_KEY (the instance's)."""
    app = infra.make_app(inst)
    try:
        from backend.officers import tokens

        with app.test_request_context():
            issued = tokens.issue(agency_code, badge_no)
        assert issued.expires_at is None
        return issued.token
    finally:
        infra.dispose(app)


def more_officers(inst: infra.Instance, setup: dict[str, Any], count: int) -> list[str]:
    """``count`` more officers of the agency, in-process through the service the PUT route calls (each
    audited and logged as through the API), and a static token for each; with the first, the tokens file."""
    app = infra.make_app(inst)
    try:
        from backend.agencies.models import Agency
        from backend.extensions import db
        from backend.officers import services, tokens
        from backend.officers.schemas import OfficerPutSchema

        body = officer_body()
        issued = [setup["token"]]
        with app.test_request_context():
            agency = db.session.query(Agency).filter_by(code=setup["agency"]).one()
            for n in range(count):
                badge_no = f"{setup['badge_no']}-{n:05d}"
                services.upsert_officer(agency, badge_no, OfficerPutSchema().load(body), "bench")
                issued.append(tokens.issue(setup["agency"], badge_no).token)
                if n % 500 == 499:
                    db.session.commit()
                    reporting.log(f"{n + 1:,} more officers")
            db.session.commit()
    finally:
        infra.dispose(app)
    return issued


def count_scans(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM badge_scans")).scalar_one()
    finally:
        engine.dispose()


# -- one cache mode -----------------------------------------------------------------------------------
def run_mode(args: argparse.Namespace, inst: infra.Instance, mode: str, setup: dict[str, Any]) -> dict[str, Any]:
    redis_url = args.redis_url if mode == "redis" else ""
    env = {"VERIFY_RATE_LIMIT_PER_MINUTE": str(args.rate_limit), "SEARCH_INDEXER_THREAD": "0", "REDIS_URL": redis_url}
    if args.access_log:
        env["ACCESS_LOG"] = "-"
    run: dict[str, Any] = {"cache": mode}
    scans_before = count_scans(inst.database_url)
    with infra.Gunicorn(inst, workers=args.workers, threads=args.threads, **env) as server:
        run["gunicorn"] = {
            "workers": server.expected_workers,
            "threads": int(server.env.get("WEB_THREADS") or 4),
            "access_log": bool(args.access_log),
        }
        client = infra.HttpClient(server.port)
        if "token" not in setup:
            headers = infra.bearer_token(client, setup["credentials"])
            status, data, _ = client.request(
                "PUT",
                f"/api/v1/publish/officers/{setup['badge_no']}",
                json.dumps(officer_body(), ensure_ascii=False).encode(),
                headers,
            )
            if status not in (200, 201):
                raise RuntimeError(f"PUT officer: HTTP {status}: {data[:300]!r}")
            setup["photo_sha256"] = json.loads(data)["photo_sha256"]
            setup["token"] = issue_static_token(inst, setup["agency"], setup["badge_no"])
            reporting.log(f"officer {setup['badge_no']} created; static token of {len(setup['token'])} characters")
            if args.badges > 1:
                setup["tokens"] = more_officers(inst, setup, args.badges - 1)
                reporting.log(f"{args.badges:,} badges; the verify requests go round them")
            else:
                setup["tokens"] = [setup["token"]]
        token = setup["token"]
        samples = {token, setup["tokens"][-1], setup["tokens"][len(setup["tokens"]) // 2]}
        run["checks"] = 2 * len(samples)  # each checked once through the API and once through the page
        for sample in samples:
            checked = client.json("GET", f"/api/v1/badges/verify?token={sample}")
            if checked["result"] != "valid" or checked["token_kind"] != "static":
                raise RuntimeError(f"the token does not verify as a valid static badge: {checked}")
            status, page, _ = client.request("GET", f"/v/{sample}")
            if status != 200 or "有效".encode() not in page:
                raise RuntimeError(f"/v/<token>: HTTP {status}, 有效 not on the page")
        client.close()
        run["response_bytes"] = {"verify": len(json.dumps(checked, ensure_ascii=False).encode()), "page": len(page)}

        base = f"http://127.0.0.1:{server.port}"
        rotate: dict[str, tuple[str, ...]] = {}
        if len(setup["tokens"]) > 1:
            script, tokens_file = inst.tmp / "rotate.lua", inst.tmp / "tokens.txt"
            script.write_text(ROTATE_LUA)
            tokens_file.write_text("\n".join(setup["tokens"]) + "\n")
            rotate = {
                "verify API": (str(script), str(tokens_file), "/api/v1/badges/verify?token="),
                "verify page": (str(script), str(tokens_file), "/v/"),
            }
        targets = [("healthz", "/healthz"), ("verify API", f"/api/v1/badges/verify?token={token}")]
        if not args.no_page:
            targets.append(("verify page", f"/v/{token}"))
        results = []
        for name, path in targets:
            how = rotate.get(name, ())
            warm = run_wrk(base + path, args.wrk_threads, args.connections, args.warmup, how) if args.warmup else {}
            reporting.log(f"[{mode}] wrk {args.duration}s on {name}")
            measured = run_wrk(base + path, args.wrk_threads, args.connections, args.duration, how)
            measured["name"] = name
            measured["warmup_requests"] = warm.get("requests", 0)
            measured["load_avg_after"] = round(os.getloadavg()[0], 2)
            reporting.log(
                f"[{mode}] {name}: {measured['requests_per_s']:,.0f} req/s, p99 {measured.get('p99_ms', 0):.2f} ms, "
                f"non-2xx {measured['non_2xx']}, socket errors {measured['socket_errors']}"
            )
            results.append(measured)
        run["wrk"] = results
    # The workers flush their scan buffers every second and at exit: every verification is logged.
    run["scans_logged"] = count_scans(inst.database_url) - scans_before
    healthz = results[0]["requests_per_s"]
    verify_runs = [r for r in results if r["name"] != "healthz"]
    for r in verify_runs:
        r["ratio_to_healthz"] = round(r["requests_per_s"] / healthz, 3) if healthz else 0.0
        r["meets_ratio"] = r["ratio_to_healthz"] >= TARGET_RATIO
        r["meets_p99"] = r.get("p99_ms", float("inf")) <= TARGET_P99_MS
    api = next(r for r in results if r["name"] == "verify API")
    # Every verification the server answered: the checks, the warm-ups and the measured runs.
    run["verify_requests_sent"] = run["checks"] + sum(r.get("requests", 0) + r["warmup_requests"] for r in verify_runs)
    run["scans_missing"] = max(0, run["verify_requests_sent"] - run["scans_logged"])
    run["target_met"] = api["meets_ratio"] and api["meets_p99"]
    return run


# -- in-process profile ---------------------------------------------------------------------------------
def _per_call(fn, calls: int) -> float:
    """Microseconds per call of ``fn()`` (after 50 unmeasured calls)."""
    for _ in range(50):
        fn()
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls * 1e6


def signature_costs(inst: infra.Instance, setup: dict[str, Any], calls: int) -> dict[str, float]:
    """The suite's signing and checking costs, in-process on the server's keys (µs per call, no profiler)."""
    import jwt

    from backend.officers import services, tokens

    token, agency, badge_no = setup["token"], setup["agency"], setup["badge_no"]

    app = infra.make_app(inst, VERIFY_RATE_LIMIT_PER_MINUTE=0)
    try:
        with app.test_request_context():
            ring = tokens.key_ring()
            key = ring.get(jwt.get_unverified_header(token)["kid"])
            signing_input, _, signature = token.rpartition(".")
            message = signing_input.encode()
            raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
            verification = services.verify(token)
            costs = {
                f"sign ({key.alg}, the token's signing input)": _per_call(lambda: key.sign(message), calls),
                f"verify ({key.alg}, the token's signature)": _per_call(
                    lambda: key.verify(raw_signature, message), calls
                ),
                "tokens.issue (a static badge token)": _per_call(lambda: tokens.issue(agency, badge_no), calls),
                "token check past the memo (PyJWT + verify)": _per_call(
                    lambda: tokens._checked_claims.__wrapped__(token, key), calls
                ),
                "tokens.decode through the memo": _per_call(lambda: tokens.decode(token), calls),
                "scan receipt (the page)": _per_call(lambda: services.scan_receipt(verification), calls),
            }
        return {name: round(us, 1) for name, us in costs.items()}
    finally:
        infra.dispose(app)


def profile_mode(inst: infra.Instance, mode: str, redis_url: str | None, setup: dict[str, Any], calls: int) -> dict:
    import cProfile
    import pstats

    import jwt
    from flask import render_template

    from backend.extensions import cache
    from backend.officers import services, tokens
    from backend.officers.scan_log import ScanLog
    from backend.officers.schemas import VerificationSchema
    from backend.officers.snapshots import cache_key as cache_key_of

    app = infra.make_app(inst, REDIS_URL=redis_url or None, VERIFY_RATE_LIMIT_PER_MINUTE=0)
    token, agency, badge_no = setup["token"], setup["agency"], setup["badge_no"]
    verify_path = f"/api/v1/badges/verify?token={token}"
    out: dict[str, Any] = {"cache": mode, "calls": calls}
    try:
        client = app.test_client()
        requests_us = {
            "healthz": _per_call(lambda: client.get("/healthz"), calls),
            "verify API": _per_call(lambda: client.get(verify_path), calls),
            "verify page": _per_call(lambda: client.get(f"/v/{token}"), calls),
        }
        out["test_client_us_per_request"] = {k: round(v, 1) for k, v in requests_us.items()}

        pieces: dict[str, float] = {}
        with app.test_request_context(verify_path):
            header = jwt.get_unverified_header(token)
            key = tokens.key_ring().get(header["kid"])
            signing_input, _, signature = token.rpartition(".")
            raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
            pieces["tokens.decode (whole)"] = _per_call(lambda: tokens.decode(token), calls)
            pieces["  jwt.get_unverified_header"] = _per_call(lambda: jwt.get_unverified_header(token), calls)
            pieces["  key_ring().get(kid)"] = _per_call(lambda: tokens.key_ring().get(header["kid"]), calls)
            pieces[f"  jwt.decode (PyJWT, {key.alg})"] = _per_call(
                lambda: jwt.decode(token, key.public, algorithms=[key.alg], options={"verify_exp": False}), calls
            )
            pieces[f"  {key.suite.label} verify alone"] = _per_call(
                lambda: key.verify(raw_signature, signing_input.encode()), calls
            )
            snapshots = services.snapshots()
            cache_key = cache_key_of(agency, badge_no)
            snapshots.get(agency, badge_no)  # fill the cache
            pieces["cache.get(officer key)"] = _per_call(lambda: cache.get(cache_key), calls)
            cached = cache.get(cache_key) or "{}"
            pieces["json.loads(snapshot)"] = _per_call(lambda: json.loads(cached), calls)
            # (without Redis: the snapshot lives a minute while the change poller is heard)
            pieces["snapshots.get (cache hit)"] = _per_call(lambda: snapshots.get(agency, badge_no), calls)
            miss_times = []
            for _ in range(200):
                cache.delete(cache_key)
                started = time.perf_counter()
                snapshots.get(agency, badge_no)
                miss_times.append(time.perf_counter() - started)
            pieces["snapshots.get (cache miss: database)"] = sum(miss_times) / len(miss_times) * 1e6
            bucket = f"bench-{infra.RUN_TAG}"
            limiter = app.extensions["scan_limiter"]
            pieces["rate limit, batched (if enabled)"] = _per_call(
                lambda: limiter.hit(cache.adapter, bucket, 10**9), calls
            )
            cache.delete(f"rate:verify:{bucket}")
            spare_log = ScanLog(app, interval=0)  # never writes: only the append is timed
            entry = {"at": None, "result": "valid", "reason": "ok", "token_kind": "static", "agency_code": agency,
                     "badge_no": badge_no}  # fmt: skip
            pieces["scan log append"] = _per_call(lambda: spare_log.append(dict(entry)), calls)
            verification = services.verify(token)
            schema = VerificationSchema()
            pieces["VerificationSchema.dump"] = _per_call(lambda: schema.dump(verification), calls)
            dumped = schema.dump(verification)
            pieces["JSON encode (app.json.dumps)"] = _per_call(lambda: app.json.dumps(dumped), calls)
            pieces["services.verify (whole)"] = _per_call(lambda: services.verify(token), calls)
            pieces["scan_receipt (page)"] = _per_call(lambda: services.scan_receipt(verification), calls)
            from backend.timezone import CHINA

            receipt = services.scan_receipt(verification)
            pieces["render verify.html (page)"] = _per_call(
                lambda: render_template(
                    "verify.html",
                    v=verification,
                    token=token,
                    checked_at=verification.checked_at.astimezone(CHINA),
                    receipt=receipt,
                ),
                calls,
            )
        out["pieces_us"] = {k: round(v, 1) for k, v in pieces.items()}

        profiler = cProfile.Profile()
        for _ in range(50):
            client.get(verify_path)
        started = time.perf_counter()
        profiler.enable()
        for _ in range(calls):
            client.get(verify_path)
        profiler.disable()
        out["profiled_seconds"] = round(time.perf_counter() - started, 3)
        stats = pstats.Stats(profiler)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        out["by_tottime"] = text.getvalue()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        out["by_cumulative"] = text.getvalue()
        out["by_package_ms"] = by_package(stats, calls)
        app.extensions["scan_log"].flush()
    finally:
        infra.dispose(app)
    return out


def by_package(stats, calls: int) -> dict[str, float]:
    """Own time per call (microseconds) grouped by the package the function lives in."""
    groups: dict[str, float] = defaultdict(float)
    for (filename, _line, _function), (_cc, _nc, tottime, _cum, _callers) in stats.stats.items():
        if filename.startswith("~") or filename == "<built-in>":
            name = "C functions (builtins, extension modules)"
        elif "/site-packages/" in filename:
            name = filename.split("/site-packages/")[1].split("/")[0].removesuffix(".py")
        elif "/lib/python3" in filename:
            name = "stdlib: " + filename.split("/lib/python3")[1].split("/", 2)[1].removesuffix(".py")
        elif str(infra.ROOT) in filename:
            name = "app: " + "/".join(filename.removeprefix(str(infra.ROOT) + "/").split("/")[:2])
        else:
            name = filename
        groups[name] += tottime
    total = sum(groups.values())
    ordered = sorted(groups.items(), key=lambda kv: -kv[1])
    result = {name: round(seconds / calls * 1e6, 1) for name, seconds in ordered[:18]}
    result["(total own time)"] = round(total / calls * 1e6, 1)
    return result


# -- main ---------------------------------------------------------------------------------------------
def main() -> None:
    args = parse_args()
    infra.exit_on_sigterm()
    if not shutil.which("wrk"):
        sys.exit("verify.py needs wrk (Debian: apt-get install wrk)")
    result: dict[str, Any] = {
        "bench": "verify",
        "target_ratio": TARGET_RATIO,
        "target_p99_ms": TARGET_P99_MS,
        **reporting.environment(),
    }
    result["args"] = {k: v for k, v in vars(args).items() if k != "redis_url"}
    result["redis"] = bool(args.redis_url and "redis" in args.caches)
    bench_started = time.perf_counter()
    agency = dataset.publishers(dataset.make_agencies())[0]  # 泉州市市场监督管理局
    with infra.instance("verify") as inst:
        result["database"] = infra.database_kind(inst.database_url)
        reporting.log(f"database {result['database']}; migrating and creating the agency and its client")
        infra.flask_cli(inst, "db", "upgrade")
        infra.flask_cli(inst, "search", "init")
        infra.flask_cli(
            inst, "agency", "create", "--code", agency.code, "--name", agency.name, "--region", agency.region
        )
        credentials = json.loads(infra.flask_cli(inst, "agency-client", "create", "--agency", agency.code))
        # A badge number unique to the run: Redis is shared and keys officer snapshots by agency and badge.
        setup: dict[str, Any] = {
            "agency": agency.code,
            "badge_no": f"35050-{infra.RUN_TAG}",
            "credentials": credentials,
        }
        runs = []
        try:
            for mode in args.caches:
                run = run_mode(args, inst, mode, setup)
                if "signature_us" not in result:
                    reporting.log(
                        f"{args.suite}: signing and checking costs in-process ({args.profile_calls} calls each)"
                    )
                    result["signature_us"] = signature_costs(inst, setup, args.profile_calls)
                if args.profile == "always" or (args.profile == "auto" and not run["target_met"]):
                    reporting.log(f"[{mode}] profiling the verify path in-process ({args.profile_calls} calls each)")
                    redis_url = args.redis_url if mode == "redis" else None
                    run["profile"] = profile_mode(inst, mode, redis_url, setup, args.profile_calls)
                runs.append(run)
        finally:
            if args.redis_url and "redis" in args.caches:
                forget_redis(args.redis_url, setup)
        result["runs"] = runs
        result["token_chars"] = len(setup.get("token", ""))
    result["bench_seconds"] = round(time.perf_counter() - bench_started, 1)
    print_report(result)
    for run in result["runs"]:
        for measured in run["wrk"]:
            measured.pop("raw", None)
        if "profile" in run:
            run["profile"].pop("by_tottime", None)
            run["profile"].pop("by_cumulative", None)
    reporting.emit_json(result)


def forget_redis(url: str, setup: dict[str, Any]) -> None:
    """The run's keys in the shared Redis: the officer snapshot (the rate-limit bucket is deleted above)."""
    try:
        import redis

        client = redis.Redis.from_url(url)
        client.delete(f"officer:{setup['agency']}/{setup['badge_no']}")
        client.close()
    except Exception as exc:  # clean-up must not hide the real result
        reporting.log(f"could not clean Redis: {exc}")


def print_report(result: dict[str, Any]) -> None:
    if "signature_us" in result:
        reporting.print_table(
            f"SIGNATURE_SUITE={result['args']['suite']}: costs in-process "
            f"(µs per call, {result['args']['profile_calls']} calls each, no profiler)",
            ["what", "µs/call"],
            list(result["signature_us"].items()),
        )
    for run in result["runs"]:
        profile = run.get("profile")
        if not profile:
            continue
        mode = run["cache"]
        print(f"\n[{mode}] cProfile of {profile['calls']} in-process verify calls through the Flask test client "
              f"({profile['profiled_seconds']} s under the profiler), by own time:")  # fmt: skip
        print("\n".join(line for line in profile["by_tottime"].splitlines()[:40] if line.strip()))
        print(f"\n[{mode}] by cumulative time:")
        print("\n".join(line for line in profile["by_cumulative"].splitlines()[:55] if line.strip()))
        reporting.print_table(
            f"[{mode}] own time per verify call by package (µs, under cProfile)",
            ["package", "µs/call"],
            list(profile["by_package_ms"].items()),
        )
        reporting.print_table(
            f"[{mode}] pieces of the verify path in-process (µs per call, {profile['calls']} calls each, no profiler)",
            ["piece", "µs/call"],
            list(profile["pieces_us"].items()),
        )
        reporting.print_table(
            f"[{mode}] whole requests through the Flask test client (µs per request, no profiler)",
            ["request", "µs/request"],
            list(profile["test_client_us_per_request"].items()),
        )

    for run in result["runs"]:
        rows = []
        for r in run["wrk"]:
            errors = sum(r["socket_errors"].values())
            rows.append(
                [
                    r["name"],
                    round(r["requests_per_s"], 1),
                    r.get("ratio_to_healthz", "-"),
                    r.get("p50_ms", float("nan")),
                    r.get("p75_ms", float("nan")),
                    r.get("p90_ms", float("nan")),
                    r.get("p99_ms", float("nan")),
                    r.get("max_ms", float("nan")),
                    r.get("requests", 0),
                    r["non_2xx"],
                    errors,
                    ("PASS" if r["meets_ratio"] and r["meets_p99"] else "MISS") if "meets_ratio" in r else "-",
                ]
            )
        g = run["gunicorn"]
        reporting.print_table(
            f"[{run['cache']} cache] wrk -t{result['args']['wrk_threads']} -c{result['args']['connections']} "
            f"-d{result['args']['duration']}s --latency ({result['database']}, gunicorn {g['workers']} workers x "
            f"{g['threads']} threads, access log {'on' if g['access_log'] else 'off'}, {result['cpus']} CPUs, "
            f"{result['args']['badges']:,} badge{'s' if result['args']['badges'] > 1 else ''})",
            [
                "URL",
                "req/s",
                "/healthz",
                "p50 ms",
                "p75 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "requests",
                "non-2xx",
                "sock err",
                "target",
            ],
            rows,
        )
        missing = run["verify_requests_sent"] - run["scans_logged"]
        print(
            f"verifications answered {run['verify_requests_sent']:,} (as wrk counts them: requests still in flight "
            f"when a run ends are not counted), scans logged {run['scans_logged']:,}"
            + (f" -- {missing:,} SCANS MISSING from badge_scans" if missing > 0 else "")
            + f"; response sizes: API {run['response_bytes']['verify']} B, page {run['response_bytes']['page']} B"
        )
    summary = []
    for run in result["runs"]:
        api = next(r for r in run["wrk"] if r["name"] == "verify API")
        summary.append(
            [
                run["cache"],
                api["ratio_to_healthz"],
                f">= {TARGET_RATIO}",
                api.get("p99_ms", float("nan")),
                f"<= {TARGET_P99_MS:g}",
                "PASS" if run["target_met"] else "MISS",
            ]
        )
    reporting.print_table(
        "Target (verify API)", ["cache", "verify/healthz", "target", "p99 ms", "target", "result"], summary
    )
    print(f"bench took {result['bench_seconds']} s")


if __name__ == "__main__":
    main()

"""Schemathesis over the whole OpenAPI document, against a live server set up as ``make run`` sets one up,
without a token, with an agency's and with a system administrator's: no answer may be a 5xx, and every answer
must be one the document declares for its operation, in the declared content type and schema. ``make fuzz``
runs it (``.ci/run`` too); it prints schemathesis's summary of each run and exits 1 if any found anything.

The mini-program is configured against our local WeChat protocol server (tests/support/fake_wechat.py), so its
operations answer as they do in production rather than 503 "not configured". The database is a SQLite file of
its own: what is fuzzed is the HTTP surface; the databases are tested by the suite.

    python -m tests.fuzz_openapi [--max-examples N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from tests.support.fake_wechat import FakeWeChat, settings
from tests.support.live_server import ROOT, make_run_server

# What a run checks: server errors, and answers the document does not declare (status, content type, schema,
# headers), and an operation that needs a header answering as if it did not. Not checked: whether every value the
# schema allows is accepted (the input guard refuses NUL, lone surrogates and "<>" in paths, which JSON Schema
# cannot say for every string), nor the reverse.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "missing_required_header",
)
DEMO_AGENCY = "11350500MB0100002E"
# The administrator the last run signs in as (the password policy's minimum: 12 characters, 3 classes).
ADMIN, ADMIN_PASSWORD = "fuzz-root", "Fuzzing the API 2026"


def agency_token(server_env: dict[str, str], url: str) -> str:
    flask = Path(sys.executable).parent / "flask"
    created = subprocess.run(
        [str(flask), "--app", "backend", "agency-client", "create", "--agency", DEMO_AGENCY],
        cwd=ROOT,
        env=server_env,
        capture_output=True,
        text=True,
        check=True,
    )
    request = urllib.request.Request(
        f"{url}/api/v1/auth/token",
        data=created.stdout.strip().encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["access_token"]


def admin_token(server_env: dict[str, str], url: str) -> str:
    flask = Path(sys.executable).parent / "flask"
    command = [str(flask), "--app", "backend", "admin", "create", "--username", ADMIN, "--role", "admin"]
    subprocess.run(command, cwd=ROOT, env=server_env, input=ADMIN_PASSWORD + "\n", text=True, check=True)
    request = urllib.request.Request(
        f"{url}/api/v1/admin/auth/token",
        data=json.dumps({"username": ADMIN, "password": ADMIN_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["access_token"]


def run(url: str, label: str, max_examples: int, seed: int, headers: list[str]) -> int:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/api/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        # One worker: hypothesis's lambda descriptions are not thread-safe (a second worker once made a run
        # error out inside hypothesis, not the API).
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    for header in headers:
        command += ["--header", header]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    output = done.stdout + done.stderr
    at = output.find("= SUMMARY =")
    summary = output[output.rfind("\n", 0, at) + 1 :] if at >= 0 else output[-3000:]
    if os.environ.get("FUZZ_OUTPUT_DIR"):  # the whole output, uncut (reproduction commands included)
        Path(os.environ["FUZZ_OUTPUT_DIR"], f"schemathesis-{label.replace(' ', '-')}.log").write_text(output)
    print(f"== schemathesis, {label}: exit {done.returncode}")
    shown = output if done.returncode else summary
    # Failures are shown whole but each line cut short: an internal error can quote a whole source file.
    print("\n".join(line[:300] for line in shown.splitlines()[:600]))
    return done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=10, help="cases per operation and phase")
    parser.add_argument("--seed", type=int, default=20261206, help="the same seed finds the same cases")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the WeChat server's request lines
    with tempfile.TemporaryDirectory() as folder, FakeWeChat() as wechat:
        database = f"sqlite:///{Path(folder) / 'fuzz.sqlite3'}"
        server = make_run_server(database, Path(folder))
        server.env.update({key: str(value) for key, value in settings(wechat).items() if value is not None})
        server.env.update({"SCHEDULER_THREAD": "0"})
        with server:
            # Both tokens first: the administrator's run may disable accounts and revoke clients on its way.
            agency = [f"Authorization: Bearer {agency_token(server.env, server.url)}"]
            admin = [f"Authorization: Bearer {admin_token(server.env, server.url)}"]
            results = [
                run(server.url, "without a token", args.max_examples, args.seed, []),
                run(server.url, "with an agency token", args.max_examples, args.seed, agency),
                run(server.url, "with a system administrator's token", args.max_examples, args.seed, admin),
            ]
            if max(results):
                print_tracebacks(server)
    return max(results)


def print_tracebacks(server) -> None:
    """The server's own account of a 5xx: each traceback in its log."""
    server.log.seek(0)
    log = server.log.read().decode(errors="replace")
    for block in log.split("Traceback (most recent call last):")[1:]:
        print("== server traceback:\n" + "\n".join(block.splitlines()[:60]))


if __name__ == "__main__":
    sys.exit(main())

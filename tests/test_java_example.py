"""examples/java: the JDK-only client compiles with ``javac --release 17`` and publishes against a live server,
retrying the 429 and 503 answers it is told to wait for."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.support.live_server import ROOT, LiveServer, agency_client, http_json, server_env
from tests.support.services import require_tool

EXAMPLE = ROOT / "examples" / "java" / "FirstItem.java"
TOOLS = "bash deploy/test-tools.sh installs openjdk-17-jdk-headless"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[str, Path]:
    javac, java = require_tool("javac", TOOLS), require_tool("java", TOOLS)
    classes = tmp_path_factory.mktemp("java_classes")
    subprocess.run([javac, "--release", "17", "-Xlint:all", "-Werror", "-d", classes, EXAMPLE], check=True)
    return java, classes


@pytest.fixture
def live(committed, tmp_path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    credentials = agency_client(committed)
    # The embedded engine and the cache file, as make run has them: nothing of a shared cluster is touched.
    env = server_env(committed, tmp_path, ELASTICSEARCH_URL="", REDIS_URL="")
    with LiveServer(env, workers=1) as server:
        yield server, credentials


def run_example(compiled, base: str, credentials: dict[str, str], external_id: str) -> subprocess.CompletedProcess:
    java, classes = compiled
    env = {"BASE": base, "CLIENT_ID": credentials["client_id"], "CLIENT_SECRET": credentials["client_secret"]}
    return subprocess.run(
        [java, "-cp", classes, "FirstItem"],
        env={"PATH": "/usr/bin:/bin", **env, "EXTERNAL_ID": external_id},
        capture_output=True,
        text=True,
        timeout=120,
    )


def own_item(server: LiveServer, credentials: dict[str, str], external_id: str) -> dict:
    """The item as the agency's API shows it, asked here rather than by the example."""
    token = http_json("POST", f"{server.url}/api/v1/auth/token", credentials)["access_token"]
    url = f"{server.url}/api/v1/publish/disclosures/{external_id}"
    return http_json("GET", url, headers={"Authorization": f"Bearer {token}"})


def test_the_java_example_publishes_a_decision(compiled, live):
    server, credentials = live
    done = run_example(compiled, server.url, credentials, "java-example-1")
    assert done.returncode == 0, done.stderr
    item = own_item(server, credentials, "java-example-1")
    assert done.stdout.strip() == item["id"]
    assert (item["type"], item["category"], item["status"]) == ("decision", "penalty", "published")
    assert http_json("GET", f"{server.url}/api/v1/disclosures/{item['id']}")["title"] == item["title"]
    again = run_example(compiled, server.url, credentials, "java-example-1")
    assert again.returncode == 0 and again.stdout == done.stdout
    assert own_item(server, credentials, "java-example-1")["version"] == item["version"]  # nothing changed


@contextmanager
def busy_front(target: str, refusals: dict[tuple[str, str], list[int]]) -> Iterator[tuple[str, list]]:
    """A server in front of ``target`` answering each (method, path) first with the statuses ``refusals`` lists
    (in the error shape, with ``Retry-After: 0``: the example's own backoff would wait 1, 2, 4 s, so the wait it
    reports tells which it followed), then passing requests through; yields its URL and what it answered, as
    (method, path, status)."""
    answered: list[tuple[str, str, int]] = []

    @Request.application
    def front(request: Request) -> Response:
        pending = refusals.get((request.method, request.path))
        if pending:
            status = pending.pop(0)
            answered.append((request.method, request.path, status))
            body = {"code": status, "status": "busy", "message": "请稍后再试", "errors": {}}
            return Response(json.dumps(body), status, {"Retry-After": "0"}, content_type="application/json")
        headers = {name: request.headers[name] for name in ("Content-Type", "Authorization") if name in request.headers}
        forwarded = urllib.request.Request(
            target + request.full_path.rstrip("?"),
            method=request.method,
            headers=headers,
            data=request.get_data() or None,
        )
        try:
            with urllib.request.urlopen(forwarded, timeout=30) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        answered.append((request.method, request.path, status))
        return Response(body, status, content_type="application/json")

    server = make_server("127.0.0.1", 0, front, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", answered
    finally:
        server.shutdown()
        server.server_close()


def test_the_java_example_waits_out_429_and_503(compiled, live):
    server, credentials = live
    token, item = "/api/v1/auth/token", "/api/v1/publish/disclosures/java-example-2"
    refusals = {("POST", token): [429], ("PUT", item): [503, 429]}
    with busy_front(server.url, refusals) as (front, answered):
        done = run_example(compiled, front, credentials, "java-example-2")
    assert done.returncode == 0, done.stderr
    assert answered == [
        ("POST", token, 429),
        ("POST", token, 200),
        ("PUT", item, 503),
        ("PUT", item, 429),
        ("PUT", item, 201),
        ("GET", item, 200),
    ]
    assert done.stderr.count("retrying in 0 s") == 3, done.stderr  # Retry-After followed
    assert done.stdout.strip() == own_item(server, credentials, "java-example-2")["id"]


def test_the_java_example_stops_on_a_refusal_it_cannot_wait_out(compiled, live):
    server, credentials = live
    done = run_example(compiled, server.url, {**credentials, "client_secret": "wrong"}, "java-example-3")
    assert done.returncode != 0 and '"code":401' in done.stderr.replace(" ", "")
    assert done.stdout == ""

"""What an operator sees: a JSON line per request (with its id, never a secret), /metrics, progress bars."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from backend import create_app
from backend.complaints.models import Complaint
from backend.complaints.services import deadlines_at_risk
from backend.extensions import db
from backend.health.collector import DatabaseCollector
from backend.officers import tokens
from backend.request_log import formatter
from backend.scheduler import Job, Scheduler
from tests.conftest import SESSION_TAG, base_config
from tests.factories import AgencyFactory
from tests.support.admin_browser import PASSWORD, AdminBrowser, create_user
from tests.support.complainant import read_complaint
from tests.support.live_server import LiveServer, server_env
from tests.support.services import require
from tests.support.tcp_proxy import TcpProxy
from tests.test_database_unavailable import UNREACHABLE

FIELDS = {"time", "level", "logger", "message", "request_id", "method", "route", "status", "latency_ms", "remote_addr"}
METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def json_log(caplog) -> pytest.LogCaptureFixture:
    """Every record of the test, formatted as LOG_FORMAT=json formats it."""
    caplog.set_level(logging.INFO)
    caplog.handler.setFormatter(formatter("json"))
    return caplog


def lines(log: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(line) for line in log.text.splitlines() if line.strip()]


def access_lines(log: pytest.LogCaptureFixture) -> list[dict]:
    return [line for line in lines(log) if line["logger"] == "backend.access"]


def test_each_request_is_one_json_line_with_its_id_route_status_and_latency(client, json_log):
    # A WSGI server closes each answer once sent; the line is written then (buffered: the test client too).
    answered = client.get("/api/v1/agencies/NONE", headers={"X-Request-ID": "proxy-7f3a.1"}, buffered=True)
    assert answered.status_code == 404 and answered.headers["X-Request-ID"] == "proxy-7f3a.1"
    [line] = access_lines(json_log)
    assert set(line) >= FIELDS
    assert (line["request_id"], line["method"], line["route"], line["status"]) == (
        "proxy-7f3a.1",
        "GET",
        "/api/v1/agencies/<string:code>",
        404,
    )
    assert line["latency_ms"] >= 0 and line["remote_addr"] == "127.0.0.1"


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 65, "<script>", "id\u00e9"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client, json_log, given):
    headers = {"X-Request-ID": given} if given is not None else {}
    answered = client.get("/healthz", headers=headers, buffered=True)
    new = answered.headers["X-Request-ID"]
    assert new != given and re.fullmatch(r"[0-9a-f]{32}", new)
    assert [line["request_id"] for line in access_lines(json_log)] == [new]


def test_every_kind_of_answer_carries_a_request_id(app, client):
    with app.test_request_context():
        token = tokens.issue("NONE", "35050000000").token
    answers = {
        "unknown path": client.get("/no/such/page"),
        "input guard": client.get("/api/v1/disclosures?q=" + "a" * 5000),
        "badge page fast path": client.get(f"/v/{token}"),
        "verify API fast path": client.get("/api/v1/badges/verify", query_string={"token": token}),
        "validation error": client.get("/api/v1/badges/verify"),
    }
    assert answers["input guard"].status_code == 414
    for kind, answer in answers.items():
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers.get("X-Request-ID", "")), kind


def test_the_fast_path_logs_its_route_rule_not_the_token(app, client, json_log):
    with app.test_request_context():
        token = tokens.issue("NONE", "35050000000").token
    client.get(f"/v/{token}", buffered=True)
    client.get("/api/v1/badges/verify", query_string={"token": token}, buffered=True)
    routes = [line["route"] for line in access_lines(json_log)]
    assert routes == ["/v/<path:token>", "/api/v1/badges/verify"]
    assert token not in json_log.text and token.split(".")[2] not in json_log.text


def test_no_secret_reaches_any_log_line(app, client, runner, auth, json_log, db_session):
    """A badge token in a page path and a query, a bearer token, a query code (header and URL), a password."""
    AgencyFactory(code="MKT")
    headers = auth.headers("MKT")
    bearer = headers["Authorization"].removeprefix("Bearer ")
    create_user(runner, "wang", "handler", agency="MKT")
    with app.test_request_context():
        badge = tokens.issue("MKT", "35050012345").token
    json_log.clear()
    client.get(f"/v/{badge}", buffered=True)
    client.get("/api/v1/badges/verify", query_string={"token": badge}, buffered=True)
    client.get("/api/v1/publish/officers", headers=headers, buffered=True)
    read_complaint(client, "T0000", "QC-SECRET-123456").close()  # closed, as a server closes it: logged
    client.get("/api/v1/complaints/T0000", query_string={"code": "QC-URL-654321"}, buffered=True)
    with AdminBrowser(app.test_client()).login("wang") as good:
        assert good.status_code == 303
    with AdminBrowser(app.test_client()).login("wang", password="Wrong but secret 42") as wrong:
        assert wrong.status_code == 401
    text = json_log.text
    for secret in (badge, bearer, "QC-SECRET-123456", "QC-URL-654321", PASSWORD, "Wrong but secret 42"):
        assert secret not in text
    posted = [line for line in access_lines(json_log) if line["method"] == "POST"]
    assert [(line["route"], line["status"]) for line in posted] == [("/admin/login", 303), ("/admin/login", 401)]
    assert len(access_lines(json_log)) == 7


def test_the_line_names_the_agency_client_that_asked(client, auth, json_log, db_session):
    AgencyFactory(code="MKT")
    headers = auth.headers("MKT")
    json_log.clear()
    client.get("/api/v1/publish/officers", headers=headers, buffered=True)
    [line] = access_lines(json_log)
    assert line["agency"] == "MKT" and line["actor"].startswith("client:")


def test_the_line_names_the_admin_user_of_a_page(app, runner, json_log, db_session, frozen_clock):
    AgencyFactory(code="MKT")
    create_user(runner, "li", "handler", agency="MKT")
    person = AdminBrowser(app.test_client())
    assert person.login("li").status_code == 303
    json_log.clear()
    person.get("/admin/complaints", buffered=True)
    [line] = access_lines(json_log)
    assert (line["route"], line["status"], line["actor"]) == ("/admin/complaints", 200, "admin:li")


def test_the_app_logs_inside_a_request_carry_its_id(tmp_path, json_log):
    down = create_app(base_config(UNREACHABLE["sqlite"], tmp_path) | {"METRICS_TOKEN": METRICS_TOKEN})
    try:
        answered = down.test_client().get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}", "X-Request-ID": "scrape-1"}, buffered=True
        )
    finally:
        down.extensions["officer_snapshots"].stop()
    assert answered.status_code == 200
    warning = next(line for line in lines(json_log) if line["logger"] == "backend.health.collector")
    assert warning["request_id"] == "scrape-1" and warning["level"] == "WARNING"


# -- /metrics --------------------------------------------------------------------------------------
def scraped(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def metrics_app(database_url: str, tmp_path) -> Flask:
    app = create_app(base_config(database_url, tmp_path) | {"METRICS_TOKEN": METRICS_TOKEN})
    yield app
    app.extensions["officer_snapshots"].stop()
    app.extensions["database"].engine.dispose()


def test_metrics_need_the_token_and_do_not_exist_without_one(client, metrics_app):
    assert client.get("/metrics").status_code == 404  # the session's app has no METRICS_TOKEN
    scraper = metrics_app.test_client()
    for given in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        refused = scraper.get("/metrics", headers=given)
        assert refused.status_code == 401 and refused.get_json()["code"] == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    answered = scraper.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answered.status_code == 200 and answered.mimetype == "text/plain"
    figures = scraped(answered.get_data(as_text=True))
    assert figures[("sanxiang_database_up", ())] == 1
    assert figures[("sanxiang_search_engine_up", ())] == 1
    assert ("sanxiang_search_outbox_pending", ()) in figures
    assert ("sanxiang_complaint_deadlines", (("state", "overdue"),)) in figures


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_a_scrape_with_the_database_unreachable_answers_and_says_so(tmp_path, kind):
    down = create_app(base_config(UNREACHABLE[kind], tmp_path) | {"METRICS_TOKEN": METRICS_TOKEN})
    down.config["TESTING"] = False  # answered as in production
    try:
        answered = down.test_client().get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    finally:
        down.extensions["officer_snapshots"].stop()
    assert answered.status_code == 200
    figures = scraped(answered.get_data(as_text=True))
    assert figures[("sanxiang_database_up", ())] == 0
    assert ("sanxiang_search_outbox_pending", ()) not in figures


def test_a_scrape_through_a_database_outage_and_back(database_url, tmp_path):
    require("DATABASE_URL", "PostgreSQL")
    target = urlsplit(database_url)
    proxy = TcpProxy(target.hostname, target.port)
    proxy.start()
    through = urlunsplit(target._replace(netloc=f"{target.username}:{target.password}@{urlsplit(proxy.url).netloc}"))
    app = create_app(base_config(through, tmp_path) | {"METRICS_TOKEN": METRICS_TOKEN})
    scraper = app.test_client()

    def database_up() -> float:
        answered = scraper.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert answered.status_code == 200
        return scraped(answered.get_data(as_text=True))[("sanxiang_database_up", ())]

    try:
        assert database_up() == 1
        proxy.stop()
        assert database_up() == 0
        proxy.start()
        assert database_up() == 1
    finally:
        proxy.stop()
        app.extensions["officer_snapshots"].stop()
        app.extensions["database"].engine.dispose()


def test_complaint_deadlines_at_risk_are_counted(app, client, db_session, frozen_clock):
    AgencyFactory(code="MKT")
    filed = client.post(
        "/api/v1/complaints", json={"category": "misconduct", "content": "未出示证件。", "agency": "MKT"}
    )
    assert filed.status_code == 201
    due = db.session.query(Complaint.accept_due).filter_by(tracking_no=filed.get_json()["tracking_no"]).scalar()
    beijing_noon = dt.datetime.combine(due, dt.time(4, 0), tzinfo=dt.UTC)
    for day, expected in ((-2, (0, 0)), (-1, (1, 0)), (0, (1, 0)), (1, (0, 1))):
        frozen_clock.advance(beijing_noon + dt.timedelta(days=day) - frozen_clock.now())
        assert (deadlines_at_risk()["due_soon"], deadlines_at_risk()["overdue"]) == expected, day
    figures = {family.name: family for family in DatabaseCollector().collect()}
    overdue = {sample.labels["state"]: sample.value for sample in figures["sanxiang_complaint_deadlines"].samples}
    assert overdue == {"due_soon": 0, "overdue": 1}


@pytest.mark.slow
def test_metrics_from_a_gunicorn_of_two_workers_sum_both(committed, tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = server_env(
        committed, tmp_path, METRICS_TOKEN=METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR=str(folder), LOG_FORMAT="json"
    )
    with LiveServer(env, workers=2) as server:
        connections = server.connection_to_each_worker(2)
        sent = 0
        for count, connection in zip((3, 4), connections.values(), strict=True):
            for _ in range(count):
                connection.request("GET", "/api/v1/agencies/NONE", headers={"X-Request-ID": f"live-{sent}"})
                answered = connection.getresponse()
                answered.read()
                assert answered.status == 404 and answered.getheader("X-Request-ID") == f"live-{sent}"
                sent += 1
        route = (("method", "GET"), ("route", "/api/v1/agencies/<string:code>"), ("status", "404"))
        scrape = urllib.request.Request(f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        # A worker counts a request once it has sent the answer and closed it: the last may be a moment behind.
        for _ in range(50):
            with urllib.request.urlopen(scrape, timeout=10) as answered:
                figures = scraped(answered.read().decode())
            if figures.get(("sanxiang_http_request_duration_seconds_count", route)) == sent:
                break
            time.sleep(0.1)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/metrics", timeout=10)
        assert refused.value.code == 401
        log = server.log_tail(200_000)
        written = {path.name.rsplit("_", 1)[-1] for path in folder.glob("histogram_*.db")}  # one file per worker
    assert figures[("sanxiang_http_request_duration_seconds_count", route)] == sent == 7
    assert figures[("sanxiang_database_up", ())] == 1
    assert written >= {f"{pid}.db" for pid in connections}
    assert not folder.exists()  # gunicorn took its files with it
    logged = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert {line["request_id"] for line in logged if line.get("logger") == "backend.access"} >= {
        f"live-{n}" for n in range(7)
    }


# -- progress bars ---------------------------------------------------------------------------------
def test_reindex_shows_a_progress_bar_with_its_rate_only_when_asked(runner, db_session):
    for code in ("PA", "PB", "PC"):
        AgencyFactory(code=code)
    quiet = runner.invoke(args=["search", "reindex", "--index", "agencies"])
    shown = runner.invoke(args=["search", "reindex", "--index", "agencies", "--progress"])
    assert quiet.exit_code == shown.exit_code == 0, shown.output
    assert quiet.stderr == ""  # not a terminal, not asked
    assert re.search(r"agencies: 100%.*3/3 .*rows/s", shown.stderr), shown.stderr
    # The same final line (but for the new index's name and the time taken).
    assert [re.sub(r" in \S+ \([\d.]+s\)", "", out.stdout) for out in (quiet, shown)] == ["agencies: 3 documents\n"] * 2


def test_transparency_verify_shows_its_progress_when_asked(runner, db_session):
    shown = runner.invoke(args=["transparency", "verify", "--progress"])
    assert shown.exit_code == 0, shown.output
    assert "transparency log" in shown.stderr and shown.stdout.startswith("ok:")


# -- what the code counts --------------------------------------------------------------------------
def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_scheduler_counts_each_job_run_and_failure(app, db_session):
    def fails() -> None:
        raise RuntimeError("a job that fails")

    jobs = [Job(f"obs-ok-{SESSION_TAG}", 3600, lambda: "done"), Job(f"obs-fail-{SESSION_TAG}", 3600, fails)]
    before = {job.name: counted("sanxiang_scheduler_job_runs_total", job=job.name) for job in jobs}
    Scheduler(app, jobs).run_due({})
    for job in jobs:
        assert counted("sanxiang_scheduler_job_runs_total", job=job.name) == before[job.name] + 1
    assert counted("sanxiang_scheduler_job_failures_total", job=jobs[0].name) == 0
    assert counted("sanxiang_scheduler_job_failures_total", job=jobs[1].name) == 1


def test_badge_checks_count_their_verdict_and_snapshot_reads(app, client):
    with app.test_request_context():
        token = tokens.issue("NONE", f"3505{SESSION_TAG}").token
    verdicts = counted("sanxiang_badge_verifications_total", result="invalid")
    reads = {result: counted("sanxiang_officer_snapshot_lookups_total", result=result) for result in ("hit", "miss")}
    for _ in range(2):
        assert client.get("/api/v1/badges/verify", query_string={"token": token}).get_json()["result"] == "invalid"
    assert counted("sanxiang_badge_verifications_total", result="invalid") == verdicts + 2
    assert counted("sanxiang_officer_snapshot_lookups_total", result="miss") == reads["miss"] + 1
    assert counted("sanxiang_officer_snapshot_lookups_total", result="hit") == reads["hit"] + 1

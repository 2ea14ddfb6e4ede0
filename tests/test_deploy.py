"""The production deployment of deploy/: the compose file against the Compose Specification's schema and the
project's rules (health checks, secrets only in env files); its app, search worker and scheduler started as the
compose file starts them, without Docker, on the test PostgreSQL, Redis and Elasticsearch; nginx's configuration
checked by nginx itself and a few requests proxied through it; the app trusting the proxy's headers."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import jsonschema
import pytest
import yaml
from flask import request

from backend import config as app_config
from backend.app import create_app
from backend.extensions.smorest import MESSAGES_ZH
from backend.keys import suite
from search_index import make_engine
from search_index.mappings import DEFINITIONS
from tests.conftest import base_config, temporary_database
from tests.support.live_server import agency_client, free_port, http_json
from tests.support.outages import wait_until
from tests.support.services import require, require_tool

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
NGINX_CONF = DEPLOY / "nginx" / "sanxiang.conf"
SCHEMA = ROOT / "tests" / "data" / "compose-spec" / "compose-spec.json"
# The services that run the application's code, each a process of its own.
APP_SERVICES = ("app", "search-worker", "scheduler")
# A variable whose name says it holds a secret never has its value in the compose file.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEYS?$|_KEY_")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines of an env file (comments and blank lines skipped)."""
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


# -- the compose file ------------------------------------------------------------------------------
def test_the_compose_file_follows_the_compose_specification():
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=lambda error: error.json_path)
    assert not errors, [f"{error.json_path}: {error.message}" for error in errors]


def test_the_schema_check_catches_a_wrong_compose_file():
    schema = json.loads(SCHEMA.read_text())
    wrong = compose()
    wrong["services"]["app"]["healthcheck"]["interval"] = ["15s"]
    wrong["services"]["app"]["restart_policy"] = "always"
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(wrong))) >= 2


def test_every_service_has_a_health_check_and_restarts():
    services = compose()["services"]
    assert set(services) >= {*APP_SERVICES, "nginx", "postgres", "redis", "elasticsearch"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), name
        assert service.get("restart") == "unless-stopped", name
    # The app's own checks ask /readyz: over HTTP, or in-process where the service serves no HTTP.
    for name in (*APP_SERVICES, "nginx"):
        check = " ".join(services[name]["healthcheck"]["test"])
        assert "/readyz" in check or check.endswith("health ready"), name


def test_no_secret_is_written_in_the_compose_file_and_env_files_hold_them():
    services = compose()["services"]
    for name, service in services.items():
        for variable, value in environment(service).items():
            assert not SECRET_NAME.search(variable), (name, variable)
            assert not re.search(r"://[^/@\s]*:[^/@\s]*@", value), (name, variable)  # no user:password@ in a URL
    for name in (*APP_SERVICES, "postgres"):
        files = services[name]["env_file"]
        assert files, name
        for file in files:
            path = DEPLOY / file
            example = path.with_name(path.name + ".example")
            assert example.exists(), example


def test_the_env_files_stay_out_of_git_and_their_examples_in():
    git = require_tool("git", "asks git which files it ignores")
    for name in (*APP_SERVICES, "postgres"):
        for file in compose()["services"][name]["env_file"]:
            path = DEPLOY / file
            example = path.with_name(path.name + ".example")
            ignored = subprocess.run([git, "check-ignore", "-q", str(path)], cwd=ROOT)
            assert ignored.returncode == 0, f"{path} is not ignored by git"
            tracked = subprocess.run([git, "check-ignore", "-q", str(example)], cwd=ROOT)
            assert tracked.returncode == 1, f"{example} is ignored by git"


def test_the_env_examples_hold_no_secret_and_only_known_settings():
    app_env = env_file(DEPLOY / "env" / "app.env.example")
    assert set(app_env) <= set(app_config.BY_NAME), set(app_env) - set(app_config.BY_NAME)
    assert app_env["APP_ENV"] == "production"
    for name in ("SECRET_KEY", "BADGE_SIGNING_KEYS", "TRANSPARENCY_SIGNING_KEYS"):
        assert app_env[name] == "", name
    assert env_file(DEPLOY / "env" / "postgres.env.example")["POSTGRES_PASSWORD"] == ""


def test_the_web_workers_leave_indexing_and_jobs_to_their_services():
    services = compose()["services"]
    for name in APP_SERVICES:
        env = environment(services[name])
        assert env["SEARCH_INDEXER_THREAD"] == "0" and env["SCHEDULER_THREAD"] == "0", name
        assert env["TRUSTED_PROXY_COUNT"] == "1", name
    assert services["search-worker"]["command"][-2:] == ["search", "worker"]
    assert services["scheduler"]["command"][-2:] == ["scheduler", "run"]
    # Only nginx is published.
    assert [name for name, service in services.items() if service.get("ports")] == ["nginx"]


def test_nginx_takes_bodies_as_large_as_the_app_does():
    size = re.search(r"^\s*client_max_body_size (\d+)m;", NGINX_CONF.read_text(), re.MULTILINE)
    assert size and int(size.group(1)) * 1024 * 1024 == app_config.BY_NAME["MAX_CONTENT_LENGTH"].default


# -- the app trusts the proxy ----------------------------------------------------------------------
@pytest.mark.parametrize("count", [0, 1])
def test_the_app_trusts_the_forwarded_headers_of_as_many_proxies_as_configured(database_url, tmp_path, count):
    app = create_app({**base_config(database_url, tmp_path), "TRUSTED_PROXY_COUNT": count})
    app.add_url_rule("/_seen", "seen", lambda: {"address": request.remote_addr, "scheme": request.scheme})
    seen = app.test_client().get(
        "/_seen",
        headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    # Behind one proxy the client is the address that proxy added (the last); one the client wrote is not trusted.
    expected = {"address": "203.0.113.7", "scheme": "https"} if count else {"address": "10.0.0.2", "scheme": "http"}
    assert seen.get_json() == expected


# -- the services started as compose starts them, without Docker -----------------------------------
def service_env(service: dict, overrides: dict[str, str]) -> dict[str, str]:
    """A service's environment: this machine's, its env file's example filled in, its compose settings, then
    the test's (the services' addresses, this test's own instance folder, prefixes and port)."""
    filled = env_file(DEPLOY / "env" / "app.env.example")
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **filled,
        **environment(service),
        **overrides,
    }


class Process:
    """A service's command, run from the repository root (the image's WORKDIR), its output in a file."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as `docker compose stop` sends; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return -9


def get(url: str, **kwargs) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10, **kwargs) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def answers(url: str) -> bool:
    """``url`` answers 200 (nothing listening yet: False)."""
    try:
        return get(url)[0] == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The app (its compose command: migrations, `search init`, gunicorn with deploy/gunicorn.conf.py) in
    production mode with the env example filled in; the worker and the scheduler commands, started by the test."""
    require("DATABASE_URL", "PostgreSQL")
    redis_url = require("REDIS_URL", "Redis")
    elasticsearch_url = require("ELASTICSEARCH_URL", "Elasticsearch")
    folder = tmp_path_factory.mktemp("deploy")
    services = compose()["services"]
    tag = uuid.uuid4().hex[:8]
    ed25519 = suite("ed25519")
    with temporary_database(folder) as database_url:
        port = free_port()
        overrides = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ELASTICSEARCH_URL": elasticsearch_url,
            # The test Elasticsearch has no smartcn plugin (tests/test_search_analyzer.py covers the refusal).
            "ELASTICSEARCH_TEXT_ANALYZER": "standard",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "BADGE_SIGNING_KEYS": json.dumps({"b1": ed25519.generate_pem().decode()}),
            "TRANSPARENCY_SIGNING_KEYS": json.dumps({"t1": ed25519.generate_pem().decode()}),
            "INSTANCE_PATH": str(folder / "instance"),
            "SEARCH_INDEX_PREFIX": f"dep{tag}",
            "CACHE_KEY_PREFIX": f"dep{tag}:",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_WORKERS": "2",
            "ACCESS_LOG": "",
            # Every request comes from 127.0.0.1 here.
            "COMPLAINT_RATE_LIMIT_PER_HOUR": "1000",
        }
        envs = {name: service_env(services[name], overrides) for name in APP_SERVICES}
        app = Process(services["app"]["command"], envs["app"])
        url = f"http://127.0.0.1:{port}"
        try:
            up = wait_until(lambda: app.process.poll() is not None or answers(f"{url}/healthz"), 90, 0.2)
            assert up is not None and app.process.poll() is None, app.output()[-3000:]
            yield {"url": url, "envs": envs, "services": services, "database_url": database_url, "app": app}
        finally:
            assert app.stop() == 0, app.output()[-3000:]
            engine = make_engine({**overrides, "SEARCH_EMBEDDED_PATH": ""})
            for definition in DEFINITIONS.values():
                engine.drop(definition)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.elasticsearch
def test_the_worker_service_indexes_what_is_published_and_the_scheduler_runs_the_jobs(stack, tmp_path):
    url, services = stack["url"], stack["services"]
    app = create_app({**base_config(stack["database_url"], tmp_path), "ELASTICSEARCH_URL": None})
    credentials = agency_client(app)
    token = http_json("POST", f"{url}/api/v1/auth/token", credentials)["access_token"]
    item = http_json(
        "PUT",
        f"{url}/api/v1/publish/disclosures/deploy-1",
        PENALTY,
        headers={"Authorization": f"Bearer {token}"},
    )

    def found() -> bool:
        query = urllib.parse.quote("茶叶")
        return item["id"] in [hit["id"] for hit in http_json("GET", f"{url}/api/v1/disclosures?q={query}")["items"]]

    # The web workers do not index (their threads are off): the change waits in the outbox for the worker.
    status = subprocess.run(
        [*services["search-worker"]["command"][:3], "search", "status"],
        cwd=ROOT,
        env=stack["envs"]["search-worker"],
        capture_output=True,
        text=True,
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout.splitlines()[-1])["pending"] >= 1
    assert not found()

    worker = Process(services["search-worker"]["command"], stack["envs"]["search-worker"])
    scheduler = Process(services["scheduler"]["command"], stack["envs"]["scheduler"])
    try:
        assert wait_until(found, 60, 0.2) is not None, worker.output()[-3000:]
        assert wait_until(lambda: "job expire-disclosures" in scheduler.output(), 60, 0.2) is not None, (
            scheduler.output()[-3000:]
        )
        ready = http_json("GET", f"{url}/readyz")
        assert ready["status"] == "ok", ready
        # The worker's and the scheduler's own health check.
        for name in ("search-worker", "scheduler"):
            check = subprocess.run(
                services[name]["healthcheck"]["test"][1:], cwd=ROOT, env=stack["envs"][name], capture_output=True
            )
            assert check.returncode == 0, (name, check.stdout, check.stderr)
            assert json.loads(check.stdout.decode().splitlines()[-1])["checks"]["database"]["ok"]
    finally:
        # SIGTERM ends both cleanly: exit code 0, not a traceback.
        worker_code, scheduler_code = worker.stop(), scheduler.stop()
    assert worker_code == 0, worker.output()[-3000:]
    assert scheduler_code == 0, scheduler.output()[-3000:]
    assert "Traceback" not in worker.output() + scheduler.output()


PENALTY = {
    "phase": "post",
    "type": "decision",
    "category": "penalty",
    "title": "泉州市某茶叶有限公司销售标签不符合规定的茶叶行政处罚决定书",
    "content": "当事人销售的预包装茶叶未标注生产日期，决定罚款三千元。",
    "legal_basis": "《中华人民共和国食品安全法》第一百二十五条",
    "document_no": "泉市监罚〔2026〕901号",
    "decision_date": "2026-11-20",
    "outcome": "罚款",
    "subject_type": "organization",
    "subject_name": "泉州市某茶叶有限公司",
    "subject_id": "91350500MA2Y00001X",
    "details": {
        "penalty_classes": ["fine"],
        "violation_type": "销售标签不符合规定的食品",
        "violation_facts": "当事人销售的预包装茶叶未标注生产日期。",
        "penalty_content": "罚款三千元",
        "fine_amount": "3000",
        "legal_representative": "林某某",
    },
}


# -- nginx -----------------------------------------------------------------------------------------
# This helper's own ports (deploy21: ports ending in 1).
NGINX_HTTP, NGINX_HTTPS, NGINX_HEALTH = 61801, 61841, 61881


@pytest.fixture
def nginx(stack, tmp_path):
    """nginx with the shipped configuration, a throwaway self-signed certificate, in front of the app; only
    what a container's paths and ports would be differs (Debian's nginx: `bash deploy/test-tools.sh`)."""
    binary = require_tool("nginx", "bash deploy/test-tools.sh installs nginx-light")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    port = urllib.parse.urlsplit(stack["url"]).port
    site = NGINX_CONF.read_text()
    for shipped, local in (
        ("/etc/nginx/tls/", f"{tmp_path}/"),
        ("server app:8000;", f"server 127.0.0.1:{port};"),
        ("listen 80 default_server;", f"listen 127.0.0.1:{NGINX_HTTP} default_server;"),
        ("listen 443 ssl default_server;", f"listen 127.0.0.1:{NGINX_HTTPS} ssl default_server;"),
        ("listen [::]:80 default_server;", ""),
        ("listen [::]:443 ssl default_server;", ""),
        ("listen 127.0.0.1:8081;", f"listen 127.0.0.1:{NGINX_HEALTH};"),
    ):
        assert shipped in site, shipped
        site = site.replace(shipped, local)
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  {temp}\n  include {tmp_path}/site.conf;\n}}\n"
    )
    command = [binary, "-p", f"{tmp_path}/", "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    subprocess.run(command, check=True)  # daemonizes
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))
        assert wait_until(lambda: answers(f"http://127.0.0.1:{NGINX_HEALTH}/readyz"), 20, 0.1) is not None
        yield context
    finally:
        subprocess.run([*command, "-s", "quit"], check=True)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.elasticsearch
def test_nginx_terminates_tls_redirects_http_and_answers_its_refusals_in_the_error_shape(nginx):
    base = f"https://localhost:{NGINX_HTTPS}"
    status, headers, body = get(f"{base}/readyz", context=nginx)
    assert status == 200 and json.loads(body)["checks"]["database"]["ok"]
    assert headers["Strict-Transport-Security"] == "max-age=63072000"

    connection = http.client.HTTPConnection("127.0.0.1", NGINX_HTTP, timeout=10)
    connection.request("GET", "/api/v1/disclosures?q=x", headers={"Host": "zhifa.example.gov.cn"})
    redirect = connection.getresponse()
    assert redirect.status == 301
    assert redirect.getheader("Location") == "https://zhifa.example.gov.cn/api/v1/disclosures?q=x"
    connection.close()

    # A body over the limit is refused on its Content-Length, before it is sent, in the app's error shape.
    connection = http.client.HTTPSConnection("localhost", NGINX_HTTPS, timeout=10, context=nginx)
    connection.putrequest("POST", "/api/v1/complaints")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(9 * 1024 * 1024))
    connection.endheaders()
    too_large = connection.getresponse()
    assert too_large.status == 413 and too_large.getheader("Content-Type") == "application/json"
    assert json.loads(too_large.read()) == {
        "code": 413,
        "status": "Request Entity Too Large",
        "message": MESSAGES_ZH[413],
    }
    connection.close()

"""APP_ENV=production refuses to start on what would fail later, naming the variable in one line: a public
address citizens cannot reach or that is not HTTPS, a missing or short SECRET_KEY, a key ring without a key.
A ring emptied at run time makes what needs a signature answer 503 (never 500) and /readyz say which
variable is missing; the transparency key rotates with checkpoints keeping their key."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend import create_app
from backend.config import ConfigError
from backend.extensions import db
from backend.transparency import services as transparency
from tests.conftest import base_config
from tests.support.live_server import ROOT, free_port

PUBLIC = "https://zfgs.quanzhou.gov.cn"


def key_set(kid: str = "k20260101000000") -> str:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return json.dumps({kid: pem.decode()})


def production(database_url, tmp_path, **overrides):
    config = {
        **base_config(database_url, tmp_path),
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 48,
        "PUBLIC_BASE_URL": PUBLIC,
        "BADGE_SIGNING_KEYS": key_set(),
        "TRANSPARENCY_SIGNING_KEYS": key_set(),
    }
    return {**config, **overrides}


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8000",
        "https://127.0.0.1",
        "https://localhost:8443",
        "http://zfgs.quanzhou.gov.cn",
        "https://[::1]",
    ],
)
def test_a_public_address_citizens_cannot_reach_over_https_is_refused(database_url, tmp_path, address):
    with pytest.raises(ConfigError, match=r"^PUBLIC_BASE_URL="):
        create_app(production(database_url, tmp_path, PUBLIC_BASE_URL=address))


def test_a_short_secret_key_is_refused(database_url, tmp_path):
    with pytest.raises(ConfigError, match=r"^SECRET_KEY must be set"):
        create_app(production(database_url, tmp_path, SECRET_KEY="changeme"))


@pytest.mark.parametrize("ring", ["BADGE", "TRANSPARENCY"])
def test_a_key_ring_without_a_key_is_refused_naming_its_variable(database_url, tmp_path, ring):
    with pytest.raises(ConfigError, match=f"^{ring}_SIGNING_KEYS must be set"):
        create_app(production(database_url, tmp_path, **{f"{ring}_SIGNING_KEYS": None}))


def test_keys_in_files_are_enough(database_url, tmp_path):
    """A deployment may keep the PEM files in the key folders instead of the variables."""
    for ring in ("badge_keys", "transparency_keys"):
        (tmp_path / ring).mkdir()
        (tmp_path / ring / "k20260101000000.pem").write_text(
            Ed25519PrivateKey.generate()
            .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            .decode()
        )
    config = production(database_url, tmp_path, BADGE_SIGNING_KEYS=None, TRANSPARENCY_SIGNING_KEYS=None)
    app = create_app(config)
    app.extensions["officer_snapshots"].stop()
    assert app.extensions["badge_keys"].signing_key().kid == "k20260101000000"


def test_a_complete_production_configuration_starts_and_reports_its_keys(database_url, tmp_path):
    app = create_app(production(database_url, tmp_path))
    try:
        checks = app.test_client().get("/readyz").get_json()["checks"]
        assert checks["signing_keys"] == {"ok": True, "badge": "k20260101000000", "transparency": "k20260101000000"}
    finally:
        app.extensions["officer_snapshots"].stop()


def gunicorn(**env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.endswith(("_SIGNING_KEYS", "SECRET_KEY"))}
    environment.update(PORT=str(free_port()), WEB_WORKERS="1", APP_ENV="production", **env)
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "s" * 48}, "PUBLIC_BASE_URL="),
        ({"SECRET_KEY": "s" * 48, "PUBLIC_BASE_URL": PUBLIC}, "BADGE_SIGNING_KEYS must be set"),
    ],
)
def test_gunicorn_stops_with_one_line_naming_the_variable(tmp_path, env, named):
    """Before any worker forks: no traceback, no restart loop, exit status 1."""
    folders = {
        "INSTANCE_PATH": str(tmp_path),
        "BADGE_KEYS_DIR": str(tmp_path / "b"),
        "TRANSPARENCY_KEYS_DIR": str(tmp_path / "t"),
    }
    done = gunicorn(**folders, **env)
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if "configuration:" in line]
    assert len(lines) == 1 and named in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr


def grow_the_log(app) -> None:
    with app.app_context():
        transparency.append([transparency.event("test", "item", "MKT", "test", committed="0" * 64)])
        db.session.commit()


def test_a_ring_emptied_at_run_time_answers_503_and_readyz_names_the_variable(
    app, db_session, client, tmp_path, monkeypatch
):
    """Keys in files can be removed while the service runs: a checkpoint of a new size then has nothing to sign
    with, so it is 503 with Retry-After (not 500), and /readyz is degraded, naming TRANSPARENCY_SIGNING_KEYS."""
    ring = app.extensions["transparency_keys"]
    monkeypatch.setattr(ring, "directory", tmp_path / "emptied")
    monkeypatch.setattr(ring, "_loaded_at", 0.0)
    grow_the_log(app)
    response = client.get("/api/v1/transparency/checkpoint")
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"]
    assert "TRANSPARENCY_SIGNING_KEYS" in response.get_json()["errors"]["signing_key"][0]
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "degraded"
    assert "TRANSPARENCY_SIGNING_KEYS" in ready["checks"]["signing_keys"]["error"]
    monkeypatch.undo()
    ring._loaded_at = 0.0


def test_the_transparency_key_rotates_and_old_checkpoints_keep_verifying(app, db_session, runner, client):
    before = client.get("/api/v1/transparency/checkpoint").get_json()
    rotated = runner.invoke(args=["transparency", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    kid = rotated.output.split()[-1]
    grow_the_log(app)
    after = client.get("/api/v1/transparency/checkpoint").get_json()
    assert after["tree_size"] > before["tree_size"], (before, after)
    assert after["key_id"] == kid != before["key_id"]
    published = {key["kid"] for key in client.get("/api/v1/transparency/keys").get_json()["keys"]}
    assert {before["key_id"], kid} <= published
    verified = runner.invoke(args=["transparency", "verify"])
    assert verified.exit_code == 0, verified.output

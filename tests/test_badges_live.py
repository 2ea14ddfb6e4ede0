"""Across processes and real tools: a second gunicorn worker, a real QR decoder, a real browser."""

import io
import shutil
import subprocess
import time
from urllib.parse import urlsplit

import pytest

from backend.officers import tokens
from tests.factories.officers import officer
from tests.support.live_server import LiveServer, agency_client, http_json, server_env
from tests.support.services import IN_CI

BADGE = "35050012345"


def need(tool_found: bool, what: str) -> None:
    if tool_found:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {what} is missing (bash deploy/test-tools.sh installs it)")
    pytest.skip(f"{what} not installed (bash deploy/test-tools.sh)")


def live_server_env(app, tmp_path) -> tuple:
    """An agency and its client in ``app``'s (committed) database, and the environment a live server of that
    database starts with."""
    credentials = agency_client(app)
    return app, server_env(app, tmp_path, VERIFY_RATE_LIMIT_PER_MINUTE="0"), credentials


@pytest.fixture
def live_env(committed, tmp_path):
    return live_server_env(committed, tmp_path)


def register(server: LiveServer, credentials: dict) -> dict:
    token = http_json("POST", f"{server.url}/api/v1/auth/token", credentials)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    http_json("PUT", f"{server.url}/api/v1/publish/officers/{BADGE}", officer(), headers)
    return headers


def test_the_printed_badge_qr_decodes_to_a_url_that_verifies(client, auth, db_session, app):
    from PIL import Image

    from tests.factories import AgencyFactory
    from tests.support.qr import decode_qr

    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    client.put(f"/api/v1/publish/officers/{BADGE}", json=officer(), headers=headers)
    png = client.get(f"/api/v1/publish/officers/{BADGE}/badge.png", headers=headers)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    (url,) = decode_qr(Image.open(io.BytesIO(png.data)))
    assert url.startswith(app.config["PUBLIC_BASE_URL"] + "/v/")
    page = client.get(urlsplit(url).path).get_data(as_text=True)
    assert 'data-result="valid"' in page and "李明" in page
    svg = client.get(f"/api/v1/publish/officers/{BADGE}/badge.svg", headers=headers)
    assert svg.status_code == 200 and "李明" in svg.get_data(as_text=True)


@pytest.mark.slow
def test_the_verify_page_in_a_real_browser(live_env, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    need(browser is not None, "chromium")
    app, env, credentials = live_env
    with app.test_request_context():
        token = tokens.issue("MKT", BADGE).token
    with LiveServer(env, workers=1) as server:
        headers = register(server, credentials)
        pages = {}
        for state in ("active", "suspended"):
            if state == "suspended":
                http_json(
                    "POST",
                    f"{server.url}/api/v1/publish/officers/{BADGE}/status",
                    {"status": "suspended", "reason": "调离执法岗位"},
                    headers,
                )
                time.sleep(1.1)  # at most a second, however officer copies are kept
            shot = tmp_path / f"{state}.png"
            dom = subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=390,844",
                    "--dump-dom",
                    f"{server.url}/v/{token}",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=390,844",
                    f"--screenshot={shot}",
                    f"{server.url}/v/{token}",
                ],
                capture_output=True,
                timeout=60,
                check=True,
            )
            pages[state] = dom
            assert shot.stat().st_size > 1000
        assert 'data-result="valid"' in pages["active"] and ">有效<" in pages["active"]
        assert 'data-result="suspended"' in pages["suspended"] and ">暂扣<" in pages["suspended"]
        assert "李明" in pages["active"]

"""README.md's "Publish your first item" session, run verbatim by bash against a server set up as `make run`
sets one up (demo data loaded): what an integrator pastes in the first hour works."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import temporary_database
from tests.support.live_server import ROOT, http_json, make_run_server
from tests.support.services import require_tool

SECTION = "## Publish your first item"


def readme_session() -> str:
    """The first ``sh`` code block of the README's section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split(f"\n{SECTION}\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```sh\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert block, f"no sh block under {SECTION}"
    return block.group(1)


def json_lines(output: str) -> list[dict]:
    """The JSON answers the session printed, one a line."""
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def demo_server(tmp_path):
    require_tool("curl", "bash deploy/test-tools.sh installs it")
    with temporary_database(tmp_path) as url, make_run_server(url, tmp_path) as server:
        yield server


def test_the_readme_session_publishes_finds_and_verifies(demo_server, tmp_path):
    session = readme_session()
    # Only the variables the block itself defines with a default change: the free port, and the venv's flask.
    assert "BASE=${BASE:-http://127.0.0.1:8000}" in session and "FLASK=${FLASK:-.venv/bin/flask}" in session
    flask = Path(sys.executable).parent / "flask"
    env = {**demo_server.env, "BASE": demo_server.url, "FLASK": str(flask)}
    for run in (1, 2):  # a second run changes nothing and still works
        done = subprocess.run(
            ["bash", "-eu", "-c", session], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (run, done.stdout, done.stderr)
        whoami, item, found, public, officer = json_lines(done.stdout)
        assert whoami["agency"] == "11350500MB0100002E" and whoami["client_id"].startswith("ac_")
        assert (item["type"], item["category"], item["status"]) == ("decision", "penalty", "published")
        assert item["details"]["fine_amount"] == "3000.00" and item["external_id"] == "first-penalty-1"
        assert item["id"] in [hit["id"] for hit in found["items"]]
        assert public["id"] == item["id"] and public["title"] == item["title"] and public["url"] == item["public_url"]
        assert officer["badge_no"] == "35050020261" and officer["status"] == "active"
        assert officer["verify_url"].startswith(f"{demo_server.url}/v/")
        assert done.stdout.splitlines()[-1] == 'data-result="valid"'
    # What citizens see, asked here rather than through the session.
    hits = http_json("GET", f"{demo_server.url}/api/v1/disclosures?q=%E8%8C%B6%E5%8F%B6")["items"]
    assert [hit["id"] for hit in hits] == [item["id"]]
    verified = http_json(
        "GET", f"{demo_server.url}/api/v1/badges/verify?token={officer['verify_url'].rsplit('/', 1)[1]}"
    )
    assert verified["result"] == "valid" and verified["officer"]["name"] == "陈立"

"""Screenshots of every page of the site tour (tests/support/site_tour.py) at a phone's and a desktop's width.

    make screenshots        # or: .venv/bin/python -m tools.screenshots [folder]

A throwaway SQLite database is set up as ``make run`` sets one up (migrations, search, demo data), given the
tour's data, and served by gunicorn; Chromium then opens each page and state and writes
``docs/screenshots/{page}-{phone|desktop}.png`` (whole pages). Needs Playwright and Debian's Chromium
(``bash deploy/test-tools.sh``), as the browser tests do.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from backend.app import create_app
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.live_server import ROOT, make_run_server
from tests.support.site_tour import SERVER_ENV, seed, wait_until_searchable, walk

OUT = ROOT / "docs" / "screenshots"


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):  # a page gone from the tour leaves no picture behind
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        server = make_run_server(f"sqlite:///{folder}/tour.sqlite3", Path(folder), workers=1)
        server.env.update(SERVER_ENV)
        # The tour's data goes in through an app of the same database, instance folder, secret and keys.
        seeding = {key: server.env[key] for key in ("DATABASE_URL", "INSTANCE_PATH", "REDIS_URL", "ELASTICSEARCH_URL")}
        os.environ.update(seeding, SCHEDULER_THREAD="0", SEARCH_INDEXER_THREAD="0")  # create_app reads these
        facts = seed(create_app())
        with server, sync_playwright() as playwright:
            wait_until_searchable(server.url, facts)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for visit, width, page in walk(browser, server.url, facts):
                    path = out / f"{visit.name}-{width}.png"
                    page.screenshot(path=path, full_page=True)
                    print(path.relative_to(ROOT))
            finally:
                browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)

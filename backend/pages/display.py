"""How a citizen chose to read the public pages: 大字模式 (large text), kept in a cookie the server reads.

工业和信息化部's 适老化 guidelines (2021, 《互联网网站适老化通用设计规范》) ask public-service sites for a mode with
larger text, wider line spacing and stronger contrast that a user turns on once and keeps (static/site.css).
A cookie read here, rather than a script and localStorage, keeps the pages free of script (their
Content-Security-Policy allows none, backend/security_headers.py) and renders the chosen size from the first
byte, the badge page's fast path included (its stencils are kept per size: backend/pages/verify_page.py).
"""

from __future__ import annotations

from typing import Any

from werkzeug.http import parse_cookie

TEXT_SIZE_COOKIE = "text_size"
LARGE = "large"
# A year: a preference, not a session; it names no one.
TEXT_SIZE_MAX_AGE = 365 * 24 * 3600


def large_text(environ: dict[str, Any]) -> bool:
    """Whether the request (a WSGI environ) asks for the large-text pages."""
    return parse_cookie(environ).get(TEXT_SIZE_COOKIE) == LARGE

"""Security headers on every response, set in one place: the outermost WSGI layer (``app._wrap_wsgi``).

Being outside everything, it also covers what never reaches a Flask view: the badge fast path
(``pages.fast_path``), the input guard's refusals, static files and error pages. One policy per kind of
response, chosen from the response's own ``Content-Type``:

- a page (``text/html``): styles and images from this origin, forms posting to it, no script at all;
- Swagger UI (``/api/docs``): the same, plus its own scripts from this origin and exactly the inline
  script of the page served, allowed by its SHA-256 hash computed from the body as it leaves the app
  (so a new flask-smorest template is allowed as it is, and nothing else is);
- anything else (JSON, CSV, images, stylesheets): nothing may be loaded or framed in its name.

``Referrer-Policy: same-origin`` rather than ``no-referrer``: badge tokens travel in page paths
(``/v/<token>``), so a link followed to another site (an attachment, a government portal) must carry no
``Referer``; within the platform the header leaks nothing the server does not already hold, and our own
access logs keep telling which page a request came from. ``X-Frame-Options: DENY`` says
``frame-ancestors 'none'`` to old browsers.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI draws its icons from data: URIs and fetches the OpenAPI document with script.
DOCS_POLICY = (
    "default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
SET = frozenset(name.lower() for name in (*COMMON, "Content-Security-Policy"))
# An inline script: a <script> element without a src attribute, and its text as the browser hashes it.
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def script_hashes(html: bytes) -> list[str]:
    """CSP source expressions allowing exactly the inline scripts of ``html``."""
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(html)
    ]


def policy(content_type: str) -> str:
    """The Content-Security-Policy of a response of this type (a page, or anything else)."""
    return PAGE_POLICY if _is_html(content_type) else DATA_POLICY


def docs_policy(page: bytes) -> str:
    """Swagger UI's policy: its scripts from this origin, and the inline ones of ``page`` by their hash."""
    return DOCS_POLICY.format(scripts=" ".join(["'self'", *script_hashes(page)]))


class SecurityHeaders:
    """WSGI middleware in front of ``app``; ``docs_path`` is Swagger UI's page, whose body it reads to hash."""

    def __init__(self, app: Callable, docs_path: str) -> None:
        self.app = app
        self.docs_path = docs_path

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == self.docs_path:
            return self.docs(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            return start_response(status, with_headers(headers), exc_info)

        return self.app(environ, start)

    def docs(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """Swagger UI's page is small and rarely asked for: read it whole, then send it with its hashes."""
        started: list[tuple[str, list[tuple[str, str]], Any]] = []
        chunks = self.app(environ, lambda status, headers, exc_info=None: started.append((status, headers, exc_info)))
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers, exc_info = started[-1]
        content_security = docs_policy(body) if _is_html(_content_type(headers)) else None
        start_response(status, with_headers(headers, content_security), exc_info)
        return [body]


def with_headers(headers: list[tuple[str, str]], content_security: str | None = None) -> list[tuple[str, str]]:
    """``headers`` with ours in place of any the app set; the policy by content type unless given."""
    kept = [(name, value) for name, value in headers if name.lower() not in SET]
    return [
        *kept,
        *COMMON.items(),
        ("Content-Security-Policy", content_security or policy(_content_type(headers))),
    ]


def _content_type(headers: list[tuple[str, str]]) -> str:
    return next((value for name, value in headers if name.lower() == "content-type"), "")


def _is_html(content_type: str) -> bool:
    return content_type.lower().startswith("text/html")

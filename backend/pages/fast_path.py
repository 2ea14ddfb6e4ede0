"""The badge check, served without the framework's per-request work.

A scan is the platform's hottest request: every QR a citizen points a camera at ends in
``GET /v/<token>`` (the page a phone camera opens) or ``GET /api/v1/badges/verify?token=…`` (what the
mini-program calls). Through Flask and flask-smorest either costs a request context, URL routing, the
session cookie machinery, webargs parsing and a schema round trip or a template render, several times
what the check itself costs (a remembered signature, a cached officer snapshot, one scan-log append).

:class:`VerifyFastPath` sits in front of the Flask application (inside ProxyFix, so the client address is
already the real one) and answers the *well-formed* request itself, at the paths of the routes it shadows
(read from the app's URL map when it is built, so a route moved is a fast path moved):

- the API: GET, exactly that path, a query string of exactly one ``token`` made of base64url characters
  and dots, no longer than the schema allows. It runs the same service (``services.verify``), the same
  rate limit, the same schema and the same JSON provider as the documented route in ``officers/routes.py``;
- the page: GET ``/v/`` and a token of those characters (the query string is unused, as by the route). It
  runs the same service, rate limit and receipt as ``pages.routes.verify_page`` and takes the HTML from
  the same function (``pages.verify_page.verify_page_html``).

Everything else — another method, a missing, repeated or percent-encoded token, an extra parameter, the
photo — goes to Flask, which answers it (422 and so on) exactly as before. tests/test_badges.py holds both
paths to byte-identical responses.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context

from backend.errors import RateLimited, error_body
from backend.extensions.database import reading
from backend.officers import services
from backend.officers.limits import limit_verification
from backend.officers.routes import Verify, badges_blp
from backend.officers.schemas import VerificationSchema
from backend.pages.routes import blp as pages_blp
from backend.pages.routes import limited_page, verify_page
from backend.pages.verify_page import VERIFY_PAGE_HEADERS, verify_page_html
from backend.request_log import ROUTE

if TYPE_CHECKING:
    from flask import Flask

# The schema's bound (VerifyArgsSchema: 1..2048 characters); base64url and the two dots of a JWS.
_QUERY = re.compile(r"token=([A-Za-z0-9_\-.]{1,2048})")
# The badge page's token, of those characters only (its route takes any path; the query is unused).
_PAGE_TOKEN = re.compile(r"([A-Za-z0-9_\-.]{1,2048})")
# What the paths of the routes the fast path shadows are read from: their endpoints, named from the views.
VERIFY_ENDPOINT = f"{badges_blp.name}.{Verify.__name__}"
PAGE_ENDPOINT = f"{pages_blp.name}.{verify_page.__name__}"


def shadowed_paths(app: Flask) -> tuple[str, str]:
    """The API route's path and the badge page's prefix, as the app routes them (call once the blueprints
    are registered). A route that no longer fits (one gone, the API's taking a path argument, the page's
    token not at its end) stops the start: the fast path would otherwise turn itself off without a word."""
    urls = app.url_map.bind("localhost")
    verify_path = urls.build(VERIFY_ENDPOINT)
    marker = "T"
    page = urls.build(PAGE_ENDPOINT, {"token": marker})
    if not page.endswith(f"/{marker}"):
        raise RuntimeError(f"the verify fast path cannot shadow {verify_path!r} and {page!r}")
    return verify_path, page.removesuffix(marker)


class VerifyFastPath:
    def __init__(self, app: Flask, fallback) -> None:
        self.app = app
        self.fallback = fallback
        self.schema = VerificationSchema()
        self.verify_path, self.page_prefix = shadowed_paths(app)
        # The rules logged and counted for the requests it answers (backend/request_log.py), as Flask's would be.
        self.verify_rule = next(app.url_map.iter_rules(VERIFY_ENDPOINT)).rule
        self.page_rule = next(app.url_map.iter_rules(PAGE_ENDPOINT)).rule

    def __call__(self, environ: dict[str, Any], start_response):
        if environ.get("REQUEST_METHOD") != "GET":
            return self.fallback(environ, start_response)
        path = environ.get("PATH_INFO", "")
        if path == self.verify_path:
            match = _QUERY.fullmatch(environ.get("QUERY_STRING", ""))
            answer, rule = self.answer, self.verify_rule
        elif path.startswith(self.page_prefix):
            match = _PAGE_TOKEN.fullmatch(path, len(self.page_prefix))
            answer, rule = self.page, self.page_rule
        else:
            match = answer = rule = None
        if match is None:
            return self.fallback(environ, start_response)
        environ[ROUTE] = rule
        # Inside a test's or CLI's app context, use it (as Flask's own request context would).
        with reading():
            if has_app_context() and current_app._get_current_object() is self.app:
                return self.guarded(answer, match.group(1), environ, start_response)
            with self.app.app_context():
                return self.guarded(answer, match.group(1), environ, start_response)

    def guarded(self, answer, token: str, environ: dict[str, Any], start_response):
        """``answer``, or what Flask answers the route's failure with (the database down: 503 and
        Retry-After, JSON or the page), as it would had the route raised it."""
        try:
            return answer(token, environ, start_response)
        except Exception as error:
            with self.app.request_context(environ):
                try:
                    handled = self.app.handle_user_exception(error)
                except Exception as unhandled:
                    handled = self.app.handle_exception(unhandled)
                return self.app.make_response(handled)(environ, start_response)

    def answer(self, token: str, environ: dict[str, Any], start_response):
        try:
            limit_verification(environ.get("REMOTE_ADDR") or "-")
        except RateLimited as error:
            response = self.app.json.response(error_body(error))
            response.status_code = error.status
            response.headers.update(error.headers)
            return response(environ, start_response)
        # The body and headers the JSON provider's response() would make (the route's own path), without
        # building a werkzeug Response for them: tests hold the two to identical status, headers and bytes.
        json = self.app.json
        pretty = (json.compact is None and self.app.debug) or json.compact is False
        layout: dict[str, Any] = {"indent": 2} if pretty else {"separators": (",", ":")}
        body = f"{json.dumps(self.schema.dump(services.verify(token)), **layout)}\n".encode()
        start_response("200 OK", [("Content-Type", json.mimetype), ("Content-Length", str(len(body)))])
        return [body]

    def page(self, token: str, environ: dict[str, Any], start_response):
        """``GET /v/<token>`` as pages.routes.verify_page answers it (the page comes from its stencil)."""
        try:
            limit_verification(environ.get("REMOTE_ADDR") or "-")
        except RateLimited as limited:
            with self.app.request_context(environ):
                return self.app.make_response(limited_page(limited))(environ, start_response)
        verification = services.verify(token)
        body = verify_page_html(verification, token, services.scan_receipt(verification), environ).encode()
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response("200 OK", headers + list(VERIFY_PAGE_HEADERS.items()))
        return [body]

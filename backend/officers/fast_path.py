"""The badge check, served without the framework's per-request work.

A scan is the platform's hottest request: every QR a citizen points a camera at ends in
``GET /api/v1/badges/verify?token=…``. Through Flask and flask-smorest it costs a request context,
URL routing, the session cookie machinery, webargs parsing and a schema round trip, several times what
the check itself costs (a remembered signature, a cached officer snapshot, one scan-log append).

:class:`VerifyFastPath` sits in front of the Flask application (inside ProxyFix, so the client address is
already the real one) and answers the *well-formed* request itself: GET, exactly that path, a query string
of exactly one ``token`` made of base64url characters and dots, no longer than the schema allows. It runs
the same service (``services.verify``), the same rate limit, the same schema and the same JSON provider
as the documented route in ``routes.py``. Everything else — another method, a missing, repeated or
percent-encoded token, an extra parameter — goes to Flask, which answers it (422 and so on) exactly as
before. tests/test_badges.py holds both paths to byte-identical responses.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context

from backend.errors import RateLimited, error_body
from backend.extensions.database import reading

if TYPE_CHECKING:
    from flask import Flask

VERIFY_PATH = "/api/v1/badges/verify"
# The schema's bound (VerifyArgsSchema: 1..2048 characters); base64url and the two dots of a JWS.
_QUERY = re.compile(r"token=([A-Za-z0-9_\-.]{1,2048})")


class VerifyFastPath:
    def __init__(self, app: Flask, fallback) -> None:
        from .schemas import VerificationSchema

        self.app = app
        self.fallback = fallback
        self.schema = VerificationSchema()

    def __call__(self, environ: dict[str, Any], start_response):
        if environ.get("PATH_INFO") != VERIFY_PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.fallback(environ, start_response)
        match = _QUERY.fullmatch(environ.get("QUERY_STRING", ""))
        if match is None:
            return self.fallback(environ, start_response)
        # Inside a test's or CLI's app context, use it (as Flask's own request context would).
        with reading():
            if has_app_context() and current_app._get_current_object() is self.app:
                return self.answer(match.group(1), environ, start_response)
            with self.app.app_context():
                return self.answer(match.group(1), environ, start_response)

    def answer(self, token: str, environ: dict[str, Any], start_response):
        from . import routes, services

        try:
            routes.limit_verification(environ.get("REMOTE_ADDR") or "-")
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

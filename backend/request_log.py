"""One log line per request, a request id on every response, and the logs in JSON.

:class:`RequestLog` is the outermost WSGI layer (``app._wrap_wsgi``): it sees every answer of every layer
inside it — Flask's, the input guard's refusals, the badge fast path's — and so is the one place that times
them, counts them (``backend.metrics``), logs them and stamps ``X-Request-ID`` on them.

What a line holds is chosen, never copied from the request: the route *rule* (``/v/<token>``), not the path,
which carries badge tokens; no query string (query codes, tokens); no header (``Authorization``,
``X-Query-Code``); no body (passwords). Who asked is what the app proved: the agency client or admin user its
token named (``g.actor``, ``g.agency``), an admin page's user (``g.admin``), an exchange client
(``g.exchange``), noted by :func:`note_request` while Flask still holds the request.

The request id comes from an incoming ``X-Request-ID`` when it is short and of safe characters (a reverse
proxy's or a caller's, so one id follows the request through every log), else a new one; the app's own log
records made while the request runs carry it too (``request_id``).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from flask import g, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect
from werkzeug.wsgi import ClosingIterator

from backend import metrics

# The environ keys the layers inside note what they know in: the route rule matched, who asked.
ROUTE = "sanxiang.route"
ACTOR = "sanxiang.actor"
AGENCY = "sanxiang.agency"
HEADER = "X-Request-ID"
# Long enough for a UUID with dashes or a proxy's $request_id, nothing a log reader could be fooled by.
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

access_log = logging.getLogger("backend.access")
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def request_id(incoming: str | None) -> str:
    """The caller's id when it is valid, else a new one."""
    if incoming and VALID_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestLog:
    """WSGI middleware in front of ``app``: the request id in and out, then one access line and the metrics."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        rid = request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ["HTTP_X_REQUEST_ID"] = rid
        answered: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            answered.append(status)
            kept = [(name, value) for name, value in headers if name.lower() != "x-request-id"]
            return start_response(status, [*kept, (HEADER, rid)], exc_info)

        token = current_request_id.set(rid)
        try:
            body = self.app(environ, start)
        finally:
            current_request_id.reset(token)
        return ClosingIterator(body, lambda: self.finished(environ, rid, answered, started))

    @staticmethod
    def finished(environ: dict[str, Any], rid: str, answered: list[str], started: float) -> None:
        seconds = time.perf_counter() - started
        status = int(answered[-1].split(" ", 1)[0]) if answered else 0
        route = environ.get(ROUTE)
        method = environ.get("REQUEST_METHOD", "")
        access_log.info(
            "%s %s %s %.1f ms",
            method,
            route or "(no route)",
            status,
            seconds * 1000,
            extra={
                "request_id": rid,
                "method": method,
                "route": route,
                "status": status,
                "latency_ms": round(seconds * 1000, 2),
                "actor": environ.get(ACTOR),
                "agency": environ.get(AGENCY),
                "remote_addr": environ.get("REMOTE_ADDR"),
            },
        )
        metrics.observe_request(route, method, status, seconds)


def note_request(_error: BaseException | None = None) -> None:
    """Flask's teardown: note the route rule and who asked for the request's line, before the context ends.
    Read without loading anything: the database may be why the request failed."""
    environ = request.environ
    if request.url_rule is not None:
        environ[ROUTE] = request.url_rule.rule
    environ[ACTOR] = g.get("actor") or _named("admin", "username") or _named("exchange", "client_id")
    agency = g.get("agency")
    if agency is not None:
        environ[AGENCY] = inspect(agency).dict.get("code")


def _named(kind: str, attribute: str) -> str | None:
    """``kind:<name>`` for the account a view put in ``g.<kind>`` (an admin page's user, an exchange client)."""
    account = g.get(kind)
    name = inspect(account).dict.get(attribute) if account is not None else None
    return f"{kind}:{name}" if name else None


class RequestJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, adding the id of the request a record was made in."""

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        if "request_id" not in log_data and (rid := current_request_id.get()) is not None:
            log_data["request_id"] = rid


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of LOG_FORMAT: ``json`` (one object a line: time, level, logger, message, and each
    record's fields) or ``text`` (a line to read in a terminal)."""
    if log_format == "json":
        return RequestJsonFormatter(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    return logging.Formatter(TEXT_FORMAT)


class _Handler(logging.StreamHandler):
    """The handler configure_logging installs (told from others, so a second app replaces its formatter)."""


def configure_logging(log_format: str) -> None:
    """Every record to stderr in LOG_FORMAT, at INFO. A root logger already given handlers by someone else (a
    test runner) keeps them."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if isinstance(handler, _Handler)]
    if ours:
        for handler in ours:
            handler.setFormatter(formatter(log_format))
    elif not root.handlers:
        handler = _Handler(sys.stderr)
        handler.setFormatter(formatter(log_format))
        root.addHandler(handler)
    root.setLevel(logging.INFO)

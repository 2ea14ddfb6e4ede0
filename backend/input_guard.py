"""The first thing every request meets: input that no database can store, that a page would echo, or that
would exhaust a parser is refused here, before the badge fast path, routing, webargs or the database see it.

What is refused (README "Input rules"):

- a path and query longer than ``MAX_URL_BYTES`` → 414;
- ``"``, ``<`` or ``>`` in the path (raw or percent-encoded) or raw in the query, NUL anywhere in the
  path, a query name or value → 400;
- a chunked body (no Content-Length) longer than ``MAX_CONTENT_LENGTH`` → 413 (werkzeug would cut it
  at the limit and the parser would then call the truncated text invalid JSON);
- a JSON body nested deeper than ``MAX_JSON_DEPTH``, or holding NUL or a lone surrogate (``"\\ud800"``,
  which no UTF-8 column, digest or response can encode) in any key or string → 400;
- a form body (url-encoded or multipart) holding NUL in a field name or value → 400.

The guard only decides. A refused request goes to Flask itself (never the fast path) with its body
emptied, and :func:`raise_refusal`, the app's first ``before_request``, raises the :class:`Refused`
there; so the error handlers answer it as they answer every other error: JSON in the one error shape
from the API, the admin page's and the public pages' own HTML from theirs. ``errors`` names the
location and field as webargs does: ``{"json": {"content": [...]}}``, ``{"query": {"q": [...]}}``,
``{"form": {...}}``, ``{"path": [...]}``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_options_header
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_content_length

from backend.errors import DomainError, PayloadTooLarge

MAX_URL_BYTES = 4096
MAX_JSON_DEPTH = 64
# Characters a URL may not carry: quotes and angle brackets are never part of our addresses and are what an
# address echoed into a page would need; NUL is what PostgreSQL cannot store.
URL_REFUSED = frozenset('"<>\x00')
# NUL, and the surrogate code points, which a str holds only when JSON's \u escapes name half a pair.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REFUSAL = "backend.input_refusal"

# Field messages, in English like marshmallow's; the message beside them is Chinese.
NUL_OR_SURROGATE = "contains NUL or a lone surrogate"
# The largest integer either database stores (BIGINT); past it SQLite raises OverflowError, PostgreSQL DataError.
INTEGER_RANGE = (-(2**63), 2**63 - 1)
OUT_OF_RANGE = "an integer outside the 64-bit range"
TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} levels"
URL_CHARACTERS = 'must not contain ", <, > or NUL'


class Refused(DomainError):
    """What the guard refuses; pages answer it with a page (``pages.routes``), the API with the error shape."""


class BadInput(Refused):
    status = 400


class UriTooLong(Refused):
    status = 414


class BodyTooLarge(Refused, PayloadTooLarge):
    status = 413


class InputGuard:
    """WSGI middleware in front of ``app`` (the fast path and Flask); refusals go to ``refused`` (Flask's own)."""

    def __init__(self, flask_app: Flask, app: Callable, refused: Callable) -> None:
        self.flask_app = flask_app
        self.app = app  # the next layer as .app, as werkzeug's middleware keep it
        self.refused = refused

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        refusal = check_url(environ) or self.check_body(environ)
        if refusal is None:
            return self.app(environ, start_response)
        environ[REFUSAL] = refusal
        _replace_body(environ, b"")
        return self.refused(environ, start_response)

    def check_body(self, environ: dict[str, Any]) -> Refused | None:
        """Read the body when it must be looked at (chunked, JSON, form), check it, and put it back to be read again."""
        length = get_content_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not (length or chunked):
            return None  # no body: every GET, the badge checks among them
        limit = self.flask_app.config["MAX_CONTENT_LENGTH"]
        mimetype = parse_options_header(environ.get("CONTENT_TYPE"))[0].lower()
        is_json = mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))
        is_form = mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
        if not chunked and (length is None or length > limit or not (is_json or is_form)):
            return None  # nothing to look at, or Flask answers 413 from Content-Length alone
        body = environ["wsgi.input"].read(limit + 1 if chunked else length)
        if len(body) > limit:
            return BodyTooLarge("请求内容过大", errors={"body": [f"at most {limit} bytes"]})
        _replace_body(environ, body)
        if is_json:
            return check_json(body)
        if is_form:
            return check_form(environ, body)
        return None


def check_url(environ: dict[str, Any]) -> Refused | None:
    path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
    # PATH_INFO is already percent-decoded (as latin-1 code points); the raw address is what clients send.
    size = len(environ.get("RAW_URI") or environ.get("REQUEST_URI") or f"{path}?{query}")
    if size > MAX_URL_BYTES:
        return UriTooLong("请求地址过长", errors={"url": [f"at most {MAX_URL_BYTES} bytes of path and query"]})
    if URL_REFUSED.intersection(path):
        return BadInput("请求地址含有不允许的字符", errors={"path": [URL_CHARACTERS]})
    if URL_REFUSED.intersection(query):
        return BadInput("请求参数含有不允许的字符", errors={"query": {"_schema": [URL_CHARACTERS]}})
    # A NUL reaches a decoded name or value only as %00 (raw ones were refused above).
    return _check_pairs("query", _pairs(query)) if "%00" in query else None


def check_json(body: bytes) -> Refused | None:
    """A body that is not JSON at all is left to the parser (its own 400); this only refuses what parses."""
    try:
        data = json.loads(body)
    except RecursionError:
        return BadInput("请求内容嵌套过深", errors={"json": {"_schema": [TOO_DEEP]}})
    except ValueError:
        return None
    errors: dict[str, Any] = {}
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict | list) and len(path) >= MAX_JSON_DEPTH:
            _put(errors, path[:1] or ("_schema",), TOO_DEEP)
        elif isinstance(value, dict):
            for key, item in value.items():
                if _unstorable(key):
                    _put(errors, (*path, _printable(key)), NUL_OR_SURROGATE)
                stack.append(((*path, _printable(key)), item))
        elif isinstance(value, list):
            stack.extend(((*path, index), item) for index, item in enumerate(value))
        elif isinstance(value, str) and _unstorable(value):
            _put(errors, path or ("_schema",), NUL_OR_SURROGATE)
        elif (
            isinstance(value, int) and not isinstance(value, bool) and not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]
        ):
            _put(errors, path or ("_schema",), OUT_OF_RANGE)
    if not errors:
        return None
    return BadInput(_message("json", errors), errors={"json": errors})


def check_form(environ: dict[str, Any], body: bytes) -> Refused | None:
    """The form's fields as werkzeug will give them to the views; a form it cannot parse is left to Flask."""
    parsed = Request({**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
    try:
        fields = list(parsed.form.items(multi=True))
    except HTTPException:
        return None
    return _check_pairs("form", fields)


def raise_refusal() -> None:
    """The app's first ``before_request``: a request the guard refused ends here, in the app's error handlers."""
    refusal = request.environ.get(REFUSAL)
    if refusal is not None:
        raise refusal


def _pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, errors="replace")


def _check_pairs(location: str, pairs: list[tuple[str, str]]) -> Refused | None:
    errors: dict[str, Any] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            _put(errors, (_printable(name),), "must not contain NUL")
    if not errors:
        return None
    return BadInput(_message(location, errors), errors={location: errors})


def _unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def _printable(name: str) -> str:
    """A field name that can itself be sent back: NUL and lone surrogates shown as escapes."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _put(errors: dict[str, Any], path: tuple[str | int, ...], message: str) -> None:
    """Nest ``message`` under ``path``, as marshmallow nests errors of nested fields and list items."""
    node = errors
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):  # a field refused itself and also holds refused items
            child = node[part] = {"_schema": child}
        node = child
    leaf = node.setdefault(path[-1], [])
    if isinstance(leaf, dict):
        leaf = leaf.setdefault("_schema", [])
    if message not in leaf:
        leaf.append(message)


def _message(location: str, errors: dict[str, Any]) -> str:
    """Chinese for people, naming the fields, so a page that shows only the message still says which."""
    names = "、".join(f"{location}.{name}" for name in errors)
    return f"请求中的 {names} 含有不允许的内容（NUL 字符、不成对的代理字符或过深的嵌套）"


def _replace_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)

"""The badge page's HTML (``GET /v/<token>``), from the template, without running Jinja on every scan.

A phone camera opening a badge QR is the citizen's first contact with the platform, so the page is as hot
as the JSON check. Rendering ``verify.html`` costs far more than the check itself (a context, two
``url_for`` builds, a dozen filters), yet the page has only a few *shapes*: the verdict (result and reason)
decides the colours, the words and whether officer details show; within a shape only values change
(name, badge number, agency, domains, valid-until, the token, the time of the check, the scan receipt).

:class:`Stencil` is a shape compiled from the real template: it is rendered once with a probe string in
place of each value, and split where the probes landed. Each probe ends in ``&`` so that its surroundings
tell how the template encoded the value there: ``&amp;`` where it was HTML-escaped, ``%26`` where it was
URL-encoded and then escaped (``| urlencode`` in an attribute). A scan then fills the stencil with its
values, encoded the same way. A shape whose probes land anywhere else (a template change that filters a
value some other way) is not used: that page is rendered by Jinja, as is any token outside the characters
badge tokens are made of. tests/test_badges.py holds stencil and Jinja to identical output, with values
that need escaping.

The reader's text size (pages/display.py) is part of a shape too: the page is the same but for its class.

Shapes are kept per application (``app.extensions``), so a template change takes effect with a restart.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app, has_request_context, render_template
from jinja2.filters import do_urlencode
from markupsafe import escape

from backend.pages.display import large_text
from backend.timezone import beijing

if TYPE_CHECKING:
    from backend.officers.services import Verification

TEMPLATE = "verify.html"
# A verdict is about this moment: never serve it from a cache.
VERIFY_PAGE_HEADERS = {"Cache-Control": "no-store"}
# What badge tokens are made of (base64url and the dots of a JWS): url_for and escaping leave them as they are.
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.]{1,2048}")
# The officer's fields the page shows; a falsy one (no valid-until, no domains) is part of the shape.
OFFICER_FIELDS = (
    "name",
    "badge_no",
    "agency_name",
    "agency_code",
    "agency_phone",
    "agency_complaint_phone",
    "domains",
    "valid_until",
)

_NONCE = "stencil" + secrets.token_hex(6)
_PROBED = re.compile(_NONCE + r"([a-z_]+)(?:(&amp;)|(%26)|&)")


def _encode_html(value: str) -> str:
    return str(escape(value))


def _encode_url(value: str) -> str:
    return str(escape(do_urlencode(value)))


@dataclass(frozen=True)
class Stencil:
    """Literal text and holes, in page order; a hole is (field, encoder)."""

    parts: tuple[str | tuple[str, Any], ...]

    @classmethod
    def compile(cls, text: str) -> Stencil | None:
        parts: list[str | tuple[str, Any]] = []
        position = 0
        for match in _PROBED.finditer(text):
            field, html, url = match.groups()
            if not (html or url):  # a probe the template neither escaped nor URL-encoded: not ours to fill
                return None
            parts.append(text[position : match.start()])
            parts.append((field, _encode_html if html else _encode_url))
            position = match.end()
        parts.append(text[position:])
        if any(_NONCE in part for part in parts if isinstance(part, str)):
            return None
        return cls(tuple(parts))

    def fill(self, values: dict[str, str]) -> str:
        return "".join(part if isinstance(part, str) else part[1](values[part[0]]) for part in self.parts)


def page_values(verification: Verification, token: str, receipt: str | None) -> dict[str, str]:
    """The page's values as text (the template's view of a verification)."""
    values = {
        "token": token,
        "checked_at": beijing(verification.checked_at, "second"),
        "receipt": receipt or "",
    }
    officer = verification.officer
    if officer is not None:
        values.update(
            name=officer["name"],
            badge_no=officer["badge_no"],
            agency_name=officer["agency"]["name"],
            agency_code=officer["agency"]["code"],
            # Snapshots filled before the numbers were part of them have none.
            agency_phone=officer["agency"].get("phone") or "",
            agency_complaint_phone=officer["agency"].get("complaint_phone") or "",
            domains="、".join(officer["domains"]),
            valid_until=officer["valid_until"] or "",
        )
    return values


def _render(verification: Verification, values: dict[str, str], *, lookup: bool = False) -> str:
    """verify.html through Jinja, with these values standing in for the verification's; ``lookup``: the
    verdict for a badge number typed in (no photo: only a scanned token may fetch it)."""
    officer = None
    if verification.officer is not None:
        officer = {
            "name": values["name"],
            "badge_no": values["badge_no"],
            "agency": {
                "name": values["agency_name"],
                "code": values["agency_code"],
                "phone": values["agency_phone"],
                "complaint_phone": values["agency_complaint_phone"],
            },
            "domains": [values["domains"]] if values["domains"] else [],
            "valid_until": values["valid_until"] or None,
            # Only a photo on file is asked for: a broken image would need a script to hide it.
            "photo": bool(verification.officer.get("photo")) and not lookup,
        }
    return render_template(
        TEMPLATE,
        v=verification,
        officer=officer,
        token=values["token"],
        checked_at=values["checked_at"],
        receipt=values["receipt"] or None,
        lookup=lookup,
    )


def _stencil(verification: Verification, values: dict[str, str], environ: dict[str, Any]) -> Stencil | None:
    shape = (
        verification.result,
        verification.reason,
        verification.officer is not None,
        bool(verification.officer and verification.officer.get("photo")),
        bool(values["receipt"]),
        tuple(bool(values.get(field)) for field in OFFICER_FIELDS),
        environ.get("SCRIPT_NAME", ""),
        large_text(environ),
    )
    stencils: dict[tuple, Stencil | None] = current_app.extensions.setdefault("verify_page_stencils", {})
    if shape not in stencils:
        probes = {field: f"{_NONCE}{field}&" if value else "" for field, value in values.items()}
        stencils[shape] = Stencil.compile(_render_in(environ, verification, probes))
    return stencils[shape]


def _render_in(environ: dict[str, Any], verification: Verification, values: dict[str, str]) -> str:
    """``_render`` in the current request, else (the fast path) in one made from ``environ``: url_for needs it."""
    if has_request_context():
        return _render(verification, values)
    with current_app.request_context(environ):
        return _render(verification, values)


def verify_page_html(verification: Verification, token: str, receipt: str | None, environ: dict[str, Any]) -> str:
    """The page for this verification; inside a request context, or with the WSGI environ of one."""
    values = page_values(verification, token, receipt)
    stencil = _stencil(verification, values, environ) if TOKEN_CHARS.fullmatch(token) else None
    return stencil.fill(values) if stencil is not None else _render_in(environ, verification, values)


def lookup_page_html(verification: Verification) -> str:
    """The verdict for a badge number typed in (``GET /v?badge=``): rare, so Jinja renders it each time."""
    return _render(verification, page_values(verification, "", None), lookup=True)

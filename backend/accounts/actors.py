"""How the public transparency log names who acted: by agency or role, never by client id or username.

A client id printed in a public entry tells anyone which account to aim guesses at, and a username is
personal. The log names the client's agency (or the admin's role) and a tag: a keyed hash of the actor
with a key derived from SECRET_KEY, so one client always has the same tag (while SECRET_KEY stays) but
its id can neither be recovered from the tag nor confirmed by guessing. The private audit log keeps the
real actor, and pages behind a login name it again (``private_actors``): the server holds the key.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select

from backend.agencies.models import Agency
from backend.extensions import db

from .models import AdminUser, AgencyClient

# Hex characters of the tag: 48 bits, ample to tell one agency's clients apart.
TAG_LENGTH = 12


def _tag_key() -> bytes:
    # A key of its own, derived from SECRET_KEY, like the token signing key.
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"public-actor-v1", hashlib.sha256).digest()


def tag(actor: str) -> str:
    return hmac.new(_tag_key(), actor.encode(), hashlib.sha256).hexdigest()[:TAG_LENGTH]


def _client_name(actor: str, agency: str) -> str:
    return f"agency:{agency}:{tag(actor)}"


def _admin_name(actor: str, role: str | None) -> str:
    return f"admin:{role or 'unknown'}:{tag(actor)}"


def public_actor(actor: str, agency: str) -> str:
    """``agency:<code>:<tag>`` for a client, ``admin:<role>:<tag>`` for an admin user; jobs and tools
    (``system:<job>``, ``cli``) as they are; any other kind of actor as ``<kind>:<tag>``."""
    kind, _, who = actor.partition(":")
    if kind == "system" or not who:
        return actor
    if kind == "client":
        # A client acts only for its own agency (require_agency_token), so the event's agency is the client's.
        return _client_name(actor, agency)
    if kind == "admin":
        return _admin_name(actor, db.session.scalar(select(AdminUser.role).where(AdminUser.username == who)))
    return f"{kind}:{tag(actor)}"


def private_actors(agency_codes: set[str]) -> dict[str, str]:
    """The public name of every client of these agencies and of every admin user, to the actor it stands for."""
    clients = db.session.execute(
        select(AgencyClient.client_id, Agency.code).join(AgencyClient.agency).where(Agency.code.in_(agency_codes))
    )
    admins = db.session.execute(select(AdminUser.username, AdminUser.role))
    named = {_client_name(f"client:{client_id}", code): f"client:{client_id}" for client_id, code in clients}
    return named | {_admin_name(f"admin:{username}", role): f"admin:{username}" for username, role in admins}

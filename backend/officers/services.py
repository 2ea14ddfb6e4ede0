"""Officers' credentials, badges, and the verification a citizen's scan triggers.

Verification reads an officer snapshot through the port in ``snapshots.py`` (Redis near copies, or the
cache file every worker shares, kept fresh by polling the database), which every change tells to forget
the officer, so a suspension is seen everywhere within a second.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode, want_bytes
from PIL import Image, UnidentifiedImageError
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from backend.agencies.models import Agency
from backend.audit.services import record
from backend.canonical import content_digest
from backend.errors import Invalid, NotFound
from backend.extensions import clock, db, search
from backend.extensions.smorest import Page, paginate
from backend.keys import KeyRing
from backend.metrics import VERIFICATIONS
from backend.timezone import china_date
from backend.transparency import services as transparency
from search_index.interfaces import SearchQuery
from search_index.mappings import OFFICERS

from . import tokens
from .badge_card import BadgeCard
from .models import BADGE_NO, CredentialStatus, Officer, OfficerPhoto, OfficerStatusChange
from .snapshots import OfficerSnapshots

PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
PHOTO_MAX_SIDE = 4096
# The token_kind of a check by badge number (a QR too damaged to scan), beside static and dynamic.
MANUAL = "manual"
STATUS_LABELS = {"valid": "有效", "suspended": "暂扣", "revoked": "注销", "expired": "已过期", "invalid": "无法验证"}


# -- agencies manage their own officers -----------------------------------------------------
def _check_badge_no(badge_no: str) -> None:
    if not BADGE_NO.fullmatch(badge_no):
        raise Invalid("执法证号格式有误", errors={"badge_no": ["4-32 letters, digits or '-'"]})


def get_own(agency: Agency, badge_no: str) -> Officer:
    officer = db.session.scalar(select(Officer).where(Officer.agency_id == agency.id, Officer.badge_no == badge_no))
    if officer is None:
        raise NotFound("未找到该执法人员", errors={"badge_no": [f"no officer {badge_no!r} of this agency"]})
    return officer


def list_own(agency: Agency) -> list[Officer]:
    """The agency's officers by badge number (the publisher's page lists them all: an agency has few)."""
    return list(db.session.scalars(_own(agency)))


def page_own(agency: Agency, *, page: int, page_size: int) -> Page[Officer]:
    """A page of the agency's officers by badge number (the publishing API's list)."""
    return paginate(_own(agency), page=page, page_size=page_size)


def _own(agency: Agency) -> Select:
    return select(Officer).where(Officer.agency_id == agency.id).order_by(Officer.badge_no)


def upsert_officer(agency: Agency, badge_no: str, data: dict[str, Any], actor: str) -> tuple[Officer, str]:
    """Create or update an officer's credential; the same content again changes nothing."""
    _check_badge_no(badge_no)
    photo = _read_photo(data.pop("photo")) if data.get("photo") else None
    digest = content_digest({**data, "photo": photo.sha256 if photo else None})
    for attempt in (1, 2):
        officer = db.session.scalar(select(Officer).where(Officer.agency_id == agency.id, Officer.badge_no == badge_no))
        if officer is not None and officer.content_hash == digest:
            return officer, "unchanged"
        now = clock.now()
        outcome = "updated" if officer else "created"
        if officer is None:
            officer = Officer(agency=agency, badge_no=badge_no, created_at=now, status=CredentialStatus.active)
            db.session.add(officer)
        officer.name = data["name"]
        officer.domains = data.get("domains") or []
        officer.regions = data.get("regions") or []
        officer.valid_from = data.get("valid_from")
        officer.valid_until = data.get("valid_until")
        officer.exam_date = data.get("exam_date")
        officer.content_hash = digest
        officer.updated_at = now
        if photo is not None:
            officer.photo_sha256 = _store_photo(photo)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        snapshots().forget(agency.code, badge_no)
        return officer, outcome
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Photo:
    data: bytes
    media_type: str
    sha256: str


def _read_photo(payload: dict[str, str]) -> Photo:
    """A JPEG or PNG, size-limited, checked by decoding it rather than trusting the declared type."""
    limit = current_app.config["OFFICER_PHOTO_MAX_BYTES"]
    try:
        data = base64.b64decode(payload["data"], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("照片不是有效的 base64", errors={"photo": {"data": ["not base64"]}}) from None
    if len(data) > limit:
        raise Invalid("照片过大", errors={"photo": {"data": [f"at most {limit} bytes"]}})
    too_large = Invalid("照片尺寸过大", errors={"photo": {"data": [f"at most {PHOTO_MAX_SIDE} pixels a side"]}})
    try:
        # open() reads the header only: the dimensions are refused before anything decodes the pixels. Pillow
        # itself refuses at open() a header claiming more than twice Image.MAX_IMAGE_PIXELS.
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
            if max(size) > PHOTO_MAX_SIDE:
                raise too_large
            image.verify()
    except Image.DecompressionBombError:
        raise too_large from None
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise Invalid("照片无法识别", errors={"photo": {"data": ["not a JPEG or PNG image"]}}) from None
    if kind not in PHOTO_TYPES or PHOTO_TYPES[kind] != payload["media_type"]:
        raise Invalid("照片须为 JPEG 或 PNG", errors={"photo": {"media_type": [f"the image is {kind}"]}})
    return Photo(data, PHOTO_TYPES[kind], hashlib.sha256(data).hexdigest())


def _store_photo(photo: Photo) -> str:
    with db.session.no_autoflush:
        stored = db.session.get(OfficerPhoto, photo.sha256)
    if stored is None:
        db.session.add(
            OfficerPhoto(
                sha256=photo.sha256,
                media_type=photo.media_type,
                size=len(photo.data),
                data=photo.data,
                created_at=clock.now(),
            )
        )
    return photo.sha256


def set_status(
    agency: Agency, badge_no: str, status: str, reason: str, actor: str, *, ip: str | None = None
) -> Officer:
    """Suspend, revoke or reinstate a credential; audited (with the client address ``ip``), and live for every
    scan at once."""
    officer = get_own(agency, badge_no)
    if officer.status == status:
        return officer
    previous = officer.status
    now = clock.now()
    officer.status, officer.status_reason, officer.status_changed_at, officer.updated_at = status, reason, now, now
    db.session.add(OfficerStatusChange(officer_id=officer.id, at=now, status=status, reason=reason))
    record(
        actor,
        "officer.status",
        "officer",
        f"{agency.code}/{badge_no}",
        ip=ip,
        before=previous,
        after=status,
        reason=reason,
    )
    transparency.log_event(
        transparency.event(
            "credential_status", f"{agency.code}/{badge_no}", agency.code, actor, detail={"status": status}
        )
    )
    db.session.commit()
    snapshots().forget(agency.code, badge_no)
    return officer


def snapshots() -> OfficerSnapshots:
    """The officer snapshots scans read (``snapshots.py``: Redis near copies, or the polled cache file)."""
    return current_app.extensions["officer_snapshots"]


# -- the public roster ------------------------------------------------------------------------
def roster(
    *,
    q: str = "",
    agency: str | None = None,
    status: str | None = None,
    domain: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> Page[Officer]:
    filters = {name: [value] for name, value in (("agency", agency), ("status", status), ("domain", domain)) if value}
    # A province's officers (some 100,000), no facets: counted exactly, so the list's total is always true.
    query = SearchQuery(text=q, filters=filters, page=page, page_size=page_size, exact_up_to=None)
    result = search.query(OFFICERS, query)
    rows = Officer.load_for_search(db.session, [hit.id for hit in result.hits])
    return Page([rows[hit.id] for hit in result.hits if hit.id in rows], result.total, page, page_size)


# -- badges -----------------------------------------------------------------------------------
def badge_url(officer: Officer) -> str:
    """The verification page the officer's badge card QR opens (a static token signed now: every token the
    platform signed for the officer verifies, so any of them leads to the same live page)."""
    return tokens.issue(officer.agency.code, officer.badge_no).url


def badge_card(agency: Agency, badge_no: str) -> BadgeCard:
    officer = get_own(agency, badge_no)
    photo = db.session.get(OfficerPhoto, officer.photo_sha256) if officer.photo_sha256 else None
    return BadgeCard(
        officer_name=officer.name,
        agency_name=agency.name,
        badge_no=officer.badge_no,
        domains=tuple(officer.domains),
        valid_until=officer.valid_until,
        url=badge_url(officer),
        photo=photo.data if photo else None,
        font=current_app.config["BADGE_FONT_PATH"],
    )


def dynamic_badge(agency: Agency, badge_no: str) -> tokens.BadgeToken:
    officer = get_own(agency, badge_no)
    seconds = current_app.config["DYNAMIC_BADGE_SECONDS"]
    return tokens.issue(agency.code, officer.badge_no, lifetime=dt.timedelta(seconds=seconds))


# -- verification -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Verification:
    result: str
    reason: str
    token_kind: str
    checked_at: dt.datetime
    officer: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.result]


def verify(token: str) -> Verification:
    """What a citizen learns from a scan: is this a real officer who may act right now?"""
    now = clock.now()
    try:
        claims = tokens.decode(token)
    except tokens.TokenRejected as rejected:
        return _logged(Verification("invalid", rejected.reason, "unknown", now))
    officer = snapshots().get(claims.agency_code, claims.badge_no)
    return _logged(_verdict(officer, claims.kind, now, claims.expires_at), claims.agency_code, claims.badge_no)


def _verdict(officer: dict[str, Any] | None, kind: str, now: dt.datetime, expires_at: float | None) -> Verification:
    """The one rule every way of checking a credential answers by (a QR scan, a badge number typed in)."""
    if officer is None:
        return Verification("invalid", "unknown_officer", kind, now)
    day = china_date(now).isoformat()  # the same instant as checked_at, as a Beijing date
    if officer["status"] == CredentialStatus.revoked:
        result, reason = "revoked", "revoked"
    elif officer["status"] == CredentialStatus.suspended:
        result, reason = "suspended", "suspended"
    elif expires_at is not None and now.timestamp() > expires_at:
        result, reason = "expired", "dynamic_expired"
    elif officer["valid_until"] and day > officer["valid_until"]:
        result, reason = "expired", "credential_expired"
    elif officer["valid_from"] and day < officer["valid_from"]:
        result, reason = "invalid", "not_yet_valid"
    else:
        result, reason = "valid", "ok"
    return Verification(result, reason, kind, now, officer)


class AmbiguousBadge(Invalid):
    """Officers of several agencies carry the number: the citizen names the agency (``agencies``: code, name)."""

    def __init__(self, badge_no: str, agencies: list[tuple[str, str]]) -> None:
        codes = ", ".join(code for code, _ in agencies)
        super().__init__("多个执法主体有此证号，请选择执法主体", errors={"agency": [f"one of {codes}"]})
        self.agencies = agencies


def lookup(badge_no: str, agency_code: str | None = None) -> Verification:
    """The verdict for a badge number typed in (a QR too damaged to scan): the same verdict a scan of that
    officer's badge gives now, from the same snapshot. A number that names no officer is ``invalid`` as an
    unknown badge is. The number is printed on the badge and listed in the public roster, so the verdict tells
    no more than they do; no scan receipt is issued (nothing was scanned) and the page asks for no photo."""
    _check_badge_no(badge_no)
    # Typed on a phone, letters may come in lower case; badge numbers are printed (and mostly stored) upper.
    query = (
        select(Agency.code, Agency.name, Officer.badge_no)
        .join(Officer.agency)
        .where(Officer.badge_no.in_({badge_no, badge_no.upper()}))
    )
    if agency_code:
        query = query.where(Agency.code == agency_code)
    found = db.session.execute(query.order_by(Agency.code).limit(10)).all()
    if len(found) > 1:
        raise AmbiguousBadge(badge_no, [(code, name) for code, name, _ in found])
    if not found:  # what was typed is not logged: it names nobody
        return _logged(_verdict(None, MANUAL, clock.now(), None))
    code, _, number = found[0]
    return _logged(_verdict(snapshots().get(code, number), MANUAL, clock.now(), None), code, number)


def _logged(verification: Verification, agency_code: str | None = None, badge_no: str | None = None) -> Verification:
    VERIFICATIONS.labels(verification.result).inc()
    current_app.extensions["scan_log"].append(
        {
            "at": verification.checked_at,
            "result": verification.result,
            "reason": verification.reason,
            "token_kind": verification.token_kind,
            "agency_code": agency_code,
            "badge_no": badge_no,
        }
    )
    return verification


def photo_for_token(token: str) -> OfficerPhoto:
    """The officer's photo, only to someone holding a genuine badge token."""
    try:
        claims = tokens.decode(token)
    except tokens.TokenRejected:
        raise NotFound("未找到照片") from None
    officer = snapshots().get(claims.agency_code, claims.badge_no)
    photo = db.session.get(OfficerPhoto, officer["photo"]) if officer and officer["photo"] else None
    if photo is None:
        raise NotFound("未找到照片")
    return photo


class _ClockSigner(TimestampSigner):
    """Signing and age checks on the platform's clock (the clock port), not the process's."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class _KeyRingSigner(_ClockSigner):
    """SIGNATURE_SUITE=sm2: a receipt is signed with the badge ring's newest key (SM2 with SM3) rather than by an
    HMAC of SECRET_KEY. Its signature part is ``kid~base64url(r‖s)``, over the salt, a newline and the signed text
    (the salt keeps a receipt's signature from being taken for a badge token's, made with the same key)."""

    def __init__(self, *args: Any, ring: KeyRing, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ring = ring

    def get_signature(self, value: str | bytes) -> bytes:
        key = self.ring.signing_key()
        return key.kid.encode() + b"~" + base64_encode(key.sign(self.salt + b"\n" + want_bytes(value)))

    def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
        kid, _, signature = want_bytes(sig).partition(b"~")
        key = self.ring.get(kid.decode("ascii", "replace"))
        try:
            raw = base64_decode(signature)
        except BadData:
            return False
        return key is not None and key.verify(raw, self.salt + b"\n" + want_bytes(value))


@lru_cache(maxsize=8)
def _receipt_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="scan-receipt", signer=_ClockSigner)


@lru_cache(maxsize=8)
def _ring_receipt_serializer(ring: KeyRing) -> URLSafeTimedSerializer:
    # The secret is unused (the ring's key signs), yet itsdangerous wants one.
    return URLSafeTimedSerializer("-", salt="scan-receipt", signer=_KeyRingSigner, signer_kwargs={"ring": ring})


def receipt_serializer() -> URLSafeTimedSerializer:
    """Signs scan receipts (the badge page) and reads them back (complaints): an HMAC of SECRET_KEY with Ed25519
    (the default suite, as before the suites), an SM2 signature by the badge ring with SIGNATURE_SUITE=sm2."""
    ring = tokens.key_ring()
    if ring.suite.name == "sm2":
        return _ring_receipt_serializer(ring)
    return _receipt_serializer(current_app.config["SECRET_KEY"])


def scan_receipt(verification: Verification) -> str | None:
    """A signed receipt (badge, agency, time, result) the complaint form can trust."""
    if verification.officer is None:
        return None
    return receipt_serializer().dumps(
        {
            "b": verification.officer["badge_no"],
            "a": verification.officer["agency"]["code"],
            "t": int(verification.checked_at.timestamp()),
            "r": verification.result,
        }
    )

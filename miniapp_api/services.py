"""The mini-program's side of the platform: login, disclosures, badges and complaints, shaped for a phone.

A citizen logs in with the code of ``wx.login``: WeChat's code2session gives their openid and a
session_key, which stays here (in the cache, Redis when configured) and is never sent back; the
mini-program gets our own short-lived JWT (audience ``miniapp``, subject the openid) instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import secrets
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from flask import current_app
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wechatpy.exceptions import WeChatClientException

from backend.accounts.services import IssuedToken, bearer_claims, sign_token
from backend.agencies.models import Agency
from backend.complaints import services as complaints
from backend.complaints.models import CATEGORY_LABELS, STATUS_LABELS, Complaint, ComplaintEvent
from backend.disclosures import reading as disclosures
from backend.disclosures.models import Disclosure
from backend.disclosures.reading import Found
from backend.errors import Forbidden, Invalid, NotFound, ServiceUnavailable, Unauthorized
from backend.extensions import cache, clock, db
from backend.extensions.smorest import Page, paginate
from backend.officers import services as officers
from backend.officers import tokens
from backend.officers.models import Officer

from . import content_check
from .models import BadgeScene
from .wechat import unavailable, wechat

MINIAPP_AUDIENCE = "miniapp"
# How long the session_key is kept for server-side use (decrypting what the mini-program sends).
SESSION_SECONDS = 3 * 24 * 3600
SCENE_ALPHABET = string.ascii_letters + string.digits
WXACODE_SECONDS = 7 * 24 * 3600
# 40029 invalid code, 40163 code already used
BAD_CODE = frozenset({40029, 40163})
HIGH_RISK_USER = 40226


# -- login --------------------------------------------------------------------------------------
def login(code: str) -> IssuedToken:
    """Exchange a ``wx.login`` code for our JWT; the session_key is kept server-side."""
    try:
        session = wechat.miniapp.wxa.code_to_session(code)
    except WeChatClientException as error:
        if error.errcode in BAD_CODE:
            raise Unauthorized(
                "登录凭证无效或已使用，请重新登录",
                errors={"code": [f"WeChat errcode {error.errcode}: {error.errmsg}"]},
                headers={"WWW-Authenticate": 'Bearer realm="miniapp"'},
            ) from None
        if error.errcode == HIGH_RISK_USER:
            raise Forbidden(
                "该微信账号暂时无法登录", errors={"code": ["WeChat errcode 40226: high risk user"]}
            ) from None
        raise unavailable(error, "code2session") from None
    openid = session["openid"]
    cache.set(
        f"miniapp:session:{openid}",
        json.dumps({"session_key": session["session_key"], "unionid": session.get("unionid")}),
        ttl=SESSION_SECONDS,
    )
    return sign_token({"aud": MINIAPP_AUDIENCE, "sub": openid})


@dataclass(frozen=True)
class MiniappUser:
    openid: str
    logged_in_at: dt.datetime  # WeChat's content check weighs how recently the user logged in


def require_miniapp_token(authorization: str) -> MiniappUser:
    """The user the mini-program's JWT (the Authorization header) speaks for; 401 otherwise."""
    claims = bearer_claims(authorization, MINIAPP_AUDIENCE)
    return MiniappUser(claims["sub"], dt.datetime.fromtimestamp(claims["iat"], dt.UTC))


# -- disclosures --------------------------------------------------------------------------------
def search(*, page: int = 1, page_size: int = 10, facets: bool = False, **filters: Any) -> Page[Found]:
    """The public search, one line per item; the facet counts only when asked for (they cost a second query)."""
    return disclosures.search_public(page=page, page_size=page_size, with_facets=facets, **filters)


def disclosure(disclosure_id: str) -> Disclosure:
    return disclosures.get_public(disclosure_id)


# -- badges -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BadgeCheck:
    verification: officers.Verification
    # A token for the officer's photo and the verification page; None when nothing was verified.
    token: str | None


def verify_token(value: str) -> BadgeCheck:
    """A badge token as scanned: bare, or the badge QR's URL (``{PUBLIC_BASE_URL}/v/{token}``, maybe
    still URL-encoded as ``options.q`` hands it over)."""
    token = unquote(value) if "%" in value else value
    if "/v/" in token:
        token = token.rsplit("/v/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    return BadgeCheck(officers.verify(token), token)


def verify_badge(agency_code: str, badge_no: str) -> BadgeCheck:
    """Verify a badge known by agency and number, exactly as a scan of its printed QR is verified."""
    token = tokens.issue(agency_code, badge_no).token
    return BadgeCheck(officers.verify(token), token)


def verify_scene(scene: str) -> BadgeCheck:
    found = db.session.scalar(select(BadgeScene).where(BadgeScene.code == scene)) if len(scene) <= 32 else None
    if found is None:
        return BadgeCheck(officers.Verification("invalid", "unknown_scene", "unknown", clock.now()), None)
    return verify_badge(found.agency_code, found.badge_no)


def badges_numbered(badge_no: str, limit: int = 3) -> list[tuple[str, str]]:
    """(agency code, badge number) of the officers with this badge number, in any agency."""
    rows = db.session.execute(
        select(Agency.code, Officer.badge_no)
        .join(Officer.agency)
        .where(Officer.badge_no.in_({badge_no, badge_no.upper()}))
        .order_by(Officer.id)
        .limit(limit)
    )
    return [(agency_code, number) for agency_code, number in rows]


def scene_for(agency_code: str, badge_no: str) -> str:
    """The badge's short scene code, made once and kept (two racing requests meet at the unique key)."""
    query = select(BadgeScene.code).where(BadgeScene.agency_code == agency_code, BadgeScene.badge_no == badge_no)
    for _attempt in range(3):
        code = db.session.scalar(query)
        if code is not None:
            return code
        code = "".join(secrets.choice(SCENE_ALPHABET) for _ in range(16))
        db.session.add(BadgeScene(code=code, agency_code=agency_code, badge_no=badge_no, created_at=clock.now()))
        try:
            db.session.commit()
            return code
        except IntegrityError:
            db.session.rollback()
    raise ServiceUnavailable("暂时无法生成小程序码，请重试", retry_after=1)


def badge_wxacode(agency: Agency, badge_no: str) -> bytes:
    """The officer's mini-program code (PNG), opening the verification page; cached, as WeChat asks."""
    officer = officers.get_own(agency, badge_no)
    config = current_app.config
    page, env_version = config["WECHAT_MINIAPP_BADGE_PAGE"], config["WECHAT_MINIAPP_ENV_VERSION"]
    scene = scene_for(agency.code, officer.badge_no)
    key = f"wxacode:{env_version}:{page}:{scene}"
    cached = cache.get(key)
    if cached is not None:
        return base64.b64decode(cached)
    try:
        image = wechat.miniapp.wxa.get_unlimited_code(scene, page=page, env_version=env_version)
    except WeChatClientException as error:
        raise unavailable(error, "getwxacodeunlimit") from None
    png = _as_png(image)
    cache.set(key, base64.b64encode(png).decode(), ttl=WXACODE_SECONDS)
    return png


def _as_png(image: bytes) -> bytes:
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return image
    try:  # WeChat sends JPEG unless the code is transparent
        with Image.open(io.BytesIO(image)) as decoded:
            out = io.BytesIO()
            decoded.save(out, "PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError):
        raise ServiceUnavailable("微信返回的小程序码无法识别，请稍后再试", retry_after=5) from None


# -- complaints ---------------------------------------------------------------------------------
def submit_complaint(user: MiniappUser, data: dict[str, Any]) -> complaints.Filed:
    verdict = content_check.check(
        data["content"], openid=user.openid, logged_in_at=user.logged_in_at, scene=content_check.SCENE_POST
    )
    filed = complaints.submit(data, channel="miniapp", openid=user.openid, needs_review=verdict.doubtful)
    if filed.created and verdict.doubtful:
        _note(filed.complaint, verdict.note())
    return filed


def mine(user: MiniappUser, *, page: int, page_size: int) -> Page[dict[str, Any]]:
    ordered = (
        select(Complaint)
        .where(Complaint.openid == user.openid)
        .order_by(Complaint.created_at.desc(), Complaint.id.desc())
    )
    return paginate(ordered, page=page, page_size=page_size).map(
        lambda c: {
            "tracking_no": c.tracking_no,
            "status": c.status,
            "status_label": STATUS_LABELS[c.status],
            "category_label": CATEGORY_LABELS[c.category],
            "agency_name": c.agency.name,
            "created_at": c.created_at,
            "under_review": c.needs_review,
        }
    )


def own_complaint(user: MiniappUser, tracking_no: str) -> Complaint:
    """One of the user's complaints; anybody else's answers 404, as if it did not exist."""
    complaint = db.session.scalar(
        select(Complaint).where(Complaint.tracking_no == tracking_no, Complaint.openid == user.openid)
    )
    if complaint is None:
        raise NotFound("未找到该投诉", errors={"tracking_no": [f"no complaint {tracking_no!r} of yours"]})
    return complaint


def complaint_view(complaint: Complaint) -> dict[str, Any]:
    return {**complaints.citizen_view(complaint), "notify_consent": complaint.notify_consent}


def rate(user: MiniappUser, tracking_no: str, score: int, comment: str | None) -> Complaint:
    complaint = own_complaint(user, tracking_no)
    verdict = None
    if comment:
        verdict = content_check.check(
            comment, openid=user.openid, logged_in_at=user.logged_in_at, scene=content_check.SCENE_COMMENT
        )
    complaints.rate(complaint, score, comment)
    if verdict is not None and verdict.doubtful:
        complaint.needs_review = True
        _note(complaint, "评价内容：" + verdict.note())
    return complaint


def record_consent(user: MiniappUser, tracking_no: str, template_id: str, choice: str) -> Complaint:
    """What ``wx.requestSubscribeMessage`` answered for our template: each ``accept`` allows one message."""
    complaint = own_complaint(user, tracking_no)
    expected = current_app.config["WECHAT_SUBSCRIBE_TEMPLATE_ID"]
    if expected is None:
        raise ServiceUnavailable("订阅消息未配置", errors={"wechat": ["set WECHAT_SUBSCRIBE_TEMPLATE_ID"]})
    if template_id != expected:
        raise Invalid("订阅消息模板不符", errors={"template_id": [f"expected {expected}"]})
    complaint.notify_consent = choice == "accept"
    db.session.commit()
    return complaint


def _note(complaint: Complaint, text: str) -> None:
    complaint.events.append(
        ComplaintEvent(at=clock.now(), kind="note", actor="system:content-check", public=False, text=text)
    )
    db.session.commit()

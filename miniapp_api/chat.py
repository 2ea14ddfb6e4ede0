"""What the official account answers in the chat.

A badge number gets the verification result; any other text the top three disclosures, each a
link to its page; following the account a welcome that says what to send; scanning a badge's code
(a scene) its verification. WeChat waits five seconds for a reply and then gives up on it, so the
search runs in a worker thread and a slow one is answered with a link to the search page instead.
"""

from __future__ import annotations

import hashlib
import html
import logging
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app
from wechatpy import events, messages

from backend.disclosures.facets import count_text
from backend.disclosures.schemas import public_url
from backend.extensions import cache
from backend.extensions.database import reading
from backend.extensions.smorest import Page
from backend.officers.models import BADGE_NO
from backend.officers.tokens import verify_url
from backend.timezone import beijing
from search_index.interfaces import SearchUnavailable

from . import services
from .wechat import wechat

log = logging.getLogger(__name__)

WELCOME = (
    "欢迎关注行政执法公示平台！\n"
    "· 发送执法证号（如 35050012345），核验执法人员身份和证件状态；\n"
    "· 发送关键词（如“食品 处罚”），检索行政执法公示信息；\n"
    "· 扫描执法证件上的二维码，也可直接核验。"
)
HINT = "请发送执法证号核验执法人员，或发送关键词检索行政执法公示信息。"
VERDICTS = {
    "valid": "证件有效，可依法执法。",
    "suspended": "证件已暂扣，持证人目前不得从事执法活动。",
    "revoked": "证件已注销，持证人不得从事执法活动。",
    "expired": "证件已过期，请对方出示有效证件。",
    "invalid": "无法验证该证件，请谨慎对待。",
}
TOP = 3
ANSWER_SECONDS = 60
TITLE_CHARS = 36
QUERY_CHARS = 30


def is_badge_number(text: str) -> bool:
    """Badge numbers are letters, digits and '-', with at least five digits (so a word or a year is a search)."""
    return BADGE_NO.fullmatch(text) is not None and sum(ch.isdigit() for ch in text) >= 5


def answer(message: messages.BaseMessage) -> str | None:
    """The text to reply with, or None for nothing (WeChat then shows nothing)."""
    if isinstance(message, messages.TextMessage):
        text = " ".join((message.content or "").split())
        if not text:
            return HINT
        return badge_number_reply(text) if is_badge_number(text) else search_reply(text)
    if isinstance(message, events.SubscribeScanEvent):
        return WELCOME + "\n\n" + (scene_reply(message.scene_id) or "")
    if isinstance(message, events.SubscribeEvent):
        return WELCOME
    if isinstance(message, events.ScanEvent):
        return scene_reply(message.scene_id) or HINT
    if isinstance(message, messages.BaseMessage) and message.type != "event":
        return HINT
    return None


# -- badges ---------------------------------------------------------------------------------------
def badge_number_reply(badge_no: str) -> str:
    found = services.badges_numbered(badge_no)
    if not found:
        return (
            f"未查到执法证号 {badge_no}。\n"
            "请核对证号；如对方自称执法人员，请要求出示执法证件并扫描证件上的二维码核验，"
            "也可拨打 12345 反映。"
        )
    return "\n\n".join(verification_text(services.verify_badge(*badge)) for badge in found)


def scene_reply(scene: str | None) -> str | None:
    """A scanned code's scene: a badge's scene code (as in its mini-program code) or a badge number."""
    if not scene:
        return None
    checked = services.verify_scene(scene)
    if checked.token is not None:
        return verification_text(checked)
    return badge_number_reply(scene) if is_badge_number(scene) else None


def verification_text(checked: services.BadgeCheck) -> str:
    verification = checked.verification
    officer = verification.officer
    at = beijing(verification.checked_at)
    if officer is None:
        return f"【{verification.label}】{VERDICTS['invalid']}\n核验时间：{at}"
    lines = [
        f"【{verification.label}】{officer['name']}",
        f"执法证号：{officer['badge_no']}",
        f"执法主体：{officer['agency']['name']}",
        f"执法领域：{'、'.join(officer['domains']) or '—'}",
        f"有效期至：{officer['valid_until'] or '—'}",
        VERDICTS[verification.result],
        f"核验时间：{at}",
        f'<a href="{html.escape(verify_url(checked.token))}">查看证件详情</a>',
    ]
    return "\n".join(lines)


# -- disclosures ----------------------------------------------------------------------------------
def search_reply(query: str) -> str:
    """The top disclosures, or a link to the search page when the search is slow or down.

    Answers are kept for a minute: the same words come up again and again in a chat, and a search
    that missed the deadline still finishes, so asking again gets its answer at once.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    query = query[:100]
    cached = cache.get(_cache_key(query))
    if cached is not None:
        return cached
    future = wechat.state.chat_pool.submit(_search_in_context, app, query)
    try:
        return future.result(timeout=app.config["WECHAT_REPLY_SECONDS"])
    except FutureTimeout:
        log.warning("chat search for %r too slow: short reply", query)
    except SearchUnavailable:
        log.warning("chat search for %r: search unavailable", query)
    return f"正在检索“{_short(query)}”，请点击查看结果：\n" + _link(search_url(query), "查看检索结果")


def _search_in_context(app: Flask, query: str) -> str:
    with app.app_context(), reading():
        text = _format_results(query, services.search(q=query, page_size=TOP))
        cache.set(_cache_key(query), text, ttl=ANSWER_SECONDS)
        return text


def _cache_key(query: str) -> str:
    return "chat:search:" + hashlib.sha256(query.encode()).hexdigest()[:32]


def _format_results(query: str, result: Page[dict[str, Any]]) -> str:
    if not result.items:
        return f"未找到与“{_short(query)}”相关的公示信息。\n" + _link(search_url(query), "到网页检索")
    count = f"共 {result.total}" if result.total_exact else count_text(result.total, exact=False)
    lines = [f"“{_short(query)}”的公示信息（{count} 条）："]
    for number, found in enumerate(result.items, 1):
        item = found.item
        title = item.public["title"]
        title = title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"
        lines.append(f"{number}. " + _link(public_url(item), title))
        date = f" · {item.public_date}" if item.public_date else ""
        lines.append(f"   {item.agency.name}{date}")
    if result.total > len(result.items):
        lines.append(_link(search_url(query), "查看全部"))
    return "\n".join(lines)


def search_url(query: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/s?q={quote(query)}"


def _link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'


def _short(query: str) -> str:
    """The query, as echoed in a reply: short, and with no markup of its own."""
    query = query.replace("<", "").replace(">", "")
    return query if len(query) <= QUERY_CHARS else query[: QUERY_CHARS - 1] + "…"

"""The official account's callback, ``/wechat/official``: WeChat's protocol, so XML and plain text, not JSON.

WeChat signs every call with the token both sides know (``signature`` over token, timestamp and
nonce); a call that fails the check gets 403 and nothing of it is read. GET is WeChat verifying
the server (we echo ``echostr``); POST carries a message, in plaintext or, in safe mode
(``encrypt_type=aes``), encrypted with the account's AES key, and the reply goes back the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import struct
from xml.parsers.expat import ExpatError

from flask import Blueprint, Response, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from backend.extensions import cache
from backend.extensions.database import reading

from . import chat
from .wechat import wechat

log = logging.getLogger(__name__)

blp = Blueprint("wechat_official", __name__)
MAX_MESSAGE_BYTES = 64 * 1024
REPEAT_SECONDS = 60
# What a call that cannot be read raises, from the envelope to the message inside.
UNREADABLE = (WeChatException, ExpatError, KeyError, TypeError, ValueError, struct.error)


@blp.route("/wechat/official", methods=["GET", "POST"])
def official() -> Response:
    state = wechat.state
    if not state.official_token:
        return _plain("公众号服务未配置：请设置 WECHAT_OFFICIAL_TOKEN", 503)
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if not _signed(state.official_token, args.get("signature", ""), timestamp, nonce):
        return _plain("invalid signature", 403)
    if request.method == "GET":
        return _plain(args.get("echostr", ""))
    if (request.content_length or 0) > MAX_MESSAGE_BYTES:
        return _plain("message too large", 413)
    body = request.get_data()
    crypto = None
    if args.get("encrypt_type") == "aes":
        if not (state.official_aes_key and state.official_appid):
            return _plain("安全模式未配置：请设置 WECHAT_OFFICIAL_AES_KEY 和 WECHAT_OFFICIAL_APPID", 503)
        crypto = WeChatCrypto(state.official_token, state.official_aes_key, state.official_appid)
        try:
            body = crypto.decrypt_message(body, args.get("msg_signature", ""), timestamp, nonce)
        except InvalidSignatureException:
            return _plain("invalid msg_signature", 403)
        except UNREADABLE as error:
            log.warning("undecryptable official-account message: %s", type(error).__name__)
            return _plain("cannot decrypt message", 400)
    try:
        message = parse_message(body)
    except UNREADABLE as error:
        log.warning("unreadable official-account message: %s", type(error).__name__)
        return _plain("cannot read message", 400)
    text = _answer_once(message, body) if message is not None else None
    if text is None:
        return _plain("success")  # WeChat's "nothing to say"
    reply = TextReply(message=message, content=text).render()
    if crypto is not None:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return Response(reply, mimetype="application/xml")


def _answer_once(message, body: bytes | str) -> str | None:
    """WeChat sends a message again when a reply is late (up to three times); the repeat gets the first
    answer, kept a minute, and is not worked again (no second scan logged, no second search). A repeat is
    the same message XML (its MsgId, or for an event its sender, time and key), so the XML is the key."""
    raw = body.encode() if isinstance(body, str) else body
    key = "wechat:official:msg:" + hashlib.sha256(raw).hexdigest()[:32]
    kept = cache.get(key)
    if kept is not None:
        return kept or None
    with reading():  # a chat message only reads (scans are logged through the scan log's own thread)
        text = chat.answer(message)
    cache.set(key, text or "", ttl=REPEAT_SECONDS)
    return text


def _signed(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    return hmac.compare_digest(signer.signature.encode(), signature.encode())


def _plain(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="text/plain")

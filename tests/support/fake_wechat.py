"""WeChat's side of the protocol, for tests and benches: its API server, and its calls to the official account.

``FakeWeChat`` is a local server that speaks WeChat's API protocol, for the endpoints the platform calls.

WeChat cannot be reached from tests, so wechatpy is pointed (``WECHAT_API_BASE_URL``) at this WSGI
app on 127.0.0.1. It keeps WeChat's real paths, parameters and JSON error shapes
(``{"errcode": 40029, "errmsg": "invalid code"}``), and is strict where WeChat is: every call but
``/cgi-bin/token`` and ``/sns/jscode2session`` needs a valid access token (40001 unknown, 42001
expired, 41001 missing), a login code works once, msgSecCheck wants version 2 with openid and scene.

Tests steer it: ``login_code`` registers a code, ``fail`` makes an endpoint answer an errcode,
``down`` makes it answer HTTP 503, ``expire_tokens`` ends every token WeChat issued, ``token_fetches``
counts the tokens issued and ``calls`` lists every request.

``OfficialAccountCaller`` builds what WeChat's servers send to an official account's callback URL:
signed query strings and message XML, plaintext or encrypted with wechatpy's own ``WeChatCrypto``,
and reads the (maybe encrypted) reply.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import segno
import xmltodict
from flask import Flask
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

APPID = "wx0000000000fake01"
SECRET = "fake-miniapp-secret-0123456789ab"
# msgSecCheck's verdict comes from keywords, like a tiny content model.
RISKY_WORDS = ("炸弹", "枪支", "毒品")
REVIEW_WORDS = ("傻", "滚", "骂")
OFFICIAL_APPID = "wx0000000000offic1"
OFFICIAL_TOKEN = "sanxiang-official-token"
# 43 characters: base64 of the 32-byte AES key without its padding, as the account's settings show it.
OFFICIAL_AES_KEY = base64.b64encode(b"sanxiang-official-aes-key-32byte").decode().rstrip("=")
ACCOUNT = "gh_0123456789ab"
SUBSCRIBE_TEMPLATE = "tmpl-complaint-update"
SCENE_CHARS = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$&'()*+,/:;=?@-._~")


@dataclass
class Login:
    openid: str
    session_key: str
    unionid: str | None = None
    used: bool = False


@dataclass
class FakeWeChat:
    appid: str = APPID
    secret: str = SECRET
    # Lifetime of the tokens this server issues (WeChat's is 7200 s).
    expires_in: int = 7200
    subscribe_templates: set[str] = field(default_factory=lambda: {SUBSCRIBE_TEMPLATE})
    pages: set[str] = field(default_factory=lambda: {"pages/verify/index", "pages/complaint/detail"})

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.tokens: dict[str, float] = {}
        self.token_fetches = 0
        self.logins: dict[str, Login] = {}
        self.known_openids: set[str] = set()
        # openids whose last visit WeChat considers too old for msgSecCheck (61010)
        self.stale_openids: set[str] = set()
        self.refusing_openids: set[str] = set()
        self.failures: dict[str, list[tuple[int, str]]] = {}
        self.down: set[str] = set()
        self.calls: list[tuple[str, dict[str, str], Any]] = []
        self.sent_messages: list[dict[str, Any]] = []
        self.codes_made: list[dict[str, Any]] = []
        self._server = None
        self._thread: threading.Thread | None = None

    # -- steering -------------------------------------------------------------------------------
    def login_code(self, code: str, openid: str, session_key: str | None = None, unionid: str | None = None) -> None:
        self.logins[code] = Login(openid, session_key or secrets.token_urlsafe(16), unionid)

    def fail(self, path: str, errcode: int, errmsg: str = "", times: int = 1) -> None:
        """The next ``times`` calls of ``path`` answer ``errcode``."""
        with self._lock:
            self.failures.setdefault(path, []).extend([(errcode, errmsg or ERRMSG.get(errcode, "error"))] * times)

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens = {token: 0.0 for token in self.tokens}

    def calls_to(self, path: str) -> list[tuple[str, dict[str, str], Any]]:
        return [call for call in self.calls if call[0] == path]

    # -- the server -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeWeChat:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-wechat", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        body = request.get_data()
        payload = json.loads(body) if body and request.method == "POST" else None
        with self._lock:
            self.calls.append((path, dict(request.args), payload))
        handler = ROUTES.get((request.method, path))
        if handler is None:
            return _json({"errcode": 40066, "errmsg": "invalid url"}, status=404)
        if path in self.down:
            return Response("<html><body>503 Service Temporarily Unavailable</body></html>", status=503)
        with self._lock:
            queued = self.failures.get(path)
            failure = queued.pop(0) if queued else None
        if failure:
            return _error(*failure)
        if handler.__name__ not in ("token", "jscode2session"):
            refused = self._check_token(request.args.get("access_token"))
            if refused:
                return refused
        return handler(self, request, payload)

    def _check_token(self, token: str | None) -> Response | None:
        if not token:
            return _error(41001, "access_token missing")
        with self._lock:
            expiry = self.tokens.get(token)
        if expiry is None:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if expiry <= time.monotonic():
            return _error(42001, "access_token expired")
        return None

    # -- endpoints ------------------------------------------------------------------------------
    def token(self, request: Request, _payload: Any) -> Response:
        args = request.args
        if args.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if args.get("appid") != self.appid:
            return _error(40013, "invalid appid")
        if args.get("secret") != self.secret:
            return _error(40125, "invalid appsecret")
        token = "FAKE_AT_" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.monotonic() + self.expires_in
            self.token_fetches += 1
        return _json({"access_token": token, "expires_in": self.expires_in})

    def jscode2session(self, request: Request, _payload: Any) -> Response:
        args = request.args
        if args.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        if args.get("appid") != self.appid:
            return _error(40013, "invalid appid")
        if args.get("secret") != self.secret:
            return _error(40125, "invalid appsecret")
        with self._lock:
            login = self.logins.get(args.get("js_code", ""))
            if login is None:
                return _error(40029, "invalid code")
            if login.used:
                return _error(40163, "code been used")
            login.used = True
            self.known_openids.add(login.openid)
        answer = {"openid": login.openid, "session_key": login.session_key}
        if login.unionid:
            answer["unionid"] = login.unionid
        return _json(answer)

    def msg_sec_check(self, _request: Request, payload: Any) -> Response:
        if not isinstance(payload, dict) or payload.get("version") != 2:
            return _error(40097, "invalid args: version must be 2")
        content, scene, openid = payload.get("content"), payload.get("scene"), payload.get("openid")
        if not isinstance(content, str) or scene not in (1, 2, 3, 4):
            return _error(40097, "invalid args")
        if openid not in self.known_openids:
            return _error(40003, "invalid openid")
        if openid in self.stale_openids:
            return _error(61010, "user access expired")
        if any(word in content for word in RISKY_WORDS):
            suggest, label = "risky", 20006
        elif any(word in content for word in REVIEW_WORDS):
            suggest, label = "review", 20001
        else:
            suggest, label = "pass", 100
        return _json(
            {
                "errcode": 0,
                "errmsg": "ok",
                "result": {"suggest": suggest, "label": label},
                "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}],
                "trace_id": secrets.token_hex(12),
            }
        )

    def getwxacodeunlimit(self, _request: Request, payload: Any) -> Response:
        scene = (payload or {}).get("scene")
        if not isinstance(scene, str) or not 1 <= len(scene) <= 32:
            return _error(40169, "invalid length for scene, or the data is not json string")
        if not set(scene) <= SCENE_CHARS:
            return _error(40129, "invalid scene")
        if payload.get("check_path", True) and payload.get("page") not in self.pages:
            return _error(41030, "invalid page rid")
        self.codes_made.append(payload)
        image = io.BytesIO()
        segno.make(f"scene={scene}&page={payload.get('page')}", error="m").save(image, kind="png", scale=4)
        return Response(image.getvalue(), mimetype="image/png")

    def subscribe_send(self, _request: Request, payload: Any) -> Response:
        payload = payload or {}
        if payload.get("template_id") not in self.subscribe_templates:
            return _error(40037, "invalid template_id")
        if payload.get("touser") not in self.known_openids:
            return _error(40003, "invalid openid")
        if payload.get("touser") in self.refusing_openids:
            return _error(43101, "user refuse to accept the msg")
        data = payload.get("data")
        if not isinstance(data, dict) or not all(isinstance(v, dict) and "value" in v for v in data.values()):
            return _error(47003, "argument invalid! data format invalid")
        for key, value in data.items():
            if key.startswith("thing") and len(value["value"]) > 20:
                return _error(47003, f"argument invalid! data.{key}.value exceeds limit 20")
        self.sent_messages.append(payload)
        return _json({"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**12)})


ROUTES = {
    ("GET", "/cgi-bin/token"): FakeWeChat.token,
    ("GET", "/sns/jscode2session"): FakeWeChat.jscode2session,
    ("POST", "/wxa/msg_sec_check"): FakeWeChat.msg_sec_check,
    ("POST", "/wxa/getwxacodeunlimit"): FakeWeChat.getwxacodeunlimit,
    ("POST", "/cgi-bin/message/subscribe/send"): FakeWeChat.subscribe_send,
}

ERRMSG = {
    -1: "system error",
    40029: "invalid code",
    40163: "code been used",
    40226: "high risk user",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    61010: "user access expired",
}


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _error(errcode: int, errmsg: str) -> Response:
    # WeChat answers its errors with HTTP 200 and the errcode in the body.
    return _json({"errcode": errcode, "errmsg": errmsg})


@contextlib.contextmanager
def configured(app: Flask, config: dict[str, Any]) -> Iterator[Flask]:
    """The test session's app with these WeChat settings (and the clients they make), restored afterwards."""
    from backend.complaints import notify
    from miniapp_api.wechat import wechat

    previous_config = {name: app.config.get(name) for name in config}
    previous = {name: app.extensions[name] for name in ("wechat", "notifier")}
    app.config.update(config)
    wechat.init_app(app)
    notify.init_app(app)
    try:
        yield app
    finally:
        app.extensions["wechat"].chat_pool.shutdown(wait=True)
        app.config.update(previous_config)
        app.extensions.update(previous)


def settings(fake: FakeWeChat | None = None, **overrides: Any) -> dict[str, Any]:
    """The app's WECHAT_* settings for the fake's mini-program and the test official account."""
    config: dict[str, Any] = {
        "WECHAT_OFFICIAL_APPID": OFFICIAL_APPID,
        "WECHAT_OFFICIAL_TOKEN": OFFICIAL_TOKEN,
        "WECHAT_OFFICIAL_AES_KEY": OFFICIAL_AES_KEY,
        "WECHAT_SUBSCRIBE_TEMPLATE_ID": SUBSCRIBE_TEMPLATE,
    }
    if fake is not None:
        config.update(WECHAT_API_BASE_URL=fake.url, WECHAT_MINIAPP_APPID=fake.appid, WECHAT_MINIAPP_SECRET=fake.secret)
    config.update(overrides)
    return config


# -- WeChat calling the official account -----------------------------------------------------------
class OfficialAccountCaller:
    """Signs (and in safe mode encrypts) messages as WeChat's servers do, and reads the replies."""

    def __init__(self, token: str = OFFICIAL_TOKEN, aes_key: str = OFFICIAL_AES_KEY, appid: str = OFFICIAL_APPID):
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, appid)

    def query(self, **extra: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce)
        return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, **extra}

    def verification(self, echostr: str) -> str:
        """The query string of WeChat's server check (GET)."""
        return urlencode(self.query(echostr=echostr))

    def message(self, xml: str, *, encrypted: bool = False, openid: str = "o-citizen") -> tuple[str, bytes]:
        """(query string, body) of a POST carrying ``xml``, plaintext or in safe mode."""
        if not encrypted:
            return urlencode(self.query(openid=openid)), xml.encode()
        query = self.query(openid=openid, encrypt_type="aes")
        envelope = xmltodict.parse(self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"]))["xml"]
        query["msg_signature"] = envelope["MsgSignature"]
        body = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        )
        return urlencode(query), body.encode()

    def read_reply(self, body: bytes, *, encrypted: bool = False) -> dict[str, Any]:
        """The reply's fields (``Content``, ``MsgType``, ...), decrypted and its signature checked in safe mode."""
        xml = body.decode()
        if encrypted:
            envelope = xmltodict.parse(xml)["xml"]
            xml = self.crypto.decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
        return xmltodict.parse(xml)["xml"]


def text_message(content: str, openid: str = "o-citizen") -> str:
    return _message(
        openid, "text", f"<Content><![CDATA[{content}]]></Content><MsgId>{secrets.randbelow(10**16)}</MsgId>"
    )


def event_message(event: str, event_key: str | None = None, openid: str = "o-citizen") -> str:
    key = f"<EventKey><![CDATA[{event_key}]]></EventKey>" if event_key is not None else ""
    return _message(openid, "event", f"<Event><![CDATA[{event}]]></Event>{key}")


def _message(openid: str, msg_type: str, fields: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{fields}</xml>"
    )

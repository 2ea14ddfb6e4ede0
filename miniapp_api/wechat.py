"""The WeChat port: wechatpy's client, pointed at ``WECHAT_API_BASE_URL`` and sharing one access token.

wechatpy builds most URLs from ``https://api.weixin.qq.com`` hard-coded in each API class (and the
token URL in the client itself); ``WeChatApp`` sends every one of them to the configured base
instead, so tests and benches can talk to a local server that speaks WeChat's protocol.

The access token (client_credential) is kept in wechatpy's session storage on the cache port (Redis,
or the SQLite file every worker opens), so every worker uses the one token and only one of them fetches
a new one, under a lock in the same cache (each fetch invalidates the previous token within minutes). It
is stored for five minutes less than WeChat grants, so it is replaced before it expires; a token WeChat
rejects anyway (40001/42001) is replaced once and the call retried once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, current_app
from optionaldict import optionaldict
from wechatpy import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from backend.errors import ServiceUnavailable
from backend.extensions.cache import CacheAdapter

log = logging.getLogger(__name__)

WECHAT_ORIGIN = "https://api.weixin.qq.com"
# 40001 invalid credential, 40014 invalid access_token, 42001 access_token expired
STALE_TOKEN = frozenset({40001, 40014, 42001})
# -1 system busy, 45009 daily quota, 45011 per-minute limit: WeChat asks us to come back later.
BUSY = frozenset({-1, 45009, 45011})
REFRESH_MARGIN_SECONDS = 300


class WxaAPI(WeChatWxa):
    """wechatpy's mini-program API, with the calls it lacks or gets slightly wrong for us."""

    def code_to_session(self, js_code: str) -> dict[str, Any]:
        # jscode2session authenticates with appid + secret; wechatpy would add (and first fetch) an
        # access token, so a login could fail only because the token endpoint is busy. A None value
        # keeps the parameter out of the request.
        return self._get(
            "sns/jscode2session",
            params={
                "appid": self.appid,
                "secret": self.secret,
                "js_code": js_code,
                "grant_type": "authorization_code",
                "access_token": None,
            },
        )

    def check_text(self, content: str, *, openid: str, scene: int) -> dict[str, Any]:
        """msgSecCheck version 2 (wechatpy has only version 1): ``result.suggest`` is pass, review or risky."""
        return self._post(
            "wxa/msg_sec_check", data={"content": content, "version": 2, "scene": scene, "openid": openid}
        )

    def get_unlimited_code(self, scene: str, *, page: str, env_version: str, width: int = 430) -> bytes:
        """wxacode.getUnlimited; wechatpy's version cannot say which page or mini-program version to open."""
        response = self._post(
            "wxa/getwxacodeunlimit",
            data=optionaldict(
                scene=scene,
                page=page,
                width=width,
                env_version=env_version,
                # Only the released version has its pages registered; trial and develop builds do not.
                check_path=env_version == "release",
            ),
        )
        # wechatpy returns the HTTP response itself when the body is not JSON: here, the image.
        return response.content


class WeChatApp(WeChatClient):
    """One WeChat app (the mini-program): wechatpy's client with a configurable base URL and a shared token."""

    wxa = WxaAPI()

    def __init__(
        self, appid: str, secret: str, *, base_url: str, session: SessionStorage, timeout: float, lock: Any
    ) -> None:
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        self.base_url = base_url.rstrip("/")
        self._refresh_lock = lock

    def _rebase(self, url: str) -> str:
        return self.base_url + url[len(WECHAT_ORIGIN) :] if url.startswith(WECHAT_ORIGIN) else url

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        if not url_or_endpoint.startswith(("http://", "https://")):
            url_or_endpoint = kwargs.pop("api_base_url", self.API_BASE_URL) + url_or_endpoint
        url = self._rebase(url_or_endpoint)
        params = kwargs.setdefault("params", {})
        used = None
        if "access_token" not in params:
            params["access_token"] = used = self.access_token
        try:
            return self._send(method, url, **kwargs)
        except WeChatClientException as error:
            if used is None or error.errcode not in STALE_TOKEN:
                raise
            log.info("WeChat rejected the access token (%s); replacing it once", error.errcode)
            params["access_token"] = self._refresh(stale=used)
            return self._send(method, url, **kwargs)

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            return super()._request(method, url, **kwargs)
        except requests.RequestException as error:
            raise WeChatClientException(None, f"{type(error).__name__}: {error}", client=self) from error

    @property
    def access_token(self) -> str:
        return self.session.get(self.access_token_key) or self._refresh()

    def _refresh(self, stale: str | None = None) -> str:
        """Fetch a new token unless another worker already has; ``stale`` is one WeChat just rejected."""
        with self._refresh_lock(self.access_token_key):
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            self.fetch_access_token()
            return self.session.get(self.access_token_key)

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=WECHAT_ORIGIN + "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def _fetch_access_token(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        # wechatpy's own version has no timeout, ignores the base URL and keeps the token for as
        # long as WeChat grants it: every worker would use it up to the last second.
        try:
            response = self._http.get(self._rebase(url), params=params, timeout=self.timeout)
            response.raise_for_status()
            result = response.json()
        except (requests.RequestException, ValueError) as error:
            raise WeChatClientException(None, f"{type(error).__name__}: {error}", client=self) from error
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self, response=response)
        expires_in = int(result.get("expires_in", 7200))
        ttl = max(expires_in - REFRESH_MARGIN_SECONDS, expires_in // 2, 1)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        log.info("fetched a WeChat access token for %s (kept %d s of %d)", self.appid, ttl, expires_in)
        return result


# -- token storage ---------------------------------------------------------------------------------
class CacheStorage(SessionStorage):
    """wechatpy's session storage on the cache port (wechatpy's MemoryStorage ignores expiry and is per worker)."""

    def __init__(self, cache: CacheAdapter, prefix: str = "wechatpy") -> None:
        self.cache = cache
        self.prefix = prefix

    def get(self, key: str, default: Any = None) -> Any:
        value = self.cache.get(f"{self.prefix}:{key}")
        return default if value is None else json.loads(value)

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if value is not None:
            self.cache.set(f"{self.prefix}:{key}", json.dumps(value), ttl)

    def delete(self, key: str) -> None:
        self.cache.delete(f"{self.prefix}:{key}")


def cache_lock(cache: CacheAdapter, prefix: str, timeout: float):
    """A lock every worker sharing ``cache`` respects: ``add`` takes it, and it expires if its holder dies."""

    @contextlib.contextmanager
    def hold(name: str) -> Iterator[None]:
        key, owner = f"{prefix}:lock:{name}", uuid.uuid4().hex
        # Another worker holding it past the wait means WeChat is slow: go ahead rather than stall.
        deadline = time.monotonic() + timeout * 2
        while not (acquired := cache.add(key, owner, ttl=timeout * 3)) and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            yield
        finally:
            if acquired and cache.get(key) == owner:
                cache.delete(key)

    return hold


# -- the extension ---------------------------------------------------------------------------------
@dataclass
class WeChatState:
    miniapp: WeChatApp | None
    # Official account: the token signs WeChat's calls to us; the AES key and app id decrypt safe mode.
    official_token: str | None
    official_aes_key: str | None
    official_appid: str | None
    # Chat searches run here, so a slow search cannot hold a reply past WeChat's 5 seconds.
    chat_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="wechat-chat")
    )


class WeChat:
    def init_app(self, app: Flask) -> None:
        config = app.config
        miniapp = None
        if config["WECHAT_MINIAPP_APPID"] and config["WECHAT_MINIAPP_SECRET"]:
            timeout = config["WECHAT_TIMEOUT_SECONDS"]
            shared = app.extensions["cache"]
            miniapp = WeChatApp(
                config["WECHAT_MINIAPP_APPID"],
                config["WECHAT_MINIAPP_SECRET"],
                base_url=config["WECHAT_API_BASE_URL"],
                session=CacheStorage(shared),
                timeout=timeout,
                lock=cache_lock(shared, "wechatpy", timeout),
            )
        app.extensions["wechat"] = WeChatState(
            miniapp=miniapp,
            official_token=config["WECHAT_OFFICIAL_TOKEN"],
            official_aes_key=config["WECHAT_OFFICIAL_AES_KEY"],
            official_appid=config["WECHAT_OFFICIAL_APPID"],
        )

    @property
    def state(self) -> WeChatState:
        return current_app.extensions["wechat"]

    @property
    def miniapp(self) -> WeChatApp:
        """The mini-program's client; 503 when the mini-program is not configured."""
        client = self.state.miniapp
        if client is None:
            raise ServiceUnavailable(
                "微信小程序服务未配置", errors={"wechat": ["set WECHAT_MINIAPP_APPID and WECHAT_MINIAPP_SECRET"]}
            )
        return client


wechat = WeChat()


def unavailable(error: WeChatClientException, what: str) -> ServiceUnavailable:
    """WeChat down, busy or refusing us: a 503 that says when to try again (and a log line for operators)."""
    log.warning("WeChat %s failed: errcode=%s errmsg=%s", what, error.errcode, error.errmsg)
    busy = error.errcode in BUSY
    return ServiceUnavailable(
        "微信服务繁忙，请稍后再试" if busy else "暂时无法连接微信服务，请稍后再试",
        retry_after=60 if error.errcode in (45009, 45011) else 5,
        errors={"wechat": [f"errcode {error.errcode}: {error.errmsg}" if error.errcode else "unreachable"]},
    )

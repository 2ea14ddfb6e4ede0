"""The WeChat access token: fetched once, shared by every worker through Redis, replaced before it expires."""

import time
import uuid

import pytest

from backend import create_app
from tests.conftest import base_config
from tests.support.fake_wechat import FakeWeChat, configured, settings
from tests.support.services import require


def check_text(app, openid: str = "o-1") -> str:
    """One WeChat call needing the access token, as a request would make it."""
    with app.app_context():
        return app.extensions["wechat"].miniapp.wxa.check_text("你好", openid=openid, scene=2)["result"]["suggest"]


@pytest.fixture
def fake():
    with FakeWeChat(expires_in=2) as server:
        server.known_openids.add("o-1")
        yield server


def test_the_token_is_fetched_once_replaced_before_expiry_and_when_rejected(app, fake):
    with configured(app, settings(fake)):
        assert [check_text(app) for _ in range(3)] == ["pass"] * 3
        assert fake.token_fetches == 1
        # Kept for less than WeChat grants (here 2 s: kept 1 s), so the next call gets a new one in time.
        time.sleep(1.1)
        assert check_text(app) == "pass"
        assert fake.token_fetches == 2
        # WeChat ends a token early (another app fetched one, or a reset): replaced once, the call retried.
        fake.expire_tokens()
        assert check_text(app) == "pass"
        assert fake.token_fetches == 3
        codes = [call[2] for call in fake.calls if call[0] == "/wxa/msg_sec_check"]
        assert len(codes) == 6  # five calls, one of them sent twice


def test_a_token_wechat_keeps_rejecting_is_an_error_not_a_loop(app, fake):
    with configured(app, settings(fake)):
        fake.fail("/wxa/msg_sec_check", 40001, "invalid credential", times=5)
        with pytest.raises(Exception, match="40001"):
            check_text(app)
        assert fake.token_fetches == 2 and len(fake.calls_to("/wxa/msg_sec_check")) == 2


@pytest.mark.parametrize("store", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_two_workers_share_one_token_and_one_of_them_refreshes_it(database_url, tmp_path, fake, store):
    shared = {"CACHE_PATH": str(tmp_path / "cache.sqlite3"), **settings(fake)}
    if store == "redis":
        shared |= {"REDIS_URL": require("REDIS_URL", "Redis"), "CACHE_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}:"}
    first = create_app({**base_config(database_url, tmp_path / "one"), **shared})
    second = create_app({**base_config(database_url, tmp_path / "two"), **shared})
    try:
        assert check_text(first) == check_text(second) == "pass"
        assert fake.token_fetches == 1
        tokens = {call[1]["access_token"] for call in fake.calls_to("/wxa/msg_sec_check")}
        assert len(tokens) == 1
        time.sleep(1.1)  # past the shared copy's lifetime (WeChat grants 2 s here)
        assert check_text(second) == check_text(first) == "pass"
        assert fake.token_fetches == 2
        fake.expire_tokens()
        assert check_text(first) == check_text(second) == "pass"
        assert fake.token_fetches == 3
    finally:
        for app in (first, second):
            app.extensions["database"].engine.dispose()
            app.extensions["wechat"].chat_pool.shutdown()

"""Is a citizen's text fit to file as it is? WeChat's msgSecCheck when it can judge, a local filter otherwise.

msgSecCheck (version 2) judges text in the context of the user, and only of a user who visited the
mini-program in the last two hours: we ask it when the user logged in (which WeChat saw) within
that time. A user past it, or WeChat busy or unreachable, gets the local filter instead. Nothing is
dropped on either verdict: doubtful text is filed and marked for a handler's review.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from wechatpy.exceptions import WeChatClientException

from backend.extensions import clock

from .wechat import wechat

log = logging.getLogger(__name__)

# msgSecCheck's scenes: 1 profile, 2 comment, 3 forum post, 4 social log.
SCENE_COMMENT = 2
SCENE_POST = 3
FRESH_FOR = dt.timedelta(hours=2)

# A starting list: insults, threats, and the usual spam. The filter only sends text to review.
LOCAL_WORDS = (
    "傻逼", "煞笔", "操你", "草泥马", "王八蛋", "狗日", "去死", "杀了你", "砍死", "炸死", "炸弹",
    "加微信", "加v", "代开发票", "刷单", "博彩", "赌博网",
)  # fmt: skip
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
SEPARATORS = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class Verdict:
    suggest: str  # pass, review or risky
    source: str  # wechat or local

    @property
    def doubtful(self) -> bool:
        return self.suggest != "pass"

    def note(self) -> str:
        judge = "微信内容安全检测" if self.source == "wechat" else "本地过滤"
        return f"{judge}结果为 {self.suggest}，请人工审核内容"


def check(text: str, *, openid: str, logged_in_at: dt.datetime, scene: int) -> Verdict:
    if clock.now() - logged_in_at <= FRESH_FOR:
        try:
            answer = wechat.miniapp.wxa.check_text(text, openid=openid, scene=scene)
            return Verdict(answer["result"]["suggest"], "wechat")
        except WeChatClientException as error:
            # 61010: WeChat has not seen the user lately; -1/45011 busy; None unreachable.
            log.info("msgSecCheck unavailable (errcode=%s %s): local filter", error.errcode, error.errmsg)
        except (KeyError, TypeError):
            log.warning("msgSecCheck answered without result.suggest: local filter")
    return local_verdict(text)


def local_verdict(text: str) -> Verdict:
    folded = SEPARATORS.sub("", text).lower()
    doubtful = any(word in folded for word in LOCAL_WORDS) or LINK.search(text) is not None
    return Verdict("review" if doubtful else "pass", "local")

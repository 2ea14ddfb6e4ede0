"""Configuration read from the environment, with safe development defaults.

Every environment variable the project reads is declared in ``SETTINGS`` below (name, type, default,
meaning) and read here only; README.md's configuration tables list the same names (tests/test_config.py
holds the two together). A value that does not parse stops the start with a ``ConfigError`` naming the
variable. ``create_app(config)`` applies the dict it is given on top of what ``load`` reads, which is
how tests override settings without touching the process environment.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from search_index.interfaces import EXACT_COUNT_LIMIT

ROOT = Path(__file__).resolve().parent.parent

# Penalties leave public view after a period: three years for organizations, one year for persons,
# unless DISCLOSURE_PERIODS says otherwise (credit repair can end it earlier, by withdrawal).
DEFAULT_DISCLOSURE_PERIODS = {"penalty": {"organization": 1095, "person": 365}}

# 公示截止期 of a penalty on the credit platform (信用修复 rules): a 警告 or 通报批评 is shown three months; any other
# penalty up to three years (it can be repaired, and taken down, after one).
DEFAULT_CREDIT_PUBLICITY_MONTHS = {"warning": 3, "criticism": 3, "*": 36}


class ConfigError(RuntimeError):
    """A variable's value does not parse: the message names the variable."""


# -- types: each parses the raw text or raises ValueError saying what was expected -----------------
def text(raw: str) -> str:
    return raw


def flag(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError("expected 1 or 0")
    return raw == "1"


def integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("expected a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(
                f"expected {minimum} to {maximum}" if maximum is not None else f"expected at least {minimum}"
            )
        return value

    return parse


def seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("expected a number of seconds") from None
    if not value > 0:
        raise ValueError("expected more than 0 seconds")
    return value


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return raw

    return parse


def url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// address")
    return raw.rstrip("/")


def urls(raw: str) -> str:
    """Comma-separated http(s) addresses (the nodes of a cluster); kept as one normalized string."""
    return ",".join(url(part.strip()) for part in raw.split(","))


def key_set(raw: str) -> str:
    """A JSON object {kid: PEM}; kept as text, the key ring parses it on each reload."""
    try:
        keys = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"expected a JSON object {{kid: PEM}} ({exc})") from None
    if not isinstance(keys, dict) or not all(isinstance(pem, str) for pem in keys.values()):
        raise ValueError("expected a JSON object {kid: PEM}")
    return raw


def disclosure_periods(raw: str) -> dict[str, dict[str, int]]:
    """A JSON object {category: {subject type: days}}."""
    try:
        periods = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"expected a JSON object {{category: {{subject type: days}}}} ({exc})") from None
    if not isinstance(periods, dict) or not all(
        isinstance(days, dict) and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in days.values())
        for days in periods.values()
    ):
        raise ValueError("expected a JSON object {category: {subject type: days}} with whole days above 0")
    return periods


def publicity_months(raw: str) -> dict[str, int]:
    """A JSON object {penalty class or "*": months}; "*" is required (the classes it does not list)."""
    try:
        months = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"expected a JSON object {{penalty class: months}} ({exc})") from None
    if (
        not isinstance(months, dict)
        or "*" not in months
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in months.values())
    ):
        raise ValueError('expected a JSON object {penalty class: months} with whole months above 0 and a "*" entry')
    return months


# -- the settings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    # Used when the variable is unset or empty; a callable computes it from the instance folder and the
    # values read before it.
    default: Any
    description: str
    # What an empty value means when it does not mean "the default" (ACCESS_LOG= turns the log off).
    empty: Any = ...


def _in_instance(file: str) -> Callable[[Path, Mapping[str, Any]], str]:
    return lambda instance, _read: str(instance / file)


def _keys_dir(folder: str) -> Callable[[Path, Mapping[str, Any]], str]:
    """The development key folder: ``folder`` for Ed25519 (as before the suites), ``folder-sm2`` for SM2, so that
    switching SIGNATURE_SUITE in development finds its own keys rather than refusing the other suite's."""
    return lambda instance, read: str(instance / (folder if read["SIGNATURE_SUITE"] == "ed25519" else f"{folder}-sm2"))


def _public_base_url(_instance: Path, read: Mapping[str, Any]) -> str:
    """The address ``make run`` serves: HOST and PORT, bound by deploy/gunicorn.conf.py."""
    host = read["HOST"]
    if host in ("0.0.0.0", "::"):  # listening on every address: this machine reaches it on loopback
        host = "127.0.0.1"
    elif ":" in host:  # an IPv6 address goes in brackets in a URL
        host = f"[{host}]"
    return f"http://{host}:{read['PORT']}"


def _secret_key(instance: Path, read: Mapping[str, Any]) -> str:
    """In development a random key kept in the instance folder; production refuses to start without one.

    The file is shared by all gunicorn workers, so tokens signed by one worker verify in another.
    """
    if read["APP_ENV"] == "production":
        raise ConfigError("SECRET_KEY must be set when APP_ENV=production")
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


S = Setting
# In reading order: a default computed from others comes after them.
SETTINGS: tuple[Setting, ...] = (
    # -- serving (deploy/gunicorn.conf.py) --
    S("HOST", text, "127.0.0.1", "address gunicorn listens on"),
    S("PORT", integer(1, 65535), 8000, "port gunicorn listens on"),
    S("WEB_WORKERS", integer(1), lambda *_: multiprocessing.cpu_count(), "gunicorn worker processes"),
    S("WEB_THREADS", integer(1), 4, "threads per gunicorn worker"),
    S("WEB_GC_FREEZE", flag, True, "each worker freezes what it loaded at start out of the collector's passes"),
    # The app logs every request itself (backend/request_log.py: a request id, the route rule, no tokens), so
    # gunicorn's own access line, which holds the raw path and query, is off unless asked for.
    S("ACCESS_LOG", text, None, "gunicorn's own access log: - for stderr, a file; unset or empty for none", empty=None),
    S("INSTANCE_PATH", text, str(ROOT / "instance"), "folder for the SQLite files and the development secret"),
    # -- the application --
    S(
        "APP_ENV",
        one_of("development", "production"),
        "development",
        "production refuses to start without SECRET_KEY, an https PUBLIC_BASE_URL and both signing key sets",
    ),
    S(
        "LOG_FORMAT",
        one_of("json", "text"),
        lambda _instance, read: "json" if read["APP_ENV"] == "production" else "text",
        "logs as one JSON object a line (json) or as lines to read (text)",
    ),
    # /metrics (backend/health/routes.py): Prometheus sends this as a bearer token; unset, there is no /metrics.
    S("METRICS_TOKEN", text, None, "bearer token a Prometheus scraper sends to GET /metrics; unset: no /metrics"),
    S(
        "PROMETHEUS_MULTIPROC_DIR",
        text,
        None,
        "folder gunicorn's workers keep their metrics in (emptied at start); unset: a new temporary one",
    ),
    S("SECRET_KEY", text, _secret_key, "signs tokens and keys the transparency log's actor tags"),
    S("DATABASE_URL", text, lambda instance, _: f"sqlite:///{instance / 'sanxiang.sqlite3'}", "system of record"),
    S("REDIS_URL", text, None, "Redis for the cache; unset: the cache file"),
    S("CACHE_KEY_PREFIX", text, "", "prefix of every Redis key and channel (several deployments on one Redis)"),
    S("CACHE_PATH", text, _in_instance("cache.sqlite3"), "the cache this host's workers share without Redis"),
    S(
        "ELASTICSEARCH_URL",
        urls,
        None,
        "Elasticsearch, one node or several comma-separated; unset: the embedded engine",
    ),
    # 1 on a cluster of two or more nodes: an index stays whole when one node goes down.
    S("ELASTICSEARCH_REPLICAS", integer(0), 0, "replicas of each Elasticsearch index"),
    S("SEARCH_EMBEDDED_PATH", text, _in_instance("search.sqlite3"), "file of the embedded search engine"),
    S("SEARCH_INDEX_PREFIX", text, "sanxiang", "prefix of every index name and alias"),
    # "standard" ships with every distribution (one token per Han character, matched as phrases);
    # production clusters with the plugin can use "smartcn" or "ik_max_word".
    S("ELASTICSEARCH_TEXT_ANALYZER", text, "standard", "analyzer for Chinese text on Elasticsearch"),
    S("SEARCH_INDEXER_THREAD", flag, True, "each web worker drains the search outbox in a thread"),
    S(
        "SEARCH_INDEX_CHECK_SECONDS",
        seconds,
        10.0,
        "how often each process checks that every index projects this database (search is 503 while one does not)",
    ),
    S("SEARCH_AUTO_REINDEX", flag, True, "the indexer rebuilds an index that does not project this database"),
    S(
        "SEARCH_EXACT_COUNT_LIMIT",
        integer(1),
        EXACT_COUNT_LIMIT,
        "a public search counts its matches exactly up to this many; above, its total and facets are estimates (约)",
    ),
    S("PUBLIC_BASE_URL", url, _public_base_url, "public address used in links and badge QR codes"),
    S("TOKEN_TTL_SECONDS", integer(1), 900, "lifetime of an agency or admin bearer token"),
    S("TOKEN_FAILURES_ALLOWED", integer(0), 5, "failed secrets or passwords before each further try waits"),
    S("TOKEN_FAILURE_WINDOW_SECONDS", integer(1), 300, "how long failures are remembered"),
    S("MAX_CONTENT_LENGTH", integer(1), 8 * 1024 * 1024, "largest request body, in bytes"),
    S("DEMO_DATA", flag, True, "make run loads demo data"),
    # The signature algorithm of badge tokens, scan receipts and log checkpoints (backend/keys.py): Ed25519, or the
    # 国密 suite SM2 with SM3. Every key in both rings must be of this suite; a development folder is kept per suite.
    S("SIGNATURE_SUITE", one_of("ed25519", "sm2"), "ed25519", "signatures: ed25519, or sm2 (SM2 with SM3, 国密)"),
    S("BADGE_SIGNING_KEYS", key_set, None, "production badge keys, a JSON object {kid: PEM}"),
    S("BADGE_KEYS_DIR", text, _keys_dir("badge_keys"), "otherwise, PEM files <kid>.pem in this folder"),
    S("BADGE_FONT_PATH", text, None, "font for badge cards; unset: the bundled Noto Sans SC subset"),
    S("DYNAMIC_BADGE_SECONDS", integer(1), 60, "lifetime of a dynamic badge"),
    S("TRANSPARENCY_SIGNING_KEYS", key_set, None, "transparency checkpoint keys, a JSON object {kid: PEM}"),
    S("TRANSPARENCY_KEYS_DIR", text, _keys_dir("transparency_keys"), "otherwise, PEM files in this folder"),
    S(
        "DISCLOSURE_PERIODS",
        disclosure_periods,
        DEFAULT_DISCLOSURE_PERIODS,
        "days a decision stays public, by category and subject type, counted from the decision date",
    ),
    S(
        "CREDIT_PUBLICITY_MONTHS",
        publicity_months,
        DEFAULT_CREDIT_PUBLICITY_MONTHS,
        "信用中国 公示截止期: months after the decision date, by penalty class (the longest of a decision's applies)",
    ),
    S("EXPIRY_JOB_SECONDS", integer(1), 3600, "how often the expiry job runs"),
    S("COUNTS_JOB_SECONDS", integer(1), 60, "how often the 公示率 counters' deltas are folded"),
    S("SCHEDULER_THREAD", flag, True, "each web worker runs the periodic jobs in a thread"),
    # 负面清单 (seed 004): a matter goes on the list when one figure over the rolling window reaches its threshold.
    S("NEGATIVE_LIST_DAYS", integer(1), 90, "days of the 负面清单's rolling window"),
    S("NEGATIVE_LIST_COMPLAINTS", integer(1), 5, "complaints naming a matter's decisions that put it on the 负面清单"),
    S("NEGATIVE_LIST_CORRECTIONS", integer(1), 3, "corrections of a matter's published decisions that put it on"),
    S("NEGATIVE_LIST_WITHDRAWALS", integer(1), 2, "withdrawals as revoked, confirmed illegal or to be re-made"),
    S("NEGATIVE_LIST_OVERDUE", integer(1), 3, "decisions of the window published late or unpublished past deadline"),
    S("NEGATIVE_LIST_DEDUCTIONS", integer(1), 10, "points deducted in 案卷评查 that put a matter on the list"),
    S("NEGATIVE_LIST_JOB_SECONDS", integer(1), 3600, "how often the 负面清单 is recomputed"),
    # Complaints: accept within 3 working days, reply within 15 of acceptance (adjustable by local rules).
    S("COMPLAINT_ACCEPT_DAYS", integer(1), 3, "working days to accept a complaint"),
    S("COMPLAINT_REPLY_DAYS", integer(1), 15, "working days to reply after acceptance"),
    # Legal review: the opinion is due within 5 working days of submission (seed 002 asks each agency to set a limit).
    S("REVIEW_DAYS", integer(1), 5, "working days a legal reviewer has to give an opinion after submission"),
    S("COMPLAINT_RATE_LIMIT_PER_HOUR", integer(0), 10, "complaints per client address per hour"),
    # Complaint evidence (complaints/evidence.py): per file, per complaint, and the pixels an image may decode to
    # (40 MP: any phone photo at its usual size, far below a decompression bomb; decoding takes ~4 bytes a pixel).
    # A form sending several files at once is also bounded by MAX_CONTENT_LENGTH as a whole.
    S("COMPLAINT_EVIDENCE_MAX_BYTES", integer(1024), 5 * 1024 * 1024, "largest evidence file, in bytes"),
    S("COMPLAINT_EVIDENCE_MAX_FILES", integer(0, 20), 5, "evidence files a complaint may carry"),
    S("COMPLAINT_EVIDENCE_MAX_PIXELS", integer(1), 40_000_000, "largest evidence image, in pixels"),
    # The complainant's contact details are kept this long after the complaint is closed, then erased (the
    # complaint, its content and timeline stay). 180 days: the complainant may reopen within 15 days, and may take
    # the matter to court within six months (行政诉讼法 art. 46), when the agency may need to reach them; past that
    # PIPL art. 19 keeps personal information no longer than the purpose needs. Never less than the reopening window.
    S("COMPLAINT_CONTACT_RETENTION_DAYS", integer(15), 180, "days after closure a complainant's contact is kept"),
    S("DEFAULT_REGION", text, "350500", "region whose 司法局 takes complaints naming no agency"),
    # The footer every government website carries (国务院办公厅《政府网站发展指引》, 2017): who runs it, its 网站标识码
    # and ICP 备案 number, the 公安机关 备案 number once filed, and how to reach the site's keeper. The defaults are
    # placeholders that say so, for `make run`; a deployment sets its own.
    S("SITE_SPONSOR", text, "某市司法局（示例，请设置 SITE_SPONSOR）", "主办单位 shown in every public page's footer"),
    S("SITE_ID_CODE", text, "0000000000", "网站标识码 (10 digits, from the government website registry)"),
    S("SITE_ICP", text, "X ICP备00000000号（示例）", "ICP备案号, linked to the MIIT registry"),
    S("SITE_PSB_RECORD", text, None, "公安机关备案号 (e.g. 闽公网安备35050002000001号); unset: not shown"),
    S("SITE_CONTACT", text, "0000-00000000（示例）", "联系我们: the site keeper's phone or e-mail"),
    S("ESCALATION_JOB_SECONDS", integer(1), 600, "how often overdue complaints are escalated"),
    S("RETENTION_JOB_SECONDS", integer(1), 3600, "how often expired complainant contact details are erased"),
    S("NOTIFY_JOB_SECONDS", integer(1), 30, "how often queued WeChat notifications are sent"),
    S("OFFICER_PHOTO_MAX_BYTES", integer(1), 2 * 1024 * 1024, "largest officer photo"),
    S("VERIFY_RATE_LIMIT_PER_MINUTE", integer(0), 60, "badge checks per client address per minute (0: no limit)"),
    S(
        "EXCHANGE_RATE_LIMIT_PER_MINUTE",
        integer(0),
        120,
        "changes-feed reads per exchange client per minute (0: no limit)",
    ),
    # Push subscriptions of exchange clients (backend/exchange/push.py).
    S("PUSH_INTERVAL_SECONDS", integer(1), 30, "how often the push job turns log entries into deliveries and sends"),
    S("PUSH_TIMEOUT_SECONDS", seconds, 10.0, "a receiver that has not answered a push within this is retried"),
    S("PUSH_RETRY_HOURS", integer(1), 24, "a push failing this long after its first attempt is parked"),
    S("PUSH_BACKOFF_SECONDS", integer(1), 30, "wait after a push's first failure, doubling after each further one"),
    S("PUSH_BACKOFF_MAX_SECONDS", integer(1), 3600, "longest wait between two attempts of a push"),
    S("SCAN_LOG_INTERVAL_SECONDS", integer(0), 1, "how often buffered badge scans are written"),
    S("TRUSTED_PROXY_COUNT", integer(0), 0, "reverse proxies in front that set X-Forwarded-For"),
    # -- admin page sessions (backend/admin_pages) --
    # The session cookie's Secure flag. It must stay on in production, where the page is served over
    # HTTPS: the cookie then never travels in clear. Chromium and Firefox keep Secure cookies for
    # http://127.0.0.1 and localhost, but Safari drops them and every browser drops them on a LAN
    # address over http, so a login there would silently never stick; hence the default is on only
    # when APP_ENV=production and off for `make run` and tests (Werkzeug's test client sends Secure
    # cookies over http anyway). ADMIN_COOKIE_SECURE=1/0 overrides either way.
    S(
        "ADMIN_COOKIE_SECURE",
        flag,
        lambda _instance, read: read["APP_ENV"] == "production",
        "the admin session cookie's Secure flag",
    ),
    # Every admin account needs a second factor (TOTP, accounts/totp.py) before it can sign in: on by default in
    # production (等保 level 3); accounts that enrolled need their code either way.
    S(
        "ADMIN_TOTP_REQUIRED",
        flag,
        lambda _instance, read: read["APP_ENV"] == "production",
        "every admin account must enrol a TOTP second factor",
    ),
    # 等保 level 3 keeps audit records at least six months: a purge of anything younger is refused.
    S("AUDIT_RETENTION_DAYS", integer(180), 180, "audit entries younger than this many days cannot be purged"),
    # A login lasts at most 8 hours, and ends after 30 minutes without a request.
    S("ADMIN_SESSION_SECONDS", integer(1), 8 * 3600, "longest admin session"),
    S("ADMIN_IDLE_SECONDS", integer(1), 30 * 60, "an admin session ends after this long without a request"),
    # Admin passwords (accounts/passwords.py): at least 3 of 4 character classes, not the username, none of the
    # last 5; 等保 level 3 asks for a periodic change, hence an expiry by default in production (0: never).
    S("PASSWORD_MIN_LENGTH", integer(8, 128), 12, "shortest admin password"),
    S(
        "PASSWORD_MAX_AGE_DAYS",
        integer(0),
        lambda _instance, read: 90 if read["APP_ENV"] == "production" else 0,
        "days before an admin password must be changed (0: never)",
    ),
    # -- WeChat (miniapp_api): each part is off (503) until its settings are given --
    # Where wechatpy sends API calls; tests and benches point it at a local WeChat protocol server.
    S("WECHAT_API_BASE_URL", url, "https://api.weixin.qq.com", "where every WeChat API call goes"),
    S("WECHAT_MINIAPP_APPID", text, None, "the mini-program's appid"),
    S("WECHAT_MINIAPP_SECRET", text, None, "the mini-program's secret"),
    S("WECHAT_OFFICIAL_APPID", text, None, "the official account's appid (safe mode)"),
    S("WECHAT_OFFICIAL_SECRET", text, None, "the official account's secret"),
    S("WECHAT_OFFICIAL_TOKEN", text, None, "the official account's server token"),
    S("WECHAT_OFFICIAL_AES_KEY", text, None, "the official account's message key (safe mode)"),
    # Subscribe-message template for complaint updates (keywords in README), and the pages codes open.
    S("WECHAT_SUBSCRIBE_TEMPLATE_ID", text, None, "subscribe-message template for complaint updates"),
    S("WECHAT_MINIAPP_BADGE_PAGE", text, "pages/verify/index", "the page a badge code opens"),
    S("WECHAT_MINIAPP_COMPLAINT_PAGE", text, "pages/complaint/detail", "the page a complaint message opens"),
    S("WECHAT_MINIAPP_ENV_VERSION", one_of("release", "trial", "develop"), "release", "which build codes open"),
    S("WECHAT_TIMEOUT_SECONDS", seconds, 3.0, "timeout of each call to WeChat"),
    # WeChat drops a chat reply after 5 s: a search slower than this gets a short reply with a link.
    S("WECHAT_REPLY_SECONDS", seconds, 4.0, "a chat search slower than this gets a short reply with a link"),
)
del S
BY_NAME = {setting.name: setting for setting in SETTINGS}

# flask-smorest / OpenAPI: fixed, not read from the environment.
OPENAPI = {
    "API_TITLE": "行政执法三项制度 API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
}


def _value(setting: Setting, instance: Path, read: Mapping[str, Any]) -> Any:
    raw = os.environ.get(setting.name)
    if raw == "" and setting.empty is not ...:
        return setting.empty
    if raw:
        try:
            return setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.name}={raw!r}: {exc}") from None
    return setting.default(instance, read) if callable(setting.default) else setting.default


def export_metrics_folder() -> str:
    """For deploy/gunicorn.conf.py, before anything imports prometheus-client (which chooses its multiprocess
    mode from the environment when first imported): PROMETHEUS_MULTIPROC_DIR, or a new temporary folder, put
    in the environment gunicorn's workers inherit."""
    folder = read("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="sanxiang-metrics-")
    Path(folder).mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


def read(name: str) -> Any:
    """One setting whose default needs no other (gunicorn's, INSTANCE_PATH): from the environment or its default."""
    return _value(BY_NAME[name], ROOT / "instance", {})


# Hosts a public address must not name: the badge QR codes and links carry it to citizens' phones.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})
# A production SECRET_KEY signs every token: shorter than this is a password, not a key.
SECRET_KEY_MIN_LENGTH = 32


def check_production(values: Mapping[str, Any]) -> None:
    """Under APP_ENV=production, refuse what would fail later or quietly weaken the service, naming the variable:
    a public address that citizens' phones cannot reach or that is not HTTPS, and a short SECRET_KEY. (The
    signing keys are checked where the key rings are made, backend/app.py.)"""
    if values["APP_ENV"] != "production":
        return
    public = urlsplit(values["PUBLIC_BASE_URL"])
    if public.scheme != "https" or (public.hostname or "") in LOOPBACK_HOSTS or not public.hostname:
        raise ConfigError(
            f"PUBLIC_BASE_URL={values['PUBLIC_BASE_URL']!r}: must be the https:// address citizens reach "
            "when APP_ENV=production (badge QR codes carry it)"
        )
    if len(values.get("SECRET_KEY") or "") < SECRET_KEY_MIN_LENGTH:
        raise ConfigError(
            f"SECRET_KEY must be set, at least {SECRET_KEY_MIN_LENGTH} characters, when APP_ENV=production"
        )


def load(instance_path: str) -> dict[str, Any]:
    """Every setting, read and checked; raises ConfigError naming the first variable that does not parse."""
    instance = Path(instance_path)
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        values[setting.name] = _value(setting, instance, values)
    return values | OPENAPI

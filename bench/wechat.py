"""Official-account chat round trips through gunicorn. Target: p99 <= 200 ms at 20 concurrent senders.

What it measures: ``POST /wechat/official`` as WeChat's servers call it (signed query string, message
XML; ``--aes-share`` of them in safe mode, encrypted with wechatpy's own ``WeChatCrypto``), from
``--senders`` closed-loop senders (each sends its next message when the previous reply is in), on a
gunicorn server started as ``make run`` starts it, with the WECHAT_* settings of a test account and
``WECHAT_API_BASE_URL`` pointing at the local WeChat protocol server (tests/support/fake_wechat.py)
running in this process. The messages are a seeded mix: badge numbers of registered officers (the
reply is the live verification), unknown badge numbers, and free-text queries drawn from
``--queries`` distinct ones (the reply lists the top 3 disclosures out of ``--items``). The chat
keeps a search's answer for a minute, so the table splits free text into ``search`` (the first time
the run asks that query: a real search) and ``search_again`` (asked before: the kept answer).
Every message is built, signed and encrypted before the clock starts; a round trip is timed from
sending the request to the last byte of the reply. Afterwards
every reply is decrypted where needed and checked (a text reply to the right user, of the expected
kind); replies that fell back to the short "searching" answer (search slower than
WECHAT_REPLY_SECONDS) are counted separately.

Set-up through the real paths, in-process on the same isolated instance: migrations, agencies,
``--items`` disclosures published with ``services.bulk_upsert``, ``--officers`` officers with
``services.upsert_officer``, the disclosure index built with ``reindex``. SEARCH_INDEXER_THREAD=0,
access logs off. A fresh PostgreSQL database when DATABASE_URL is set, else SQLite.

Run:

    .venv/bin/python bench/wechat.py
    .venv/bin/python bench/wechat.py --senders 20 --messages 6000 --aes-share 0.5

Progress goes to stderr; stdout gets the table and, last, one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dataset
import infra
import reporting

from tests.support.fake_wechat import FakeWeChat, OfficialAccountCaller, settings, text_message

TARGET_P99_MS = 200.0
TERMS = (
    "食品", "处罚", "许可", "环境", "交通", "消防", "药品", "建筑", "安全", "经营", "运输", "施工", "广告", "价格",
    "排放", "医疗", "旅游", "噪声", "罚款", "整改", "行政处罚", "过期食品", "安全生产", "食品安全", "环境保护",
    "道路运输", "建筑施工", "消防安全", "药品经营", "超标排放", "疏散通道", "特种设备", "非法营运", "施工许可",
    "危险废物", "医疗废物", "虚假广告", "明码标价", "占道经营", "扬尘污染",
)  # fmt: skip


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """What citizens type: single terms, and pairs of them, ``size`` distinct queries in all."""
    queries = list(TERMS)
    pairs = [f"{a} {b}" for a in TERMS for b in TERMS if a != b]
    rng.shuffle(pairs)
    return queries + pairs[: max(0, size - len(queries))]


@dataclass
class Message:
    kind: str  # badge, unknown_badge, search (first ask of its query in the run) or search_again
    encrypted: bool
    openid: str
    path: str
    body: bytes
    status: int = 0
    seconds: float = 0.0
    reply: bytes = b""
    error: str | None = None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--senders", type=int, default=20, help="concurrent senders (default 20)")
    parser.add_argument("--messages", type=int, default=6000, help="measured messages in all (default 6000)")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured messages first (default 300)")
    parser.add_argument("--items", type=int, default=5000, help="published disclosures (default 5000)")
    parser.add_argument("--officers", type=int, default=200, help="registered officers (default 200)")
    parser.add_argument("--aes-share", type=float, default=0.5, help="share sent in safe mode (default 0.5)")
    parser.add_argument("--badge-share", type=float, default=0.5, help="share that are badge numbers (default 0.5)")
    parser.add_argument("--queries", type=int, default=400, help="distinct free-text queries (default 400)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: as make run, one per core)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: as make run, 4)")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def set_up(inst: infra.Instance, args: argparse.Namespace) -> list[str]:
    """Agencies, disclosures, officers and the index; returns the registered badge numbers."""
    from backend.agencies.services import get_agency
    from backend.extensions import search
    from backend.officers.services import upsert_officer
    from backend.search.indexing import reindex
    from search_index.mappings import DISCLOSURES

    agencies = dataset.make_agencies()
    publishers = dataset.publishers(agencies)
    corpus = dataset.Corpus(args.seed)
    app = infra.make_app(inst)
    badges = []
    try:
        infra.migrate_in_process(app)
        infra.create_agencies(app, agencies)
        reporting.log(f"publishing {args.items} disclosures")
        for n, agency in enumerate(publishers):
            count = args.items // len(publishers) + (n < args.items % len(publishers))
            infra.bulk_load(app, agency.code, [corpus.item(agency, f"wx-{i:06d}", 0.2) for i in range(count)])
        reporting.log(f"registering {args.officers} officers")
        with app.app_context():
            for n in range(args.officers):
                agency = publishers[n % len(publishers)]
                badge_no = f"{agency.region}{n:05d}"
                data = {
                    "name": corpus.person(),
                    "domains": [dataset.DOMAINS[d]["label"] for d in agency.domains],
                    "regions": [agency.region],
                    "valid_from": dt.date(2024, 1, 1),
                    "valid_until": dt.date(2029, 12, 31),
                }
                upsert_officer(get_agency(agency.code), badge_no, data, "bench")
                badges.append(badge_no)
            reporting.log("building the disclosure index")
            search.ensure_indices()
            reindex(DISCLOSURES)
    finally:
        infra.dispose(app)
    return badges


def make_messages(
    count: int, badges: list[str], queries: list[str], asked: set[str], args: argparse.Namespace, rng: random.Random
) -> list[Message]:
    """Signed (and some encrypted) messages; ``asked`` holds the queries sent before, and grows."""
    caller = OfficialAccountCaller()
    messages = []
    for i in range(count):
        draw = rng.random()
        if draw < args.badge_share * 0.9:
            kind, text = "badge", rng.choice(badges)
        elif draw < args.badge_share:
            kind, text = "unknown_badge", f"3599{rng.randrange(10**7):07d}"
        else:
            kind, text = "search", rng.choice(queries)
        if kind == "search" and text in asked:
            kind = "search_again"
        asked.add(text)
        encrypted = rng.random() < args.aes_share
        openid = f"o-bench-{i % 500:03d}"
        query, body = caller.message(text_message(text, openid), encrypted=encrypted, openid=openid)
        messages.append(Message(kind, encrypted, openid, f"/wechat/official?{query}", body))
    return messages


def send_all(port: int, messages: list[Message], senders: int) -> float:
    """Closed loop: each sender sends its share one after the other; returns the wall time."""
    local = threading.local()
    queue = iter(messages)
    lock = threading.Lock()

    def sender() -> None:
        client = getattr(local, "client", None) or infra.HttpClient(port, timeout=30)
        local.client = client
        while True:
            with lock:
                message = next(queue, None)
            if message is None:
                client.close()
                return
            try:
                message.status, message.reply, message.seconds = client.request(
                    "POST", message.path, message.body, {"Content-Type": "text/xml"}
                )
            except Exception as exc:  # counted as an error, with its reason
                message.error = repr(exc)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        for _ in range(senders):
            pool.submit(sender)
    return time.perf_counter() - started


def check(message: Message, caller: OfficialAccountCaller) -> str:
    """ok, fallback (the short "searching" reply) or what is wrong with the reply."""
    if message.error or message.status != 200:
        return message.error or f"HTTP {message.status}: {message.reply[:200]!r}"
    try:
        reply = caller.read_reply(message.reply, encrypted=message.encrypted)
    except Exception as exc:
        return f"unreadable reply: {exc!r}"
    content = reply.get("Content") or ""
    if reply.get("MsgType") != "text" or reply.get("ToUserName") != message.openid:
        return f"wrong reply: {reply}"
    expected = {"badge": "【", "unknown_badge": "未查到执法证号", "search": "公示信息", "search_again": "公示信息"}
    if message.kind.startswith("search") and content.startswith("正在检索"):
        return "fallback"
    if message.kind.startswith("search") and content.startswith("未找到"):
        return "ok"
    return "ok" if expected[message.kind] in content else f"unexpected {message.kind} reply: {content[:80]}"


def main() -> None:
    args = parse_args()
    infra.exit_on_sigterm()
    rng = random.Random(args.seed)
    result: dict[str, Any] = {"bench": "wechat", "target_p99_ms": TARGET_P99_MS, "args": vars(args)}
    with infra.instance("wechat") as inst, FakeWeChat() as fake:
        result["database"] = infra.database_kind(inst.database_url)
        badges = set_up(inst, args)
        env = {name: str(value) for name, value in settings(fake).items()}
        queries, asked = vocabulary(args.queries, rng), set()
        warmup = make_messages(args.warmup, badges, queries, asked, args, rng)
        measured = make_messages(args.messages, badges, queries, asked, args, rng)
        reporting.log(f"{len(measured)} messages signed ({sum(m.encrypted for m in measured)} encrypted)")
        with infra.Gunicorn(inst, workers=args.workers, threads=args.threads, **env) as server:
            send_all(server.port, warmup, args.senders)
            reporting.log(f"sending {len(measured)} messages from {args.senders} senders")
            wall = send_all(server.port, measured, args.senders)
        caller = OfficialAccountCaller()
        verdicts = [check(message, caller) for message in measured]
    errors = [(m, v) for m, v in zip(measured, verdicts, strict=True) if v not in ("ok", "fallback")]
    rows, by_kind = [], {}
    for kind in ("badge", "unknown_badge", "search", "search_again", "plaintext", "safe mode", "all"):
        chosen = [
            m
            for m in measured
            if kind == "all"
            or m.kind == kind
            or (kind == "plaintext" and not m.encrypted)
            or (kind == "safe mode" and m.encrypted)
        ]
        latency = reporting.summary_ms([m.seconds for m in chosen if m.status == 200])
        by_kind[kind] = latency
        rows.append([kind, len(chosen), latency.get("p50"), latency.get("p95"), latency.get("p99"), latency.get("max")])
    result.update(
        messages=len(measured),
        wall_seconds=round(wall, 2),
        throughput_per_s=round(len(measured) / wall, 1),
        errors=len(errors),
        fallbacks=verdicts.count("fallback"),
        latency_ms=by_kind,
        first_errors=[v for _, v in errors[:3]],
        wechat_api_calls=len(fake.calls),
        environment=reporting.environment(),
    )
    p99 = by_kind["all"].get("p99", float("nan"))
    result["target_met"] = bool(p99 <= TARGET_P99_MS and not errors)
    reporting.print_table(
        f"Official-account chat round trips, {args.senders} senders, {len(measured)} messages "
        f"({result['database']}; {result['throughput_per_s']}/s; {len(errors)} errors, "
        f"{result['fallbacks']} fallbacks)",
        ["messages", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        rows,
    )
    print(f"\np99 {p99:.1f} ms (target <= {TARGET_P99_MS:.0f} ms): {'met' if result['target_met'] else 'MISSED'}")
    reporting.emit_json(result)


if __name__ == "__main__":
    main()

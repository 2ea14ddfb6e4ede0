"""A dependency cut under a mixed load against a live server: what each request was answered, what was kept.

Used by tests/test_outages_live.py (asserts) and bench/faults.py (prints). The server's Redis, PostgreSQL and
Elasticsearch are each reached through a :class:`~tests.support.tcp_proxy.TcpProxy`; stopping one takes that
service off the network for the server while the shared server itself keeps running.

The load: a few threads, each cycling through the requests citizens and agencies make — a badge check through
the API and through the page a phone camera opens, a complaint, an agency token, a publication (PUT of a new
decision) and a search — in a loop bounded by a stop event and a deadline. Every answer is kept with its
phase (before, during, after the outage), status, ``Retry-After`` and content type.

What each outage must be answered with is written once, in :func:`documented`: Redis down changes nothing a
client sees; the database down is a 503 with ``Retry-After`` (JSON in the error shape, the Chinese page for
``/v/``); Elasticsearch down is a 503 with ``Retry-After`` for search only. Never a 500.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

KINDS = ("verify", "page", "complaint", "token", "publish", "search")
OUTAGES = ("redis", "database", "elasticsearch")
# What each outage may answer with a 503 (documented in README's degradation table); nothing else may be.
UNAVAILABLE_KINDS = {"redis": frozenset(), "database": frozenset(KINDS), "elasticsearch": frozenset({"search"})}
# How long a single request may take; the server answers every request well within it.
REQUEST_TIMEOUT = 15.0


@dataclass(frozen=True)
class Answer:
    kind: str
    phase: str
    status: int  # 0: no HTTP answer at all (connection refused or cut)
    retry_after: str | None
    content_type: str
    code: int | None  # the error shape's ``code``, when the body is JSON with one
    at: float  # monotonic, when the answer arrived


def documented(answer: Answer, outage: str) -> bool:
    """Whether ``answer`` is what README documents for a request of its kind while ``outage`` is (or was
    just) down: a success, or for the kinds that need the missing service, 503 with Retry-After in the error
    shape (the page: HTML)."""
    if 200 <= answer.status < 300:
        return True
    if answer.status != 503 or answer.kind not in UNAVAILABLE_KINDS[outage] or not answer.retry_after:
        return False
    if answer.kind == "page":
        return answer.content_type.startswith("text/html")
    return answer.content_type.startswith("application/json") and answer.code == 503


@dataclass
class MixedLoad:
    base_url: str
    badge_token: str
    credentials: dict[str, str]
    bearer: dict[str, str]
    threads: int = 4
    limit_seconds: float = 180.0  # a hard bound on the loop, whatever happens to the controller
    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)
    # Publications answered 2xx: external id -> the public id the index holds it under.
    acknowledged: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._run = uuid.uuid4().hex[:8]
        parts = urlsplit(self.base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80

    def start(self) -> None:
        deadline = time.monotonic() + self.limit_seconds
        for number in range(self.threads):
            worker = threading.Thread(target=self._work, args=(number, deadline), daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(REQUEST_TIMEOUT + 5)

    def _work(self, number: int, deadline: float) -> None:
        turn = number  # threads start on different kinds
        while not self._stop.is_set() and time.monotonic() < deadline:
            kind = KINDS[turn % len(KINDS)]
            self._record(kind, *self._request(kind, f"{self._run}-{number}-{turn}"))
            turn += 1

    def _request(self, kind: str, ref: str) -> tuple[int, dict[str, str], bytes, str | None]:
        headers = {"Content-Type": "application/json"}
        body: dict | None = None
        external_id = None
        if kind == "verify":
            method, path = "GET", f"/api/v1/badges/verify?token={self.badge_token}"
        elif kind == "page":
            method, path = "GET", f"/v/{self.badge_token}"
        elif kind == "complaint":
            method, path = "POST", "/api/v1/complaints"
            body = {"category": "misconduct", "agency": "MKT", "content": f"执法人员未出示证件即要求检查（{ref}）。"}
        elif kind == "token":
            method, path, body = "POST", "/api/v1/auth/token", self.credentials
        elif kind == "publish":
            external_id = f"fault-{ref}"
            method, path = "PUT", f"/api/v1/publish/disclosures/{external_id}"
            headers.update(self.bearer)
            body = decision_body(ref)
        else:
            method, path = "GET", f"/api/v1/disclosures?q={quote('食品')}"
        connection = http.client.HTTPConnection(self._host, self._port, timeout=REQUEST_TIMEOUT)
        try:
            data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read(), external_id
        except (OSError, http.client.HTTPException):
            return 0, {}, b"", None
        finally:
            connection.close()

    def _record(self, kind: str, status: int, headers: dict[str, str], body: bytes, external_id: str | None) -> None:
        content_type = headers.get("Content-Type", "")
        code = None
        if content_type.startswith("application/json"):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                code = parsed.get("code")
                if external_id and 200 <= status < 300:
                    with self._lock:
                        self.acknowledged[external_id] = parsed["id"]
        answer = Answer(kind, self.phase, status, headers.get("Retry-After"), content_type, code, time.monotonic())
        with self._lock:
            self.answers.append(answer)


def decision_body(ref: str) -> dict:
    return {
        "phase": "post",
        "type": "decision",
        "category": "penalty",
        "title": f"泉州市某食品店销售过期食品行政处罚决定书（{ref}）",
        "content": "当事人销售超过保质期的食品，违反《中华人民共和国食品安全法》第三十四条，决定罚款五千元。",
        "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
        "document_no": f"泉市监罚〔2025〕{ref}号",
        "decision_date": "2025-09-30",
        "subject_type": "organization",
        "subject_name": "泉州市鲤城区某食品店",
        "subject_id": "92350502MA2Y12345P",
        "details": {
            "penalty_classes": ["fine"],
            "fine_amount": "5000",
            "violation_type": "销售超过保质期的食品",
            "violation_facts": "当事人销售超过保质期的食品。",
            "penalty_content": "罚款五千元",
            "legal_representative": "陈某某",
        },
    }


@dataclass
class OutageReport:
    outage: str
    answers: list[Answer]
    acknowledged: dict[str, str]
    down_seconds: float
    # From the service's return until every kind was answered 2xx again (None: some never was).
    recovered_after: float | None
    # From the service's return until every publication acknowledged by then was searchable (None: not
    # measured, or not within the wait).
    searchable_after: float | None = None

    @property
    def undocumented(self) -> list[Answer]:
        return [answer for answer in self.answers if not documented(answer, self.outage)]

    @property
    def server_errors(self) -> int:
        """5xx answers other than the documented 503s, and requests the server did not answer at all."""
        return sum(1 for answer in self.undocumented if answer.status >= 500 or answer.status == 0)

    @property
    def unavailable(self) -> int:
        """The documented 503s (with Retry-After)."""
        return sum(1 for answer in self.answers if answer.status == 503 and documented(answer, self.outage))

    def statuses(self, phase: str | None = None) -> dict[str, Counter]:
        table: dict[str, Counter] = {kind: Counter() for kind in KINDS}
        for answer in self.answers:
            if phase is None or answer.phase == phase:
                table[answer.kind][answer.status] += 1
        return table


def wait_until(condition: Callable[[], bool], seconds: float, step: float = 0.05) -> float | None:
    """Seconds until ``condition()`` held (checked every ``step``), or None if it did not within ``seconds``."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            return None
        time.sleep(step)


def run_outage(
    load: MixedLoad,
    proxy,
    outage: str,
    *,
    before: float = 2.0,
    down: float = 6.0,
    after: float = 4.0,
    searchable: Callable[[list[str]], bool] | None = None,
    catch_up_limit: float = 60.0,
) -> OutageReport:
    """Run ``load``, stop ``proxy`` for ``down`` seconds, start it again, keep the load ``after`` more seconds.

    ``searchable(public_ids)`` (optional) says whether those publications are found by search now; it is asked
    from the service's return until it holds for every publication acknowledged by then (at most
    ``catch_up_limit`` seconds).
    """
    load.start()
    try:
        time.sleep(before)
        load.phase = "during"
        proxy.stop()
        stopped = time.monotonic()
        time.sleep(down)
        proxy.start()
        returned = time.monotonic()
        load.phase = "after"
        pending = list(load.acknowledged.values())
        searchable_after = None
        if searchable is not None:
            searchable_after = wait_until(lambda: searchable(pending), catch_up_limit, step=0.1)
        time.sleep(max(0.0, after - (time.monotonic() - returned)))
    finally:
        load.stop()
        if not proxy.running:
            proxy.start()
    recovered = _recovered_after(load.answers, returned)
    return OutageReport(
        outage, list(load.answers), dict(load.acknowledged), returned - stopped, recovered, searchable_after
    )


def _recovered_after(answers: list[Answer], returned: float) -> float | None:
    """From ``returned`` until each kind's first success after which it never failed again; the latest."""
    latest = 0.0
    for kind in KINDS:
        mine = [answer for answer in answers if answer.kind == kind and answer.at >= returned]
        if not mine or not 200 <= mine[-1].status < 300:
            return None
        first_of_last_run = len(mine) - 1
        while first_of_last_run > 0 and 200 <= mine[first_of_last_run - 1].status < 300:
            first_of_last_run -= 1
        latest = max(latest, mine[first_of_last_run].at - returned)
    return latest

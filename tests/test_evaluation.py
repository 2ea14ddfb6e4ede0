"""案卷评查: a round announced in the transparency log, drawn from the first checkpoint after it (recomputable
from public data alone), cross-assigned, scored by supervisors and observers (监督员), whom nothing else admits."""

from __future__ import annotations

import hashlib
import json
import math
import re
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.supervision.evaluation import assign
from backend.supervision.evaluation_models import EvaluationRound
from tests.factories import AgencyFactory
from tests.factories.officers import register
from tests.support.admin_browser import PASSWORD, AdminBrowser
from tests.test_cases import case_body, record

URL = "/api/v1/publish"
ROUNDS = "/api/v1/supervision/evaluations"
# Each agency's officers and the cases it closed in October 2025 (C9 is closed in November, O1 still open).
AGENCIES = {
    "MKT": ("350502", ("35050012345", "35050012346"), ("C1", "C2", "C3")),
    "TAX": ("350500", ("35050022221", "35050022222"), ("T1", "T2", "T3")),
    "FZ": ("350100", ("35010033331", "35010033332"), ("F1",)),
}


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def recompute(public: dict) -> tuple[str, list[str]]:
    """The README recipe, written again from its text: only hashlib and json over the public round."""
    root, parameters, eligible = public["checkpoint"]["root_hash"], public["parameters"], public["eligible"]
    seed = hashlib.sha256(canonical({"checkpoint": root, "parameters": parameters, "eligible": eligible})).hexdigest()
    ranked = sorted(eligible, key=lambda c: (hashlib.sha256(bytes.fromhex(seed) + c.encode()).hexdigest(), c))
    if parameters["sample_size"] is not None:
        k = min(len(eligible), parameters["sample_size"])
    else:
        k = min(len(eligible), math.ceil(len(eligible) * parameters["sample_percent"] / 100))
    return seed, ranked[:k]


def close_case(client, headers: dict, case_no: str, officers: tuple[str, ...], closed: str | None) -> None:
    opened = client.put(f"{URL}/cases/{case_no}", json=case_body(officers=list(officers)), headers=headers)
    assert opened.status_code == 201, opened.get_json()
    steps = [record("filing", officers=officers)]
    if closed:
        steps.append(record("closing", officers=officers, at=closed))
    added = client.post(f"{URL}/cases/{case_no}/records", json={"records": steps}, headers=headers)
    assert added.status_code == 201, added.get_json()


@pytest.fixture
def cases(auth, client, frozen_clock, db_session) -> dict:
    """泉州 (MKT in 鲤城区 350502, TAX at city level) and 福州 (FZ), each with cases closed in October 2025."""
    frozen_clock.at = frozen_clock.at.replace(month=12)
    headers = {}
    for code, (region, officers, closed) in AGENCIES.items():
        AgencyFactory(code=code, name=f"{code} 执法局", region_code=region)
        headers[code] = auth.headers(code)
        register(client, headers[code], *officers, regions=[region])
        for case_no in closed:
            close_case(client, headers[code], case_no, officers, "2025-10-15T16:00:00+08:00")
    close_case(client, headers["MKT"], "C9", AGENCIES["MKT"][1], "2025-11-03T09:00:00+08:00")
    close_case(client, headers["MKT"], "O1", AGENCIES["MKT"][1], None)
    return headers


@pytest.fixture
def person(app: Flask, runner, cases):
    """A signed-in browser of a new admin user: ``person("wang", "observer", agency="MKT")``."""

    def open_as(username: str, role: str, agency: str | None = None, region: str | None = None) -> AdminBrowser:
        args = ["admin", "create", "--username", username, "--role", role]
        args += ["--agency", agency] if agency else []
        args += ["--region", region] if region else []
        created = runner.invoke(args=args, input=PASSWORD + "\n")
        assert created.exit_code == 0, created.output
        browser = AdminBrowser(app.test_client())
        assert browser.login(username, PASSWORD).status_code == 303
        return browser

    return open_as


def admin_headers(client, username: str) -> dict:
    token = client.post("/api/v1/admin/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.get_json()
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


def start(client, username: str, **body):
    spec = {"region": "350500", "date_from": "2025-10-01", "date_to": "2025-10-31", "evaluators": ["wang", "zhao"]}
    body = {key: value for key, value in {**spec, **body}.items() if value is not None}
    return client.post(ROUNDS, json=body, headers=admin_headers(client, username))


@pytest.fixture
def staff(person) -> dict[str, AdminBrowser]:
    """li supervises 泉州; wang is a 监督员 from MKT, zhao one from TAX; chen supervises 福州."""
    return {
        "li": person("li", "supervisor", region="350500"),
        "wang": person("wang", "observer", agency="MKT"),
        "zhao": person("zhao", "observer", agency="TAX"),
        "chen": person("chen", "supervisor", region="350100"),
    }


# -- the draw ---------------------------------------------------------------------------------------------
def test_the_draw_recomputed_from_public_data_equals_the_stored_sample(client, staff, runner, db_session):
    started = start(client, "li", sample_size=4)
    assert started.status_code == 201, started.get_json()
    public = client.get(f"{ROUNDS}/{started.get_json()['id']}").get_json()  # no sign-in: anyone
    assert public["eligible"] == ["MKT/C1", "MKT/C2", "MKT/C3", "TAX/T1", "TAX/T2", "TAX/T3"]
    assert recompute(public) == (public["seed"], public["sample"])
    assert len(public["sample"]) == 4
    # The announcement is in the log before the checkpoint, with the parameters and the eligible list's hash.
    index = public["announcement_index"]
    assert public["checkpoint"]["tree_size"] > index
    entry = client.get("/api/v1/transparency/entries", query_string={"start": index, "end": index + 1})
    (announced,) = entry.get_json()["entries"]
    assert announced["event"] == "evaluation_announced" and announced["detail"]["parameters"] == public["parameters"]
    eligible_digest = hashlib.sha256(canonical({"eligible": public["eligible"]})).hexdigest()
    assert announced["detail"]["eligible_sha256"] == eligible_digest
    # The CLI recomputes it too, and says when the stored sample is not what the draw gives.
    redrawn = runner.invoke(args=["supervision", "redraw", str(public["id"])])
    assert redrawn.exit_code == 0, redrawn.output
    assert json.loads(redrawn.output)["sample"] == public["sample"]
    made = db_session.get(EvaluationRound, public["id"])
    made.sample = list(reversed(made.sample))
    db_session.flush()
    tampered = runner.invoke(args=["supervision", "redraw", str(public["id"])])
    assert tampered.exit_code == 1 and json.loads(tampered.output)["matches"] is False


def test_the_draw_changes_when_the_checkpoint_does(client, staff):
    first = start(client, "li", sample_percent=50).get_json()
    second = start(client, "li", sample_percent=50).get_json()
    assert first["checkpoint"]["root_hash"] != second["checkpoint"]["root_hash"]
    # The same parameters and list under the other checkpoint: another seed, and over a list long enough that
    # two orders cannot agree by chance, another sample.
    other_root = {**first, "checkpoint": second["checkpoint"]}
    assert recompute(other_root)[0] != first["seed"]
    many = [f"MKT/{n:04d}" for n in range(200)]
    under_first = recompute({**first, "eligible": many})[1]
    assert under_first != recompute({**other_root, "eligible": many})[1]
    assert len(under_first) == 100


def test_no_checkpoint_before_the_announcement_is_used(client, staff):
    """A checkpoint signed before the round (its root known in advance) never seeds the draw."""
    before = client.get("/api/v1/transparency/checkpoint").get_json()
    public = start(client, "li", sample_size=2).get_json()
    assert public["checkpoint"]["tree_size"] > public["announcement_index"] >= before["tree_size"]


# -- assignment ------------------------------------------------------------------------------------------
def test_the_round_robin_skips_an_evaluator_of_the_cases_agency():
    mkt, tax = SimpleNamespace(agency_id=1), SimpleNamespace(agency_id=2)
    wang, zhao, li = SimpleNamespace(agency_id=1), SimpleNamespace(agency_id=2), SimpleNamespace(agency_id=None)
    assert assign([mkt, mkt, tax, tax], [wang, zhao]) == [zhao, zhao, wang, wang]
    assert assign([mkt, mkt, tax, mkt], [wang, zhao, li]) == [zhao, li, wang, zhao]


def test_an_evaluator_never_gets_their_own_agencys_case(client, staff):
    public = start(client, "li", sample_percent=100, evaluators=["wang", "zhao"]).get_json()
    assert len(public["sample"]) == 6
    results = client.get(f"{ROUNDS}/{public['id']}/results", headers=admin_headers(client, "li")).get_json()
    assert results["assigned"] == 6
    page = staff["li"].page(f"/admin/evaluations/{public['id']}")
    rows = re.findall(r'data-case="([^"]+)" data-evaluator="([^"]+)"', page)
    assert len(rows) == 6
    own = {"wang": "MKT", "zhao": "TAX"}
    assert all(case.split("/")[0] != own[evaluator] for case, evaluator in rows)
    # Only MKT's own 监督员 left for MKT's cases: the round is refused before anything is announced.
    refused = start(client, "li", agency="MKT", region=None, sample_size=1, evaluators=["wang"])
    assert refused.status_code == 422 and "evaluators" in refused.get_json()["errors"]


def test_a_round_is_only_started_over_ones_own_region(client, staff):
    assert start(client, "chen", sample_size=1).status_code == 404
    assert start(client, "chen", agency="MKT", region=None, sample_size=1).status_code == 404
    assert start(client, "chen", region="350100", sample_size=1, evaluators=["zhao"]).status_code == 201
    both = start(client, "li", agency="MKT", sample_size=1)
    assert both.status_code == 422
    none_closed = start(client, "li", date_from="2024-01-01", date_to="2024-12-31", sample_size=1)
    assert none_closed.status_code == 422 and none_closed.get_json()["errors"]["date_from"]
    not_an_evaluator = start(client, "li", sample_size=1, evaluators=["nobody"])
    assert not_an_evaluator.status_code == 422
    # 泉州's round is not 福州's supervisor's to read (its draw is public; its cases and scores are not).
    quanzhou = start(client, "li", sample_size=1).get_json()["id"]
    assert staff["chen"].get(f"/admin/evaluations/{quanzhou}").status_code == 404
    assert staff["chen"].get(f"/admin/evaluations/{quanzhou}/cases/1").status_code == 404
    assert client.get(f"{ROUNDS}/{quanzhou}/results", headers=admin_headers(client, "chen")).status_code == 404
    assert f'data-round="{quanzhou}"' not in staff["chen"].page("/admin/evaluations")
    assert f'data-round="{quanzhou}"' in staff["li"].page("/admin/evaluations")
    assert staff["li"].get(f"/admin/evaluations/{quanzhou}/cases/1").status_code == 200


# -- scoring and the observer's reach -----------------------------------------------------------------------
def score_form(browser: AdminBrowser, path: str, **fields: str) -> dict:
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.page(path)).group(1)
    full = {"lawful_agency": 15, "clear_facts": 20, "sufficient_evidence": 20, "lawful_procedure": 20}
    full |= {"correct_law": 15, "proper_documents": 10}
    return {"csrf_token": token, **{f"score_{key}": str(points) for key, points in full.items()}, **fields}


def test_an_observer_scores_what_is_assigned_and_the_results_reach_the_summary(client, staff, db_session):
    assert start(client, "li", sample_percent=100).status_code == 201
    wang = staff["wang"]
    listing = wang.page("/admin/evaluations")
    mine = re.findall(r'href="(/admin/evaluations/\d+/cases/\d+)">', listing)
    assert len(mine) == 3  # TAX's three: zhao has MKT's
    path = mine[0]
    over = wang.client.post(f"{path}/score", data=score_form(wang, path, score_clear_facts="21"))
    assert over.status_code == 422 and "须为 0 至 20 的整数" in over.get_data(as_text=True)
    silent = wang.client.post(f"{path}/score", data=score_form(wang, path, score_proper_documents="6"))
    assert silent.status_code == 422 and "扣分须说明理由" in silent.get_data(as_text=True)
    form = score_form(wang, path, score_proper_documents="6", comment_proper_documents="处罚决定书未载明救济途径")
    assert wang.client.post(f"{path}/score", data=form).status_code == 303
    assert "已评分 96 分" in wang.page(path)
    again = wang.client.post(f"{path}/score", data=score_form(wang, path))
    assert again.status_code == 409
    # zhao's case is not wang's to read or score.
    zhaos = re.findall(r'href="(/admin/evaluations/\d+/cases/\d+)">', staff["zhao"].page("/admin/evaluations"))
    assert wang.get(zhaos[0]).status_code == 404
    assert wang.client.post(f"{zhaos[0]}/score", data=score_form(wang, path)).status_code == 404
    scored = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation.score")).all()
    assert [(e.actor, e.detail["total"]) for e in scored] == [("admin:wang", 96)]
    summary = client.get(
        "/api/v1/supervision/summary",
        query_string={"from": "2025-12-01", "to": "2025-12-31"},
        headers=admin_headers(client, "li"),
    ).get_json()
    (tax,) = summary["evaluations"]
    assert (tax["agency"], tax["cases_evaluated"], tax["mean_score"]) == ("TAX", 1, 96.0)
    assert tax["deductions"]["文书规范"] == 4 and tax["deductions"]["主体合法"] == 0
    report = client.get("/api/v1/agencies/TAX/annual-report", query_string={"year": 2025}).get_json()
    assert report["evaluations"] == {"cases_evaluated": 1, "mean_score": 96.0, "deductions": tax["deductions"]}


def test_an_observer_opens_nothing_but_the_evaluation_pages(client, staff):
    wang = staff["wang"]
    assert wang.get("/admin/reviews/MKT/C1/1/letter").status_code == 404  # open to every role, scoped to none
    for path in ("/admin/complaints", "/admin/dashboard", "/admin/approvals", "/admin/reviews", "/admin/reviewers"):
        refused = wang.get(path)
        assert refused.status_code == 403, path
        assert "监督员只能使用案卷评查页面" in refused.get_data(as_text=True)
    public = start(client, "li", sample_size=1).get_json()
    assert wang.get(f"/admin/evaluations/{public['id']}").status_code == 403  # the round's page is supervisors'
    headers = admin_headers(client, "wang")
    for path in ("/api/v1/supervision/summary?from=2025-01-01&to=2025-12-31", "/api/v1/admin/disclosure-changes"):
        assert client.get(path, headers=headers).status_code == 403, path
    assert client.get(f"{ROUNDS}/{public['id']}/results", headers=headers).status_code == 403
    assert start(client, "wang", sample_size=1).status_code == 403


def test_an_observer_reads_and_scores_its_assignments_through_the_api(client, staff, person):
    assert start(client, "li", sample_percent=100).status_code == 201
    zhao = admin_headers(client, "zhao")
    mine = client.get(f"{ROUNDS}/assignments", headers=zhao).get_json()["assignments"]
    assert sorted(a["case"] for a in mine) == ["MKT/C1", "MKT/C2", "MKT/C3"]
    first = mine[0]
    path = f"{ROUNDS}/{first['round']}/cases/{first['rank']}/score"
    scores = {entry["key"]: {"score": entry["points"]} for entry in first["sheet"]}
    over = client.post(path, json={"scores": {**scores, "clear_facts": {"score": 30}}}, headers=zhao)
    assert over.status_code == 422 and "scores.clear_facts.score" in over.get_json()["errors"]
    deducted = {**scores, "sufficient_evidence": {"score": 12, "comment": "现场检查笔录未附照片"}}
    given = client.post(path, json={"scores": deducted}, headers=zhao)
    assert given.status_code == 200 and given.get_json()["total"] == 92
    assert client.post(path, json={"scores": deducted}, headers=zhao).status_code == 409
    wangs = client.get(f"{ROUNDS}/assignments", headers=admin_headers(client, "wang")).get_json()["assignments"]
    other = f"{ROUNDS}/{wangs[0]['round']}/cases/{wangs[0]['rank']}/score"
    assert client.post(other, json={"scores": scores}, headers=zhao).status_code == 404
    person("zhang", "handler", agency="MKT")
    assert client.get(f"{ROUNDS}/assignments", headers=admin_headers(client, "zhang")).status_code == 403


def test_bad_rounds_and_scores_are_4xx_in_the_error_shape(client, staff):
    sheet = [{"key": "facts", "label": "事实清楚", "points": 50}, {"key": "facts", "label": "程序合法", "points": 50}]
    assert start(client, "li", sample_size=1, sheet=sheet).status_code == 422
    short = [{**sheet[0], "points": 60}, {"key": "procedure", "label": "程序合法", "points": 30}]
    assert start(client, "li", sample_size=1, sheet=short).status_code == 422
    assert start(client, "li", sample_size=1, sample_percent=10).status_code == 422
    assert start(client, "li", sample_size=0).status_code == 422
    assert start(client, "li", sample_size=1, date_from="2025-11-01", date_to="2025-10-01").status_code == 422
    own = [{"key": "facts", "label": "事实清楚", "points": 60}, {"key": "procedure", "label": "程序合法", "points": 40}]
    made = start(client, "li", sample_percent=100, sheet=own).get_json()
    assert made["sheet"] == own
    zhao = admin_headers(client, "zhao")
    (first, *_) = client.get(f"{ROUNDS}/assignments", headers=zhao).get_json()["assignments"]
    path = f"{ROUNDS}/{first['round']}/cases/{first['rank']}/score"
    for scores in (
        {"facts": {"score": "abc"}, "procedure": {"score": 40}},
        {"facts": {"score": 59, "comment": ["缺少"]}, "procedure": {"score": 40}},
        {"facts": {"score": 59.5, "comment": "证据不足"}, "procedure": {"score": 40}},
        {"facts": {"score": True}, "procedure": {"score": 40}},
        {"procedure": {"score": 40}},
    ):
        refused = client.post(path, json={"scores": scores}, headers=zhao)
        assert refused.status_code == 422, scores
        assert set(refused.get_json()) >= {"code", "status", "message", "errors"}
    assert client.post(path, json={}, headers=zhao).status_code == 422
    done = {"facts": {"score": 55, "comment": " 证据不足 "}, "procedure": {"score": 40}}
    assert client.post(path, json={"scores": done}, headers=zhao).get_json()["scores"]["facts"]["comment"] == "证据不足"

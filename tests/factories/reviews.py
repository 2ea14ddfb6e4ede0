"""Legal review as the tests drive it: an agency files a reviewer, the reviewer signs in with a personal
token, the agency submits with the materials asked for, the reviewer gives an opinion."""

from __future__ import annotations

from flask.testing import FlaskClient

from backend.cases.models import CHECKLIST
from backend.cases.reviews import DEFAULT_MATERIALS

PUBLISH = "/api/v1/publish"
REVIEW = "/api/v1/review"
REVIEWER_BADGE = "35050077777"
PASSWORD = "a reviewer's long password 2"


def checklist(text: str = "已核实") -> dict[str, str]:
    return dict.fromkeys(CHECKLIST, text)


def materials(names=DEFAULT_MATERIALS) -> list[dict]:
    return [{"name": name, "sha256": f"{i:064x}", "size": 1000 + i} for i, name in enumerate(names, start=1)]


def file_reviewer(client: FlaskClient, headers: dict, badge: str = REVIEWER_BADGE, **overrides):
    """备案 through the agency's API."""
    body = {"name": "法制科 陈审", "qualification": "法律职业资格", "qualified_on": "2019-09-30", **overrides}
    response = client.put(f"{PUBLISH}/reviewers/{badge}", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response


def reviewer_account(client: FlaskClient, runner, agency: str, badge: str = REVIEWER_BADGE, username: str = "chen"):
    """The reviewer's own sign-in, and the bearer headers of a personal token."""
    created = runner.invoke(
        args=["admin", "create", "--username", username, "--role", "reviewer", "--agency", agency, "--badge", badge],
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    return reviewer_headers(client, username)


def reviewer_headers(client: FlaskClient, username: str) -> dict:
    token = client.post("/api/v1/admin/auth/token", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.get_json()
    return {"Authorization": f"Bearer {token.get_json()['access_token']}"}


def submit(client: FlaskClient, headers: dict, case_no: str, text: str = "已核实", **overrides):
    body = {"checklist": checklist(text), "materials": materials(), **overrides}
    return client.post(f"{PUBLISH}/cases/{case_no}/reviews", json=body, headers=headers)


def opinion(client: FlaskClient, headers: dict, agency: str, case_no: str, number: int, outcome="approve", **body):
    payload = {"outcome": outcome, "reasons": checklist("符合"), **body}
    return client.post(f"{REVIEW}/cases/{agency}/{case_no}/{number}/opinion", json=payload, headers=headers)


def approve(client: FlaskClient, agency_headers: dict, reviewer: dict, agency: str, case_no: str) -> dict:
    """Submit and approve; the approved review."""
    submitted = submit(client, agency_headers, case_no)
    assert submitted.status_code == 201, submitted.get_json()
    approved = opinion(client, reviewer, agency, case_no, submitted.get_json()["number"])
    assert approved.status_code == 200, approved.get_json()
    return approved.get_json()

import datetime as dt
import subprocess

import jwt
import pytest
from sqlalchemy import select

from backend.accounts import throttle
from backend.accounts.models import AgencyClient
from backend.errors import RateLimited
from backend.extensions.clock import FixedClock
from tests.factories import AgencyFactory


@pytest.fixture
def agency(db_session):
    return AgencyFactory(code="11350500MB0100002E", name="泉州市市场监督管理局")


def assert_error_shape(response, code):
    assert response.status_code == code
    body = response.get_json()
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_token_is_issued_bound_to_the_agency_and_accepted(client, auth, agency, app):
    creds = auth.credentials(agency.code)
    response = client.post("/api/v1/auth/token", json=creds)
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == app.config["TOKEN_TTL_SECONDS"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["agency"] == agency.code
    assert claims["sub"] == creds["client_id"]
    assert claims["exp"] - claims["iat"] == app.config["TOKEN_TTL_SECONDS"]
    me = client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.get_json() == {"client_id": creds["client_id"], "agency": agency.code, "agency_name": agency.name}


def test_secret_is_stored_only_as_a_hash(auth, agency, db_session):
    creds = auth.credentials(agency.code)
    stored = db_session.scalar(select(AgencyClient).where(AgencyClient.client_id == creds["client_id"]))
    assert creds["client_secret"] not in stored.secret_hash
    assert len(stored.secret_hash) == 64


@pytest.mark.parametrize(
    "change",
    [
        lambda c: {**c, "client_secret": c["client_secret"] + "x"},
        lambda c: {**c, "client_id": "ac_doesnotexist"},
    ],
    ids=["wrong-secret", "unknown-client"],
)
def test_wrong_credentials_get_401_in_the_error_shape(client, auth, agency, change):
    response = client.post("/api/v1/auth/token", json=change(auth.credentials(agency.code)))
    assert_error_shape(response, 401)


def test_repeated_failures_are_rate_limited_even_with_the_right_secret(client, auth, agency, app, cache_clock):
    creds = auth.credentials(agency.code)
    bad = {**creds, "client_secret": "guess"}
    for _ in range(app.config["TOKEN_FAILURES_ALLOWED"]):
        assert client.post("/api/v1/auth/token", json=bad).status_code == 401
    limited = client.post("/api/v1/auth/token", json=creds)
    assert_error_shape(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1


def post_from(client, address: str, body: dict):
    return client.post("/api/v1/auth/token", json=body, environ_base={"REMOTE_ADDR": address})


def test_the_rightful_client_gets_its_token_after_100_failures_from_other_addresses(
    client, auth, agency, app, cache_clock
):
    creds = auth.credentials(agency.code)
    bad = {**creds, "client_secret": "guess"}
    allowed = app.config["TOKEN_FAILURES_ALLOWED"]
    attackers = [f"203.0.113.{n}" for n in range(100 // allowed)]
    for address in attackers:
        for _ in range(allowed):
            assert_error_shape(post_from(client, address, bad), 401)
    assert post_from(client, "198.51.100.7", creds).status_code == 200
    assert client.post("/api/v1/auth/token", json=creds).status_code == 200
    # Where the failures came from, even the right secret now waits.
    assert_error_shape(post_from(client, attackers[0], creds), 429)


def test_an_attacker_waits_twice_as_long_after_each_further_failure(client, auth, agency, app, cache_clock):
    creds = auth.credentials(agency.code)
    bad = {**creds, "client_secret": "guess"}
    allowed, cap = app.config["TOKEN_FAILURES_ALLOWED"], app.config["TOKEN_FAILURE_WINDOW_SECONDS"]
    for _ in range(allowed):
        assert_error_shape(post_from(client, "203.0.113.9", bad), 401)
    waits = []
    for _ in range(11):
        refused = post_from(client, "203.0.113.9", bad)
        assert_error_shape(refused, 429)
        waits.append(int(refused.headers["Retry-After"]))
        cache_clock.advance(waits[-1] - 0.5)
        assert post_from(client, "203.0.113.9", bad).status_code == 429  # not a moment early
        cache_clock.advance(0.5)
        assert_error_shape(post_from(client, "203.0.113.9", bad), 401)
    assert waits == [min(2**n, cap) for n in range(11)]
    # Guessing from many client ids at the same address waits all the same.
    assert_error_shape(post_from(client, "203.0.113.9", {**bad, "client_id": "ac_other"}), 429)
    assert post_from(client, "198.51.100.7", creds).status_code == 200


def test_tries_in_flight_past_the_allowance_take_turns(app, cache_clock):
    """Tries begun together past the allowance (as parallel requests are): one goes ahead, the others wait."""
    backoff = throttle.Backoff(allowed=2, cap=60)
    with app.app_context():
        for _ in range(backoff.allowed):
            throttle.begin("client:ac_a", "203.0.113.9", backoff).failed()
        cache_clock.advance(backoff.wait(backoff.allowed))
        ahead = throttle.begin("client:ac_a", "203.0.113.9", backoff)
        for account in ("client:ac_a", "client:ac_b", "admin:zhang"):
            with pytest.raises(RateLimited):
                throttle.begin(account, "203.0.113.9", backoff)
        ahead.failed()
        with pytest.raises(RateLimited) as waiting:
            throttle.begin("client:ac_b", "203.0.113.9", backoff)
        assert waiting.value.retry_after == backoff.wait(backoff.allowed + 1)
        throttle.begin("client:ac_a", "198.51.100.7", backoff).succeeded()  # another address goes ahead


def test_missing_malformed_tampered_and_expired_tokens_are_refused(client, auth, agency, app):
    headers = auth.headers(agency.code)
    token = headers["Authorization"].split()[1]
    assert_error_shape(client.get("/api/v1/auth/whoami"), 401)
    assert_error_shape(client.get("/api/v1/auth/whoami", headers={"Authorization": "Basic abc"}), 401)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(
        {**claims, "agency": "11350500OTHER"}, "a-different-key-of-thirty-two-bytes-or-more", algorithm="HS256"
    )
    body = assert_error_shape(client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {forged}"}), 401)
    assert body["errors"] == {"token": ["invalid"]}
    previous = app.extensions["clock"]
    # Issued by a clock standing an hour back, so it expired long ago.
    app.extensions["clock"] = FixedClock(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    try:
        old = auth.headers(agency.code)
    finally:
        app.extensions["clock"] = previous
    body = assert_error_shape(client.get("/api/v1/auth/whoami", headers=old), 401)
    assert body["errors"] == {"token": ["expired"]}
    assert client.get("/api/v1/auth/whoami", headers=headers).status_code == 200


def test_revoked_client_loses_access_at_once(client, auth, runner, agency):
    creds = auth.credentials(agency.code)
    token = client.post("/api/v1/auth/token", json=creds).get_json()["access_token"]
    assert runner.invoke(args=["agency-client", "revoke", creds["client_id"]]).exit_code == 0
    assert_error_shape(client.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"}), 401)
    assert_error_shape(client.post("/api/v1/auth/token", json=creds), 401)


def test_the_credential_printed_for_a_shell_is_one_the_shell_reads_back(client, runner, agency):
    printed = runner.invoke(args=["agency-client", "create", "--agency", agency.code, "--format", "shell"])
    assert printed.exit_code == 0, printed.output
    # What `eval "$(flask … --format shell)"` leaves in the shell, read back by the shell itself.
    shell = subprocess.run(
        ["sh", "-c", 'eval "$1"; printf "%s\\n%s" "$CLIENT_ID" "$CLIENT_SECRET"', "sh", printed.output],
        capture_output=True,
        text=True,
        check=True,
    )
    client_id, client_secret = shell.stdout.split("\n")
    response = client.post("/api/v1/auth/token", json={"client_id": client_id, "client_secret": client_secret})
    assert response.status_code == 200, response.get_json()

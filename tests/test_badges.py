"""Badge tokens and verification: every forgery is unmistakable, every status is live."""

import base64
import datetime as dt
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from werkzeug.routing import BuildError

from backend.officers.models import BadgeScan
from tests.factories import AgencyFactory
from tests.factories.officers import officer

URL = "/api/v1/publish/officers"
BADGE = "35050012345"


@pytest.fixture
def mkt(auth, db_session):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    return headers


@pytest.fixture
def registered(client, mkt):
    assert client.put(f"{URL}/{BADGE}", json=officer(), headers=mkt).status_code == 201
    return mkt


def dynamic_token(client, headers) -> str:
    response = client.post(f"{URL}/{BADGE}/dynamic-badge", headers=headers)
    assert response.status_code == 200
    return response.get_json()["token"]


def static_token(app) -> str:
    from backend.officers import tokens

    with app.test_request_context():
        return tokens.issue("MKT", BADGE).token


def verify(client, token):
    response = client.get("/api/v1/badges/verify", query_string={"token": token})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def forge(token: str, **claims) -> str:
    """Change claims but keep the original signature."""
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(claims)
    new_payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    return f"{header}.{new_payload}.{signature}"


def test_a_genuine_badge_of_an_active_officer_is_valid(client, registered, app):
    result = verify(client, static_token(app))
    assert (result["result"], result["reason"], result["label"], result["token_kind"]) == (
        "valid",
        "ok",
        "有效",
        "static",
    )
    assert result["officer"]["name"] == "李明"
    assert result["officer"]["agency"] == {"code": "MKT", "name": "泉州市市场监督管理局"}
    assert result["officer"]["domains"] == ["食品安全", "市场监管"]


@pytest.mark.parametrize(("status", "label"), [("suspended", "暂扣"), ("revoked", "注销")])
def test_suspension_and_revocation_show_at_once(client, registered, app, status, label):
    token = static_token(app)
    assert verify(client, token)["result"] == "valid"
    client.post(f"{URL}/{BADGE}/status", json={"status": status, "reason": "调离执法岗位"}, headers=registered)
    result = verify(client, token)
    assert (result["result"], result["label"], result["officer"]["status"]) == (status, label, status)
    client.post(f"{URL}/{BADGE}/status", json={"status": "active", "reason": "恢复执法资格"}, headers=registered)
    assert verify(client, token)["result"] == "valid"


def test_an_expired_or_not_yet_valid_credential(client, registered, app):
    token = static_token(app)
    client.put(f"{URL}/{BADGE}", json=officer(valid_from="2020-01-01", valid_until="2021-01-01"), headers=registered)
    assert (verify(client, token)["result"], verify(client, token)["reason"]) == ("expired", "credential_expired")
    assert verify(client, token)["officer"]["valid_until"] == "2021-01-01"  # the officer as stored now
    client.put(f"{URL}/{BADGE}", json=officer(valid_from="2099-01-01", valid_until="2099-12-31"), headers=registered)
    assert verify(client, token)["reason"] == "not_yet_valid"


def test_a_dynamic_badge_lives_sixty_seconds(client, registered, app, frozen_clock):
    fresh = client.post(f"{URL}/{BADGE}/dynamic-badge", headers=registered).get_json()
    assert (
        fresh["qr_svg"].lstrip().startswith(("<?xml", "<svg")) and base64.b64decode(fresh["qr_png"])[:4] == b"\x89PNG"
    )
    result = verify(client, fresh["token"])
    assert (result["result"], result["token_kind"]) == ("valid", "dynamic")
    frozen_clock.advance(dt.timedelta(seconds=61))
    result = verify(client, fresh["token"])
    assert (result["result"], result["reason"], result["label"]) == ("expired", "dynamic_expired", "已过期")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda token, app: forge(token, b="35050099999"), "bad_signature"),
        (lambda token, app: forge(token, e=4102444800), "bad_signature"),
        (lambda token, app: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), "bad_signature"),
        (lambda token, app: foreign(token, same_kid=True), "bad_signature"),
        (lambda token, app: foreign(token, same_kid=False), "unknown_key"),
        (lambda token, app: jwt.encode({"b": BADGE, "a": "MKT", "t": 1}, None, algorithm="none"), "unsupported_alg"),
        (
            lambda token, app: jwt.encode(
                {"b": BADGE, "a": "MKT", "t": 1},
                "k" * 32,
                algorithm="HS256",
                headers={"kid": jwt.get_unverified_header(token)["kid"]},
            ),
            "unsupported_alg",
        ),
        (lambda token, app: "garbage", "malformed"),
        (lambda token, app: "a.b.c", "malformed"),
        (lambda token, app: "x" * 2000, "malformed"),
    ],
    ids=[
        "other-badge",
        "extended-expiry",
        "tampered-signature",
        "foreign-key-same-kid",
        "foreign-key",
        "alg-none",
        "hs256",
        "garbage",
        "three-dots",
        "huge",
    ],
)
def test_forged_tampered_and_garbage_tokens_are_invalid_and_reveal_nothing(client, registered, app, make, reason):
    result = verify(client, make(static_token(app), app))
    assert (result["result"], result["reason"], result["label"]) == ("invalid", reason, "无法验证")
    assert result["officer"] is None


def foreign(token: str, *, same_kid: bool) -> str:
    kid = jwt.get_unverified_header(token)["kid"] if same_kid else "k19990101000000"
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid, "typ": None})


def test_a_genuine_token_for_an_unknown_officer_reveals_nothing(client, registered, app):
    from backend.officers import tokens

    with app.test_request_context():
        ghost = tokens.issue("MKT", "35050000000").token
    result = verify(client, ghost)
    assert (result["result"], result["reason"], result["officer"]) == ("invalid", "unknown_officer", None)


def test_keys_rotate_old_badges_verify_until_their_key_is_retired(client, registered, app, runner):
    old = static_token(app)
    old_kid = jwt.get_unverified_header(old)["kid"]
    rotated = runner.invoke(args=["badges", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    new = static_token(app)
    new_kid = jwt.get_unverified_header(new)["kid"]
    assert new_kid != old_kid and new_kid > old_kid
    assert {k["kid"] for k in client.get("/api/v1/badges/keys").get_json()["keys"]} == {old_kid, new_kid}
    assert verify(client, old)["result"] == verify(client, new)["result"] == "valid"
    assert runner.invoke(args=["badges", "retire-key", old_kid]).exit_code == 0
    assert (verify(client, old)["result"], verify(client, old)["reason"]) == ("invalid", "unknown_key")
    assert verify(client, new)["result"] == "valid"
    assert [k["kid"] for k in client.get("/api/v1/badges/keys").get_json()["keys"]] == [new_kid]


def test_the_jwks_holds_only_public_ed25519_keys(client, registered):
    (key,) = client.get("/api/v1/badges/keys").get_json()["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert "d" not in key and len(base64.urlsafe_b64decode(key["x"] + "=")) == 32


def test_verification_is_rate_limited_per_address(client, registered, app, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT_PER_MINUTE", 3)
    token = static_token(app)
    for _ in range(3):
        verify(client, token)
    limited = client.get("/api/v1/badges/verify", query_string={"token": token})
    assert limited.status_code == 429 and limited.get_json()["code"] == 429
    other = client.get("/api/v1/badges/verify", query_string={"token": token}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200
    assert client.get(f"/v/{token}").status_code == 429


def test_every_scan_is_logged_without_the_citizen(client, registered, app, db_session):
    verify(client, static_token(app))
    verify(client, "garbage")
    assert app.extensions["scan_log"].flush() == 2
    scans = db_session.scalars(select(BadgeScan).order_by(BadgeScan.id)).all()
    assert [(s.result, s.reason, s.token_kind, s.badge_no) for s in scans] == [
        ("valid", "ok", "static", BADGE),
        ("invalid", "malformed", "unknown", None),
    ]
    assert not any(hasattr(s, "ip") for s in scans)


def test_the_verify_page_says_it_at_a_glance(client, registered, app):
    token = static_token(app)
    page = client.get(f"/v/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'data-result="valid"' in html and "有效" in html and "李明" in html and "泉州市市场监督管理局" in html
    assert f"badge={BADGE}" in html and "receipt=" in html
    assert client.get(f"/v/{token}/photo").headers["Content-Type"] == "image/jpeg"
    forged = client.get(f"/v/{forge(token, b='35050099999')}").get_data(as_text=True)
    assert 'data-result="invalid"' in forged and "无法验证" in forged and "李明" not in forged
    assert client.get(f"/v/{forge(token, b='35050099999')}/photo").status_code == 404


def _layers(app):
    """The fast path, and Flask behind it (the documented route), as two WSGI applications."""
    from backend.pages.fast_path import VerifyFastPath

    layer = app.wsgi_app
    while not isinstance(layer, VerifyFastPath):
        layer = layer.app  # ProxyFix and the like keep the next layer as .app
    return layer, layer.fallback


@pytest.mark.parametrize("kind", ["api", "page"])
@pytest.mark.parametrize(
    "case", ["valid", "suspended", "dynamic_expired", "tampered", "unknown_key", "garbage", "rate_limited"]
)
def test_the_fast_path_answers_as_the_documented_route(client, registered, app, frozen_clock, monkeypatch, case, kind):
    from werkzeug.test import Client

    token = static_token(app)
    if case == "suspended":
        client.post(f"{URL}/{BADGE}/status", json={"status": "suspended", "reason": "调查中"}, headers=registered)
    elif case == "dynamic_expired":
        token = dynamic_token(client, registered)
        frozen_clock.advance(dt.timedelta(seconds=61))
    elif case == "tampered":
        token = forge(token, b="35050099999")
    elif case == "unknown_key":
        stranger = Ed25519PrivateKey.generate()
        token = jwt.encode({"b": BADGE, "a": "MKT", "t": 1}, stranger, algorithm="EdDSA", headers={"kid": "nope"})
    elif case == "garbage":
        token = "not-a.token"
    elif case == "rate_limited":
        monkeypatch.setitem(app.config, "VERIFY_RATE_LIMIT_PER_MINUTE", 1)
    fast, flask_route = _layers(app)
    answers = []
    url = f"/api/v1/badges/verify?token={token}" if kind == "api" else f"/v/{token}"
    for wsgi in (fast, flask_route, fast):
        response = Client(wsgi).get(url)
        answers.append((response.status_code, sorted(response.headers.items()), response.get_data()))
    if case == "rate_limited":
        # One check allowed per minute: the first answer is the result, the next two are refused alike.
        assert answers[0][0] == 200 and answers[1] == answers[2] and answers[1][0] == 429
        assert (
            json.loads(answers[1][2])["code"] == 429 if kind == "api" else "核验请求过于频繁" in answers[1][2].decode()
        )
    else:
        assert answers[0] == answers[1] == answers[2]
        content_type = "application/json" if kind == "api" else "text/html; charset=utf-8"
        assert answers[0][0] == 200 and ("Content-Type", content_type) in answers[0][1]
    if kind == "page" and case != "rate_limited":
        result = {"tampered": "invalid", "unknown_key": "invalid", "garbage": "invalid"}.get(case, case)
        result = "expired" if case == "dynamic_expired" else result
        assert f'data-result="{result}"'.encode() in answers[0][2]


NASTY = {
    "name": "李<b>明</b> & \"小\" '王'",
    "badge_no": "35050012345",
    "agency": {"name": "泉州市<市场>监督&管理局", "code": "M&K T"},
    "domains": ["食品安全", "药品<经营>", "a&b"],
    "valid_until": "2029-12-31",
}


@pytest.mark.parametrize(
    ("result", "reason", "officer"),
    [
        ("valid", "ok", NASTY),
        ("valid", "ok", {**NASTY, "photo": "ab" * 32}),
        ("valid", "ok", {**NASTY, "domains": [], "valid_until": None}),
        ("valid", "ok", {**NASTY, "agency": {**NASTY["agency"], "phone": "0595-<22>&1", "complaint_phone": "12315"}}),
        ("suspended", "suspended", {**NASTY, "agency": {**NASTY["agency"], "phone": None, "complaint_phone": "1&2"}}),
        ("suspended", "suspended", NASTY),
        ("revoked", "revoked", {**NASTY, "name": ""}),
        ("expired", "dynamic_expired", NASTY),
        ("expired", "credential_expired", NASTY),
        ("invalid", "not_yet_valid", NASTY),
        ("invalid", "unknown_officer", None),
        ("invalid", "bad_signature", None),
    ],
)
@pytest.mark.parametrize("token", ["eyJhbGciOiJFZERTQSJ9.eyJiIjoiMSJ9.sig-_x", "a%3Cb&c", "路/径"])
def test_the_page_stencil_writes_what_jinja_writes(app, frozen_clock, result, reason, officer, token):
    """Stencil and template agree for every verdict, with values that need escaping and URL-encoding."""
    from backend.officers.services import Verification, receipt_serializer
    from backend.pages import verify_page

    with app.test_request_context(f"/v/{token}"):
        verification = Verification(result, reason, "static", frozen_clock.now(), officer)
        receipt = receipt_serializer().dumps({"b": "x"}) if officer else None
        values = verify_page.page_values(verification, token, receipt)
        jinja = verify_page._render(verification, values)
        assert verify_page.verify_page_html(verification, token, receipt, {}) == jinja
        assert f'data-result="{result}"' in jinja
        if officer:
            assert "李&lt;b&gt;明&lt;/b&gt; &amp; &#34;小&#34;" in jinja or not officer["name"]
            assert "agency=M%26K%20T" in jinja and f"badge={officer['badge_no']}&amp;" in jinja
            assert ("药品&lt;经营&gt;、a&amp;b" in jinja) == bool(officer["domains"])
            assert ("<dd>长期</dd>" in jinja) == (officer["valid_until"] is None)
            # The agency's page and numbers, where it has them; 12345 on every verdict.
            assert 'href="/a/M%26K%20T"' in jinja and 'href="tel:12345"' in jinja
            phone, complaint_phone = officer["agency"].get("phone"), officer["agency"].get("complaint_phone")
            assert ('href="tel:0595-%3C22%3E%261">0595-&lt;22&gt;&amp;1<' in jinja) == bool(phone)
            assert ('href="tel:1%262">1&amp;2<' in jinja or 'href="tel:12315"' in jinja) == bool(complaint_phone)
            # Only a photo on file is asked for (no script may hide a broken one).
            assert ("/photo" in jinja) == bool(officer.get("photo"))
        else:
            assert 'href="tel:12345"' in jinja and "/a/" not in jinja
        stencils = app.extensions["verify_page_stencils"]
        # Badge tokens are filled into a stencil; any other path is rendered by Jinja.
        assert any(stencils.values()) == bool(verify_page.TOKEN_CHARS.fullmatch(token))
        stencils.clear()


def test_an_officer_with_a_photo_and_one_without_have_their_own_stencils(app, frozen_clock):
    from backend.officers.services import Verification
    from backend.pages import verify_page

    token = "eyJhbGciOiJFZERTQSJ9.eyJiIjoiMSJ9.sig-_x"
    with app.test_request_context(f"/v/{token}"):
        for officer in (NASTY, {**NASTY, "photo": "ab" * 32}, NASTY):
            verification = Verification("valid", "ok", "static", frozen_clock.now(), officer)
            values = verify_page.page_values(verification, token, None)
            html = verify_page.verify_page_html(verification, token, None, {})
            assert html == verify_page._render(verification, values)
            assert ("/photo" in html) == ("photo" in officer)
        app.extensions["verify_page_stencils"].clear()


def test_a_stencil_is_refused_where_a_value_was_not_escaped_or_url_encoded():
    from backend.pages.verify_page import _NONCE, Stencil

    assert Stencil.compile(f"<p>{_NONCE}name&amp;</p><a href='?b={_NONCE}badge_no%26'>") is not None
    assert Stencil.compile(f"<p>{_NONCE}name&</p>") is None  # written raw (| safe)
    assert Stencil.compile(f"<p>{_NONCE}name&#38;</p>") is None  # some other encoding
    assert Stencil.compile(f"<p>{_NONCE.upper()}NAME&amp;</p>") is not None  # not a probe: plain text


def test_the_badge_page_is_served_by_the_fast_path(client, registered, app, frozen_clock):
    """A badge token's page never reaches Flask; the photo and odd paths do."""
    from werkzeug.test import Client

    token = static_token(app)
    fast, _ = _layers(app)
    reached = []

    def flask_route(environ, start_response):
        reached.append(environ["PATH_INFO"])
        start_response("599 Reached Flask", [])
        return [b""]

    monkeypatch_fallback = fast.fallback
    fast.fallback = flask_route
    try:
        page = Client(fast).get(f"/v/{token}")
        assert page.status_code == 200 and "有效" in page.get_data(as_text=True)
        assert Client(fast).get(f"/v/{token}/photo").status_code == 599
        assert Client(fast).head(f"/v/{token}").status_code == 599
    finally:
        fast.fallback = monkeypatch_fallback
    assert reached == [f"/v/{token}/photo", f"/v/{token}"]


@pytest.mark.parametrize(
    "query", ["", "token=", "token=a&token=b", "token=abc&extra=1", "token=%41bc", "tok=abc", "token=" + "a" * 2049]
)
def test_what_the_fast_path_does_not_take_flask_answers(client, registered, app, frozen_clock, query):
    from werkzeug.test import Client

    whole = client.get(f"/api/v1/badges/verify?{query}")
    documented = Client(_layers(app)[1]).get(f"/api/v1/badges/verify?{query}")
    assert (whole.status_code, whole.get_data()) == (documented.status_code, documented.get_data())
    if query in ("", "token=", "tok=abc", "token=" + "a" * 2049):
        body = whole.get_json()
        assert whole.status_code == 422 and body["code"] == 422 and "token" in body["errors"]["query"], body
    else:  # webargs takes the first of repeated values and ignores unknown ones: an invalid token
        assert whole.status_code == 200 and whole.get_json()["result"] == "invalid"


@pytest.fixture
def flask_calls(app, monkeypatch) -> list[str]:
    """The paths that reach Flask's own WSGI application behind the fast path (in every layer of the app)."""
    fast, flask_app = _layers(app)
    reached: list[str] = []

    def counted(environ, start_response):
        reached.append(environ["PATH_INFO"])
        return flask_app(environ, start_response)

    monkeypatch.setattr(fast, "fallback", counted)
    return reached


def test_a_well_formed_check_is_answered_by_the_fast_path(client, registered, app, flask_calls):
    token = static_token(app)
    assert verify(client, token)["result"] == "valid"
    page = client.get(f"/v/{token}")
    assert page.status_code == 200 and 'data-result="valid"' in page.get_data(as_text=True)
    assert flask_calls == []
    assert client.get(f"/v/{token}/photo").status_code == 200  # not the fast path's: Flask answers it
    assert flask_calls == [f"/v/{token}/photo"]


def test_the_fast_path_follows_the_routes_it_shadows(registered, app, monkeypatch):
    """Its paths are read from the routes, not copied: routes moved elsewhere move the fast path with them."""
    from werkzeug.routing import Map, Rule
    from werkzeug.test import Client

    from backend.pages.fast_path import PAGE_ENDPOINT, VERIFY_ENDPOINT, VerifyFastPath

    reached: list[str] = []

    def flask_app(environ, start_response):
        reached.append(environ["PATH_INFO"])
        start_response("599 Reached Flask", [])
        return [b""]

    moved = Map([Rule("/api/v2/check", endpoint=VERIFY_ENDPOINT), Rule("/badge/<path:token>", endpoint=PAGE_ENDPOINT)])
    real_map = app.url_map
    monkeypatch.setattr(app, "url_map", moved)
    fast = VerifyFastPath(app, flask_app)
    monkeypatch.setattr(app, "url_map", real_map)  # the page's links are built with the app's own
    token = static_token(app)
    answer = Client(fast).get("/api/v2/check", query_string={"token": token})
    assert answer.status_code == 200 and answer.get_json()["result"] == "valid"
    page = Client(fast).get(f"/badge/{token}")
    assert page.status_code == 200 and 'data-result="valid"' in page.get_data(as_text=True)
    assert reached == []
    assert Client(fast).get(f"/api/v1/badges/verify?token={token}").status_code == 599
    assert Client(fast).get(f"/v/{token}").status_code == 599
    assert reached == ["/api/v1/badges/verify", f"/v/{token}"]


def test_a_route_the_fast_path_cannot_shadow_stops_the_start(app, monkeypatch):
    from werkzeug.routing import Map, Rule

    from backend.pages.fast_path import PAGE_ENDPOINT, VERIFY_ENDPOINT, VerifyFastPath

    token_not_last = Map(
        [Rule("/api/v1/badges/verify", endpoint=VERIFY_ENDPOINT), Rule("/v/<path:token>/page", endpoint=PAGE_ENDPOINT)]
    )
    monkeypatch.setattr(app, "url_map", token_not_last)
    with pytest.raises(RuntimeError, match="cannot shadow"):
        VerifyFastPath(app, None)
    monkeypatch.setattr(app, "url_map", Map([Rule("/v/<path:token>", endpoint=PAGE_ENDPOINT)]))
    with pytest.raises(BuildError):
        VerifyFastPath(app, None)


def test_the_large_text_page_is_served_alike_by_both_paths(client, registered, app, frozen_clock):
    """大字模式 (a cookie, pages/display.py) is a shape of its own: the fast path's stencil writes what Jinja writes."""
    from werkzeug.test import Client

    token = static_token(app)
    fast, flask_route = _layers(app)
    pages = {}
    for size in ("normal", "large"):
        answers = []
        for wsgi in (fast, flask_route, fast):
            browser = Client(wsgi)
            browser.set_cookie("text_size", size)
            answers.append(browser.get(f"/v/{token}").get_data())
        assert answers[0] == answers[1] == answers[2]
        pages[size] = answers[0]
    assert b'class="large-text"' in pages["large"] and b"large-text" not in pages["normal"]

"""The OpenAPI document as an integrator reads it: every example is accepted as written, ``required`` is
exactly what the service requires, every field is described, and every error an endpoint answers is listed.

The examples are read from the served document, never from the code that makes it, and posted with a
token got through POST /api/v1/auth/token, as an agency's case system would."""

from __future__ import annotations

import copy
import itertools
import json
import re
import urllib.request
from typing import Any

import pytest

from backend.disclosures.models import PHASE_OF_TYPE
from tests.factories import AgencyFactory
from tests.support.live_server import LiveServer, http_json, server_env

PUBLISH = "/api/v1/publish/"
PUT_ITEM = "/api/v1/publish/disclosures/{external_id}"
METHODS = ("get", "put", "post", "patch", "delete")
INTEGER_PARAMETERS = ("number", "request_id", "round_id", "rank")


@pytest.fixture(scope="module")
def spec(app) -> dict[str, Any]:
    return app.test_client().get("/api/openapi.json").get_json()


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema a reference (or a described one, ``allOf: [reference]``) names."""
    while "$ref" in schema or len(schema.get("allOf", [])) == 1:
        ref = schema["$ref"] if "$ref" in schema else schema["allOf"][0]["$ref"]
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def _details_schema(spec: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema a ``details`` property refers to (directly, or as the first of an anyOf)."""
    ref = prop if "$ref" in prop else next((p for p in prop.get("anyOf", []) if "$ref" in p), None)
    return _resolve(spec, ref) if ref else None


def _put_body(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["paths"][PUT_ITEM]["put"]["requestBody"]["content"]["application/json"]


def _examples(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: example["value"] for name, example in _put_body(spec)["examples"].items()}


def _type_schema(spec: dict[str, Any], type_: str) -> dict[str, Any]:
    mapping = _resolve(spec, _put_body(spec)["schema"])["discriminator"]["mapping"]
    return _resolve(spec, {"$ref": mapping[type_]})


# Every type the service knows: the document must have a schema and an example for each.
TYPES = list(PHASE_OF_TYPE)


@pytest.fixture
def agency_headers(db_session, auth):
    """A fresh 司法行政部门 (it may publish every type, negative_list included), with a real token."""
    agency = AgencyFactory(code="11350500MB0C1234XK", name="泉州市司法局", region_code="350500", supervises=True)
    return auth.headers(agency.code)


def _put(client, headers, external_id: str, body: dict[str, Any]):
    return client.put(PUT_ITEM.format(external_id=external_id), json=body, headers=headers)


def test_every_request_body_of_the_publishing_api_has_an_example(spec):
    bare = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        if path.startswith(PUBLISH)
        for method, operation in operations.items()
        if method in METHODS and "requestBody" in operation
        for content in operation["requestBody"]["content"].values()
        if not (content.get("example") or content.get("examples"))
    ]
    assert bare == []


def test_the_put_body_is_one_schema_per_type_with_an_example_each(spec):
    put = _resolve(spec, _put_body(spec)["schema"])
    assert put["discriminator"]["propertyName"] == "type"
    assert sorted(put["discriminator"]["mapping"]) == sorted(TYPES)
    assert sorted(_examples(spec)) == sorted(TYPES)
    for type_, example in _examples(spec).items():
        assert example["type"] == type_
        assert _type_schema(spec, type_)["properties"]["type"]["enum"] == [type_]


@pytest.mark.parametrize("type_", TYPES)
def test_each_example_is_published_as_written(spec, client, agency_headers, type_):
    example = _examples(spec)[type_]
    created = _put(client, agency_headers, f"example-{type_}", example)
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    assert item["status"] == "published" and item["public_url"]
    public = client.get(f"/api/v1/disclosures/{item['id']}")
    assert public.status_code == 200
    assert public.get_json()["title"] == example["title"]


def _error_paths(errors: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    if isinstance(errors, dict):
        return {path for key, sub in errors.items() for path in _error_paths(sub, (*prefix, str(key)))}
    return {prefix}


def _refused_for(response, *path: str) -> bool:
    """Whether the answer is a 422 whose errors name ``path`` (or a field under it)."""
    if response.status_code != 422:
        return False
    named = _error_paths(response.get_json().get("errors", {}).get("json", {}))
    return any(found[: len(path)] == path for found in named)


def _fields_to_drop(spec: dict[str, Any], type_: str) -> list[tuple[tuple[str, ...], bool]]:
    """Every field of the example (details' fields too) with whether the document says it is needed: listed in
    ``required``, or with an ``x-required-when`` condition (each example meets the conditions of its fields)."""
    schema = _type_schema(spec, type_)
    example = _examples(spec)[type_]
    fields: list[tuple[tuple[str, ...], bool]] = []
    for name, prop in schema["properties"].items():
        if name not in example:
            continue
        fields.append(((name,), name in schema.get("required", []) or "x-required-when" in prop))
        details = _details_schema(spec, prop) if name == "details" else None
        if details is not None and isinstance(example[name], dict):
            for sub, sub_prop in details["properties"].items():
                if sub in example[name]:
                    needed = sub in details.get("required", []) or "x-required-when" in sub_prop
                    fields.append(((name, sub), needed))
    return fields


@pytest.mark.parametrize("type_", TYPES)
def test_required_is_exactly_what_the_service_requires(spec, client, agency_headers, type_):
    """Dropping a field the document marks required is refused naming it; dropping any other is accepted."""
    wrong = []
    for path, needed in _fields_to_drop(spec, type_):
        body = copy.deepcopy(_examples(spec)[type_])
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        answer = _put(client, agency_headers, f"drop-{type_}-{'.'.join(path)}", body)
        if needed and not _refused_for(answer, *path):
            wrong.append((path, "documented as required, but", answer.status_code, answer.get_json()))
        if not needed and answer.status_code != 201:
            wrong.append((path, "documented as optional, but", answer.status_code, answer.get_json()))
    assert wrong == []


def test_legal_basis_of_a_decision_is_required_in_the_document_and_by_the_service(spec, client, agency_headers):
    """The first publish of a new integrator failed on a legal_basis the document did not mark required."""
    assert "legal_basis" in _type_schema(spec, "decision")["required"]
    body = {k: v for k, v in _examples(spec)["decision"].items() if k != "legal_basis"}
    answer = _put(client, agency_headers, "no-basis", body)
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["json"]["legal_basis"]


def test_an_unknown_type_is_refused_naming_type_and_listing_none_of_the_variants_errors(client, agency_headers):
    body = {**{"phase": "post", "title": "罚款决定"}, "type": "penalty_decision"}
    answer = _put(client, agency_headers, "wrong-type", body)
    assert answer.status_code == 422
    assert set(answer.get_json()["errors"]["json"]) == {"type"}


def test_every_property_of_every_schema_in_the_document_is_described(spec):
    bare = [
        f"{name}.{prop_name}"
        for name, schema in spec["components"]["schemas"].items()
        for prop_name, prop in schema.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert bare == []


def test_every_parameter_is_described(spec):
    bare = [
        f"{path} {parameter['in']} {parameter['name']}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for parameter in (operation if method == "parameters" else operation.get("parameters", []))
        if not parameter.get("description")
    ]
    assert bare == []


def _statuses(spec: dict[str, Any], path: str, method: str) -> set[str]:
    return set(spec["paths"][path][method]["responses"]) - {"default"}


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        (PUT_ITEM, "put", {"200", "201", "401", "409", "413", "422", "503"}),
        (PUT_ITEM, "get", {"200", "401", "404", "503"}),
        ("/api/v1/publish/disclosures", "get", {"200", "401", "422", "503"}),
        ("/api/v1/publish/disclosures:bulk", "post", {"200", "401", "413", "422", "503"}),
        (f"{PUT_ITEM}/withdraw", "post", {"200", "401", "404", "409", "413", "422", "503"}),
        (f"{PUT_ITEM}/deadline", "get", {"200", "401", "404", "503"}),
        ("/api/v1/auth/token", "post", {"200", "401", "413", "422", "429", "503"}),
    ],
)
def test_each_endpoint_lists_the_errors_it_answers(spec, path, method, expected):
    # The input guard stands before every operation: 400 (a refused character) and 414 (too long an address).
    assert _statuses(spec, path, method) == expected | {"400", "414"}


def test_every_error_is_documented_in_the_one_error_shape_and_429_503_say_when_to_retry(spec):
    responses = spec["components"]["responses"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            for status, response in operation["responses"].items():
                if status == "default" or status[0] not in "45":
                    continue
                if "$ref" in response:
                    response = responses[response["$ref"].rsplit("/", 1)[1]]
                schema = response["content"]["application/json"]["schema"]
                if status == "410":  # the error shape, extended by the notice that stands where the item was
                    notice = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]["properties"]
                    assert set(spec["components"]["schemas"]["Error"]["properties"]) <= set(notice), (path, method)
                    continue
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)
                if status in ("429", "503"):
                    assert "Retry-After" in response["headers"], (path, method, status)


def _example(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return spec["paths"][path][method]["requestBody"]["content"]["application/json"]["example"]


def test_the_officer_case_and_review_examples_are_accepted_as_written(spec, client, agency_headers):
    """The examples tell one story: the case's officers are registered, the case recorded, reviewed, withdrawn."""

    def send(method: str, path: str, expected: int, **params: Any) -> dict[str, Any]:
        answer = client.open(
            path.format(**params), method=method.upper(), json=_example(spec, path, method), headers=agency_headers
        )
        assert answer.status_code == expected, (path, answer.get_json())
        return answer.get_json()

    case = _example(spec, "/api/v1/publish/cases/{case_no}", "put")
    for badge_no in case["officers"]:
        send("put", "/api/v1/publish/officers/{badge_no}", 201, badge_no=badge_no)
    send("put", "/api/v1/publish/settings/case-domains", 200)
    send("put", "/api/v1/publish/cases/{case_no}", 201, case_no="QSJ-1")
    appended = send("post", "/api/v1/publish/cases/{case_no}/records", 201, case_no="QSJ-1")
    assert appended["record_count"] == len(_example(spec, "/api/v1/publish/cases/{case_no}/records", "post")["records"])
    send("put", "/api/v1/publish/reviewers/{badge_no}", 200, badge_no="35050021009")
    review = send("post", "/api/v1/publish/cases/{case_no}/reviews", 201, case_no="QSJ-1")
    send(
        "post",
        "/api/v1/publish/cases/{case_no}/reviews/{number}/withdraw",
        200,
        case_no="QSJ-1",
        number=review["number"],
    )
    status = send("post", "/api/v1/publish/officers/{badge_no}/status", 200, badge_no=case["officers"][0])
    assert status["status"] == _example(spec, "/api/v1/publish/officers/{badge_no}/status", "post")["status"]


def test_the_withdrawal_example_takes_the_decision_example_down(spec, client, agency_headers):
    _put(client, agency_headers, "to-withdraw", _examples(spec)["decision"])
    path = f"{PUT_ITEM}/withdraw"
    answer = client.post(
        path.format(external_id="to-withdraw"), json=_example(spec, path, "post"), headers=agency_headers
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "withdrawn"


def test_another_agencys_items_are_a_404_exactly_where_the_document_says_so(spec, client, auth, agency_headers):
    """Every publishing call on one of our items, made with another agency's token, answers 404 if and only if
    the document lists 404 for it (an upsert creates the other agency's own item instead)."""
    _put(client, agency_headers, "ours", _examples(spec)["decision"])
    case = _example(spec, "/api/v1/publish/cases/{case_no}", "put")
    for badge_no in case["officers"]:
        client.put(
            f"/api/v1/publish/officers/{badge_no}",
            json=_example(spec, "/api/v1/publish/officers/{badge_no}", "put"),
            headers=agency_headers,
        )
    client.put("/api/v1/publish/cases/ours", json=case, headers=agency_headers)
    review = client.post(
        "/api/v1/publish/cases/ours/reviews",
        json=_example(spec, "/api/v1/publish/cases/{case_no}/reviews", "post"),
        headers=agency_headers,
    )
    assert review.status_code == 201, review.get_json()
    ours = {"external_id": "ours", "badge_no": case["officers"][0], "case_no": "ours", "number": 1}
    other = auth.headers(AgencyFactory(code="11350500MB0C9999XX", region_code="350500").code)
    wrong = []
    for path, operations in spec["paths"].items():
        if not path.startswith(PUBLISH) or "{" not in path:
            continue
        for method, operation in operations.items():
            if method not in METHODS or method == "put":
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            answer = client.open(path.format(**ours), method=method.upper(), json=body.get("example"), headers=other)
            documented = "404" in operation["responses"]
            if documented != (answer.status_code == 404):
                wrong.append((method, path, answer.status_code, documented))
            if answer.status_code == 404:
                assert set(answer.get_json()) >= {"code", "status", "message"}
    assert wrong == []


def _query_for(operation: dict[str, Any]) -> dict[str, Any]:
    """A value for each required query parameter that its schema accepts."""
    values = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query" or not parameter.get("required"):
            continue
        schema = parameter["schema"]
        if schema.get("type") == "integer":
            values[parameter["name"]] = schema.get("minimum", 1)
        elif schema.get("format") == "date":
            values[parameter["name"]] = "2026-01-01"
        else:
            values[parameter["name"]] = "x" * max(schema.get("minLength", 1), 1)
    return values


@pytest.fixture
def admin_headers(client, runner) -> dict[str, str]:
    password = "a long password 1"
    created = runner.invoke(args=["admin", "create", "--username", "root", "--role", "admin"], input=password + "\n")
    assert created.exit_code == 0, created.output
    token = client.post("/api/v1/admin/auth/token", json={"username": "root", "password": password}).get_json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def _headers_for(operation: dict) -> dict[str, str]:
    """A value for each header the operation requires (the complaint's X-Query-Code): wrong, but present."""
    required = [p for p in operation.get("parameters", []) if p.get("in") == "header" and p.get("required")]
    return {parameter["name"]: "wrong-code" for parameter in required}


def test_whatever_is_not_there_is_a_404_exactly_where_the_document_says_so(spec, client, agency_headers, admin_headers):
    """Every operation on a path with parameters, called for things that do not exist (with its example body and
    its required query), answers 404 if and only if the document lists 404 for it. An upsert creates instead.
    Calls our tokens cannot make (the reviewer's and the mini-program's) are left to their own tests."""
    headers = {"AgencyBearer": agency_headers, "AdminBearer": admin_headers}
    wrong, checked, fresh = [], 0, itertools.count()  # fresh ids: an upsert before must not create what is sought
    for path, operations in spec["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        if not names:
            continue
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            scheme = next(iter((operation.get("security") or [{}])[0]), None)
            if scheme is not None and scheme not in headers:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            answer = client.open(
                path.format(
                    **{name: "4242" if name in INTEGER_PARAMETERS else f"none-{next(fresh)}" for name in names}
                ),
                method=method.upper(),
                json=body.get("example"),
                query_string=_query_for(operation),
                headers={**headers.get(scheme, {}), **_headers_for(operation)},
            )
            if answer.status_code in (401, 403, 503):
                continue  # a call for another role, or a service these tests do not configure (WeChat)
            checked += 1
            if ("404" in operation["responses"]) != (answer.status_code == 404):
                wrong.append((method, path, answer.status_code, sorted(operation["responses"])))
    assert wrong == []
    assert checked >= 30


def test_a_review_needs_every_checklist_item_the_document_marks_required(spec, client, agency_headers):
    """The service refuses a submission missing any checklist item; the document says which, by name."""
    case = _example(spec, "/api/v1/publish/cases/{case_no}", "put")
    for badge_no in case["officers"]:
        officer = _example(spec, "/api/v1/publish/officers/{badge_no}", "put")
        client.put(f"/api/v1/publish/officers/{badge_no}", json=officer, headers=agency_headers)
    assert client.put("/api/v1/publish/cases/QSJ-2", json=case, headers=agency_headers).status_code == 201
    path = "/api/v1/publish/cases/{case_no}/reviews"
    checklist = _resolve(spec, _resolve(spec, {"$ref": "#/components/schemas/ReviewSubmit"})["properties"]["checklist"])
    assert checklist["required"]
    for item in checklist["required"]:
        body = copy.deepcopy(_example(spec, path, "post"))
        del body["checklist"][item]
        answer = client.post(path.format(case_no="QSJ-2"), json=body, headers=agency_headers)
        assert _refused_for(answer, "checklist", item), answer.get_json()


def test_a_live_server_publishes_every_example_of_its_own_document(committed, tmp_path):
    """As a new integrator does it: read the served document, get a token, PUT each example verbatim over HTTP."""
    from backend.accounts.services import create_client
    from backend.agencies.services import create_agency

    with committed.app_context():
        create_agency(code="SFJ-LIVE", name="泉州市司法局", region_code="350500", actor="test", supervises=True)
        issued = create_client("SFJ-LIVE", actor="test")
    credentials = {"client_id": issued.client.client_id, "client_secret": issued.secret}
    with LiveServer(server_env(committed, tmp_path), workers=1) as server:
        document = http_json("GET", f"{server.url}/api/openapi.json")
        token = http_json("POST", f"{server.url}/api/v1/auth/token", credentials)["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for type_, example in _examples(document).items():
            url = server.url + PUT_ITEM.format(external_id=f"live-{type_}")
            request = urllib.request.Request(
                url,
                method="PUT",
                data=json.dumps(example, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json", **headers},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 201, type_
                item = json.loads(response.read())
            assert item["status"] == "published", type_
            public = http_json("GET", f"{server.url}/api/v1/disclosures/{item['id']}")
            assert public["title"] == example["title"]

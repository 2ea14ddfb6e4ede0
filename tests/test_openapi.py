import pytest
from werkzeug.routing.converters import IntegerConverter

from tests.test_case_reads import admin_headers


def test_openapi_document_lists_the_api_and_its_security(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["info"]["title"]
    assert {"/api/v1/auth/token", "/api/v1/agencies", "/api/v1/agencies/{code}"} <= set(spec["paths"])
    whoami = spec["paths"]["/api/v1/auth/whoami"]["get"]
    assert whoami["security"] == [{"AgencyBearer": []}]
    assert "401" in whoami["responses"]


def test_swagger_ui_is_served_by_the_app_itself(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"/api/docs/static/swagger-ui-bundle.js" in page.data
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200


@pytest.mark.parametrize(
    ("path", "formats"),
    [
        (
            "/api/v1/agencies/{code}/annual-report",
            {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        ),
        (
            "/api/v1/agencies/{code}/regional-report",
            {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        ),
        ("/api/v1/exchange/credit", {"text/csv"}),
        ("/api/v1/admin/audit", {"text/csv"}),
    ],
)
def test_a_file_format_is_documented_beside_the_json_it_alternates_with(client, path, formats):
    content = client.get("/api/openapi.json").get_json()["paths"][path]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", *formats}
    assert content["application/json"]["schema"]["$ref"].startswith("#/components/schemas/")


def test_every_integer_in_a_path_is_bounded_to_what_a_database_stores(app):
    """An unbounded ``<int:…>`` handed 10**20 to the database, which cannot store it (a 500 under fuzzing): every
    integer path argument has a maximum, so a larger one is a 404 before any query."""
    unbounded = [
        rule.rule
        for rule in app.url_map.iter_rules()
        for converter in rule._converters.values()
        if isinstance(converter, IntegerConverter) and (converter.max is None or converter.max > 2**63 - 1)
    ]
    assert unbounded == []


def test_a_subscription_number_beyond_any_database_is_not_found(client, runner, db_session):
    headers = admin_headers(client, runner, "root", "admin")
    answer = client.post("/api/v1/exchange/push/subscriptions/10000000000000000001/resume", headers=headers)
    assert answer.status_code == 404

import pytest


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

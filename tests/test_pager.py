"""One pager: every list is a ``Page`` made by ``paginate`` (or from a search), dumped by a ``page_schema``."""

import ast

import marshmallow as ma
from sqlalchemy import select

from backend.agencies.models import Agency
from backend.config import ROOT
from backend.extensions.smorest import Page, Schema, page_schema, paginate
from tests.factories import AgencyFactory


class NameSchema(Schema):
    name = ma.fields.String()


def test_paginate_gives_one_page_and_counts_them_all(app, db_session):
    made = sorted(AgencyFactory.create_batch(5, region_code="350583"), key=lambda agency: agency.code)
    ordered = select(Agency).where(Agency.region_code == "350583").order_by(Agency.code)
    second = paginate(ordered, page=2, page_size=2)
    assert (second.items, second.total, second.page, second.page_size) == (made[2:4], 5, 2, 2)
    assert paginate(ordered, page=3, page_size=2).items == made[4:]
    assert paginate(ordered, page=4, page_size=2) == Page([], 5, 4, 2)
    pairs = paginate(
        select(Agency.code, Agency.name).where(Agency.region_code == "350583").order_by(Agency.code),
        page=1,
        page_size=1,
    )
    assert [tuple(row) for row in pairs.items] == [(made[0].code, made[0].name)]
    assert second.map(lambda agency: agency.code) == Page([made[2].code, made[3].code], 5, 2, 2)


def test_page_schema_dumps_the_one_page_shape():
    page = Page([{"name": "甲"}], total=11, page=2, page_size=1, facets={"type": []})
    assert page_schema(NameSchema, "NamePageSchema")().dump(page) == {
        "items": [{"name": "甲"}],
        "total": 11,
        "page": 2,
        "page_size": 1,
    }
    phone = page_schema(NameSchema, "PhoneNamePageSchema", page_size=False)().dump(page)
    assert phone == {"items": [{"name": "甲"}], "total": 11, "page": 2}
    faceted = page_schema(NameSchema, "FacetedNamePageSchema", facets=ma.fields.Dict())().dump(page)
    assert faceted["facets"] == {"type": []}


def test_every_paged_operation_answers_a_page(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    paged = 0
    for path, operations in spec["paths"].items():
        get = operations.get("get", {})
        if not any(parameter["name"] == "page" for parameter in get.get("parameters", [])):
            continue
        paged += 1
        reference = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        properties = set(schemas[reference.rsplit("/", 1)[1]]["properties"])
        # A search's page also says whether its counts are exact (smorest.search_page_fields).
        allowed = {"items", "total", "page", "page_size", "facets", "total_exact", "facets_exact"}
        assert {"items", "total", "page"} <= properties <= allowed, path
    assert paged >= 6


def hand_built_pages(source: str) -> list[str]:
    """Classes and dicts in ``source`` with both ``items`` and ``total``: a page schema, type or dict made by hand."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            declared = {
                target.id
                for statement in node.body
                for target in (
                    statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
                )
                if isinstance(target, ast.Name)
            }
            if {"items", "total"} <= declared:
                found.append(node.name)
        elif isinstance(node, ast.Dict):
            keys = {key.value for key in node.keys if isinstance(key, ast.Constant)}
            if {"items", "total"} <= keys:
                found.append(f"dict at line {node.lineno}")
    return found


def test_no_page_is_made_by_hand():
    assert hand_built_pages("class RosterPage:\n    items: list\n    total: int\n") == ["RosterPage"]
    assert hand_built_pages('page = {"items": [], "total": 0, "page": 1}') == ["dict at line 1"]
    pager = ROOT / "backend" / "extensions" / "smorest.py"
    modules = [path for package in ("backend", "miniapp_api") for path in ROOT.glob(f"{package}/**/*.py")]
    found = {
        str(path.relative_to(ROOT)): names
        for path in modules
        if path != pager and (names := hand_built_pages(path.read_text()))
    }
    assert found == {}

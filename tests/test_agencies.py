import json

import pytest

from tests.factories import AgencyFactory

ENGINES = ["embedded", "elasticsearch"]


@pytest.fixture
def city(db_session):
    judicial = AgencyFactory(code="JUD", name="泉州市司法局", region_code="350500")
    market = AgencyFactory(
        code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial, address="泉州市丰泽区田安南路"
    )
    district = AgencyFactory(
        code="LCMKT", name="鲤城区市场监督管理局", region_code="350502", level="county", parent=market
    )
    housing = AgencyFactory(
        code="HOUSE", name="泉州市住房和城乡建设局", region_code="350500", parent=judicial, address="市场路 1 号"
    )
    other_city = AgencyFactory(code="XM", name="厦门市市场监督管理局", region_code="350200")
    return {a.code: a for a in (judicial, market, district, housing, other_city)}


def test_get_agency_by_code(client, city):
    response = client.get("/api/v1/agencies/MKT")
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "泉州市市场监督管理局"
    assert body["parent"] == "JUD"
    assert body["region_code"] == "350500"
    assert body["remedy_channels"]["reconsideration"] == ["泉州市人民政府"]


def test_unknown_agency_is_404_in_shape(client, city):
    response = client.get("/api/v1/agencies/NOPE")
    assert response.status_code == 404
    assert response.get_json()["errors"] == {"code": ["no agency with code 'NOPE'"]}


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_search_two_character_chinese_word_on_each_engine(client, city, indexer):
    indexer.sync()
    body = client.get("/api/v1/agencies?q=市场").get_json()
    codes = [item["code"] for item in body["items"]]
    # Name matches first; HOUSE matches only in its address (市场路).
    assert set(codes[:3]) == {"MKT", "LCMKT", "XM"}
    assert codes[3:] == ["HOUSE"]
    assert body["total"] == 4
    assert "<em>市场</em>" in body["items"][0]["highlight"]


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_region_filter_includes_divisions_below(client, city, indexer):
    indexer.sync()
    body = client.get("/api/v1/agencies?q=市场监督&region=350500").get_json()
    assert {item["code"] for item in body["items"]} == {"MKT", "LCMKT"}
    body = client.get("/api/v1/agencies?region=350502").get_json()
    assert [item["code"] for item in body["items"]] == ["LCMKT"]


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_changes_reach_the_index_through_the_outbox(client, city, indexer, db_session):
    indexer.sync()
    city["HOUSE"].name = "泉州市住房和城乡建设局（人防办）"
    db_session.commit()
    db_session.delete(city["XM"])
    db_session.commit()
    assert indexer.sync() == 2
    assert [i["code"] for i in client.get("/api/v1/agencies?q=人防").get_json()["items"]] == ["HOUSE"]
    assert "XM" not in [i["code"] for i in client.get("/api/v1/agencies?q=厦门").get_json()["items"]]


def test_paging(client, city, indexer):
    indexer.sync()
    first = client.get("/api/v1/agencies?page=1&page_size=2").get_json()
    second = client.get("/api/v1/agencies?page=2&page_size=2").get_json()
    third = client.get("/api/v1/agencies?page=3&page_size=2").get_json()
    codes = [i["code"] for page in (first, second, third) for i in page["items"]]
    assert sorted(codes) == sorted(city)
    assert first["total"] == 5 and first["page_size"] == 2


def test_cli_creates_agencies_and_refuses_duplicates(runner, db_session):
    result = runner.invoke(args=["agency", "create", "--code", "C1", "--name", "泉州市司法局", "--region", "350500"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["level"] == "city"
    result = runner.invoke(
        args=["agency", "create", "--code", "C2", "--name", "鲤城区司法局", "--region", "350502", "--parent", "C1"]
    )
    assert json.loads(result.output) == {
        "code": "C2",
        "name": "鲤城区司法局",
        "level": "county",
        "region_code": "350502",
        "parent": "C1",
    }
    again = runner.invoke(args=["agency", "create", "--code", "C1", "--name", "泉州市另一个局", "--region", "350500"])
    assert again.exit_code == 1
    assert "已存在" in again.output
    orphan = runner.invoke(
        args=["agency", "create", "--code", "C3", "--name", "泉州市孤立局", "--region", "350500", "--parent", "MISSING"]
    )
    assert orphan.exit_code == 1


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--code", "a b", "--name", "泉州市司法局", "--region", "350500"], "code"),
        (["--code", "OK", "--name", "泉州市司法局", "--region", "3505"], "region"),
        (["--code", "OK", "--name", "泉", "--region", "350500"], "name"),
    ],
)
def test_cli_names_the_bad_field(runner, db_session, args, field):
    result = runner.invoke(args=["agency", "create", *args])
    assert result.exit_code == 1
    assert f"'{field}'" in result.output

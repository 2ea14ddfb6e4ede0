"""The citizen search: facets with names on both engines, the page /s (filters, counts, paging, no results)."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from backend.divisions import region_name
from search_index.interfaces import SearchUnavailable
from tests.factories import AgencyFactory
from tests.factories.disclosures import decision, service_guide

URL = "/api/v1/publish/disclosures"
ENGINES = ["embedded", "elasticsearch"]
# A party's name long enough that a fragment around the match would cut it off.
PARTY = (
    "泉州市丰泽区某某食品贸易有限公司东湖分店"
    "（统一社会信用代码 91350503MA2Y000000，住所 泉州市丰泽区东湖街道某某路 88 号）"
)
LONG_TITLE = PARTY + "未经许可从事食品经营活动行政处罚决定书"
DIVISIONS = {"350000": "福建省", "350500": "泉州市", "350502": "鲤城区", "320000": "江苏省", "320900": "盐城市"}


@pytest.fixture
def two_cities(client, auth, db_session, frozen_clock, indexer):
    """Five public items of three agencies in two cities (泉州 and its 鲤城区, 盐城)."""
    AgencyFactory(code="QZ", name="泉州市市场监督管理局", region_code="350500")
    AgencyFactory(code="LC", name="鲤城区市场监督管理局", region_code="350502", level="county")
    AgencyFactory(code="YC", name="盐城市市场监督管理局", region_code="320900")
    items = [
        ("QZ", "long", decision(title=LONG_TITLE, document_no="泉市监罚〔2025〕1号", decision_date="2025-10-15")),
        (
            "QZ",
            "licence",
            decision(
                category="licensing",
                title="食品经营许可证核发决定",
                document_no="泉市监许〔2025〕8号",
                decision_date="2025-10-10",
            ),
        ),
        ("QZ", "guide", service_guide()),
        (
            "LC",
            "district",
            decision(title="鲤城区某超市行政处罚决定书", document_no="鲤市监罚〔2025〕3号", decision_date="2025-10-16"),
        ),
        (
            "YC",
            "yancheng",
            decision(title="盐城市某超市行政处罚决定书", document_no="盐市监罚〔2025〕5号", decision_date="2025-10-12"),
        ),
    ]
    ids = {}
    for agency, key, body in items:
        response = client.put(f"{URL}/{key}", json=body, headers=auth.headers(agency))
        assert response.status_code == 201, response.get_json()
        ids[key] = response.get_json()["id"]
    indexer.sync()
    return ids


def api_search(client, **params) -> dict:
    response = client.get("/api/v1/disclosures", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def page(client, **params) -> str:
    response = client.get("/s", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def options(body: str, name: str) -> dict[str, str]:
    """A select's options on the page: value -> the text shown."""
    select = re.search(rf'<select id="f-{name}" name="{name}">(.*?)</select>', body, re.S)
    assert select, name
    return {
        value: html.unescape(text.strip())
        for value, text in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))
    }


def links(body: str, rel: str) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(html.unescape(href)).query) for href in re.findall(rf'rel="{rel}" href="([^"]+)"', body)]


def test_division_names_come_from_the_gb_t_2260_table():
    assert [region_name(code) for code in DIVISIONS] == list(DIVISIONS.values())
    assert region_name("120110") == "东丽区"  # renamed in 1992: the current name, without its years
    assert region_name("999999") is None and region_name("abc") is None


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_facets_name_agencies_divisions_types_and_categories(client, two_cities):
    everything = api_search(client)
    assert everything["total"] == 5
    labels = {name: {f["value"]: f["label"] for f in values} for name, values in everything["facets"].items()}
    assert labels["agency"] == {
        "QZ": "泉州市市场监督管理局",
        "LC": "鲤城区市场监督管理局",
        "YC": "盐城市市场监督管理局",
    }
    assert labels["region"] == DIVISIONS
    assert labels["type"] == {"decision": "执法决定", "service_guide": "服务指南"}
    assert labels["category"] == {"penalty": "行政处罚", "licensing": "行政许可"}
    assert labels["phase"] == {"post": "事后公开", "pre": "事前公开"}
    for name, values in everything["facets"].items():
        for facet in values:
            assert api_search(client, **{name: facet["value"]})["total"] == facet["count"], (name, facet)
    # A facet leaves out its own filter, so a chosen region still lists the others; the other facets honour it.
    in_quanzhou = api_search(client, region="350500")
    counts = {name: {f["value"]: f["count"] for f in values} for name, values in in_quanzhou["facets"].items()}
    assert in_quanzhou["total"] == 4
    assert counts["region"] == {"320000": 1, "320900": 1, "350000": 4, "350500": 4, "350502": 1}
    assert counts["agency"] == {"QZ": 3, "LC": 1}


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_the_page_offers_every_filter_with_names_and_counts(client, two_cities):
    body = page(client)
    assert body.count("<h1") == 1 and "共 5 条" in body
    assert options(body, "region") == {
        "": "全部",
        "320000": "江苏省（1）",
        "320900": "盐城市（1）",
        "350000": "福建省（4）",
        "350500": "泉州市（4）",
        "350502": "鲤城区（1）",
    }
    assert options(body, "agency")["YC"] == "盐城市市场监督管理局（1）"
    assert options(body, "type") == {"": "全部", "decision": "执法决定（4）", "service_guide": "服务指南（1）"}
    assert options(body, "category") == {"": "全部", "penalty": "行政处罚（3）", "licensing": "行政许可（1）"}
    assert options(body, "sort") == {"relevance": "按相关度", "date": "按日期（最新在前）"}
    shown = [html.unescape(text) for text in re.findall(r">([^<>]+)<", body)]
    assert not [text for text in shown if re.search(r"\b\d{6}\b", text)], "a raw division code is shown"
    for name in ("q", "f-agency", "f-region", "f-type", "f-category", "f-date_from", "f-date_to", "f-sort"):
        assert f'for="{name}"' in body, name


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_filters_narrow_the_page_and_each_result_links_its_item_and_agency(client, two_cities):
    body = page(client, q="行政处罚", region="350500", date_from="2025-10-01", date_to="2025-10-31", agency="")
    assert "共 2 条" in body
    assert f'href="/d/{two_cities["long"]}"' in body and f'href="/d/{two_cities["district"]}"' in body
    assert f'/d/{two_cities["yancheng"]}"' not in body
    assert "泉州市市场监督管理局" in body and "鲤城区市场监督管理局" in body
    # The title whole, the match marked inside it.
    assert html.escape(PARTY) + "未经许可从事食品经营活动<em>行政处罚</em>决定书" in body
    assert 'value="2025-10-01"' in body and options(body, "region")["350500"] == "泉州市（2）"
    # The filters in force, each a link that drops it and keeps the others.
    assert "地区：泉州市" in body and "起始日期：2025-10-01" in body
    dropped = [
        parse_qs(urlsplit(html.unescape(h)).query)
        for h in re.findall(r'href="(/s\?[^"]+)" aria-label="去掉筛选：地区', body)
    ]
    assert dropped == [{"q": ["行政处罚"], "date_from": ["2025-10-01"], "date_to": ["2025-10-31"]}]


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_a_chosen_region_still_offers_the_others_with_their_counts(client, two_cities):
    body = page(client, region="350502")
    assert "共 1 条" in body and "地区：鲤城区" in body
    assert options(body, "region") == {
        "": "全部",
        "320000": "江苏省（1）",
        "320900": "盐城市（1）",
        "350000": "福建省（4）",
        "350500": "泉州市（4）",
        "350502": "鲤城区（1）",
    }
    assert 'value="350502" selected' in body
    # The other filters count within the chosen region only.
    assert options(body, "agency") == {"": "全部", "LC": "鲤城区市场监督管理局（1）"}
    assert options(body, "type") == {"": "全部", "decision": "执法决定（1）"}


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_sorting_by_date_and_paging_keep_the_filters(client, two_cities):
    first = page(client, type="decision", sort="date", page_size=2)
    assert "共 4 条，第 1 / 2 页" in first
    order = [re.search(r"/d/(\w+)", m).group(1) for m in re.findall(r'<h2 class="result-title"><a href="[^"]+"', first)]
    assert order == [two_cities["district"], two_cities["long"]]
    (following,) = links(first, "next")
    assert following == {"type": ["decision"], "sort": ["date"], "page_size": ["2"], "page": ["2"]}
    second = page(client, **{name: values[0] for name, values in following.items()})
    assert "第 2 / 2 页" in second and not links(second, "next")
    assert links(second, "prev") == [{"type": ["decision"], "sort": ["date"], "page_size": ["2"]}]  # page 1
    assert f'/d/{two_cities["yancheng"]}"' in second and f'/d/{two_cities["licence"]}"' in second


def test_no_results_suggest_removing_the_filters(client, two_cities):
    filtered = page(client, q="超市", region="320900", category="licensing")
    assert "共 0 条" in filtered and "去掉部分筛选条件" in filtered
    assert options(filtered, "region")["320900"] == "盐城市"  # chosen, though no hit has it
    assert 'href="/s?q=%E8%B6%85%E5%B8%82">清除全部筛选' in filtered
    plain = page(client, q="没有这个词")
    assert "共 0 条" in plain and "换一个词" in plain and "去掉部分筛选条件" not in plain


def test_a_value_the_page_cannot_read_is_dropped_not_refused(client, two_cities):
    body = page(client, q="超市", region="abc", date_from="yesterday", sort="random", page="0", unknown="1")
    assert "共 2 条" in body
    assert page(client, q="x" * 500).count("<h1") == 1


def test_the_unavailable_page_keeps_the_form(client, two_cities, app, monkeypatch):
    def down(*_args, **_kwargs):
        raise SearchUnavailable("down")

    monkeypatch.setattr(app.extensions["search"], "search", down)
    response = client.get("/s", query_string={"q": "超市", "region": "350500"})
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] and "暂不可用" in body
    assert options(body, "region") == {"": "全部", "350500": "泉州市"}


@pytest.mark.parametrize("search_engine", ENGINES, indirect=True)
def test_above_the_exact_count_limit_the_api_and_page_say_the_counts_are_estimates(
    client, two_cities, app, monkeypatch
):
    """Matches beyond SEARCH_EXACT_COUNT_LIMIT are estimated from a sample (search_index.interfaces): the API
    says so, the page shows 约 and no last page."""
    exact = api_search(client, q="行政处罚")
    assert (exact["total"], exact["total_exact"], exact["facets_exact"]) == (3, True, True)
    assert "共 3 条" in page(client, q="行政处罚")
    monkeypatch.setitem(app.config, "SEARCH_EXACT_COUNT_LIMIT", 1)
    estimated = api_search(client, q="行政处罚")
    assert (estimated["total_exact"], estimated["facets_exact"]) == (False, False)
    assert estimated["total"] >= 2  # never below what was counted exactly: more than the limit
    assert len(estimated["items"]) == 3  # the hits themselves are all there
    body = page(client, q="行政处罚")
    assert f"约{estimated['total']} 条，第 1 页" in body and "共 " not in body
    assert re.search(r"title=\"结果超过一万条", body)
    few = api_search(client, q="许可证")  # one match: within the limit, exact however large the index
    assert (few["total"], few["total_exact"]) == (1, True)


def test_estimated_counts_read_as_estimates():
    from backend.disclosures.facets import count_text

    assert count_text(1234) == "1234"
    assert count_text(483_000, exact=False) == "约48.3万"
    assert count_text(10_000, exact=False) == "约1万"
    assert count_text(9_990, exact=False) == "约9990"

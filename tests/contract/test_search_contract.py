"""One contract, two engines: the embedded engine and Elasticsearch must answer alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import itertools

import pytest

from search_index.interfaces import Deletion, Document, IndexDefinition, SearchQuery, SearchUnavailable, SourceState
from search_index.mappings import AGENCIES, DEFINITIONS, DISCLOSURES, OFFICERS

CONTRACT = IndexDefinition(
    name="contract",
    version=1,
    text_fields={"title": 3.0, "content": 1.0},
    keyword_fields=("kind", "region"),
    date_field="date",
    highlight_fields=("title", "content"),
    whole_fields=("title",),
)

DOCS = {
    "penalty": {
        "title": "泉州市市场监督管理局行政处罚决定书",
        "content": "当事人销售过期食品，依据《食品安全法》作出罚款决定。",
        "kind": "penalty",
        "region": ["350000", "350500"],
        "date": "2025-09-30",
    },
    "license": {
        "title": "食品经营许可证办理指南",
        "content": "申请人向行政机关提交材料，行政许可在二十个工作日内作出。",
        "kind": "licensing",
        "region": ["350000", "350500", "350502"],
        "date": "2025-10-09",
    },
    "apart": {
        "title": "执法检查结果",
        "content": "行政机关对其违法行为依法处罚，并责令改正。",
        "kind": "inspection",
        "region": ["350000", "350500", "350503"],
        "date": "2025-10-20",
    },
    "body_only": {
        "title": "年度统计报告",
        "content": "本年度共作出行政处罚决定 120 件。<script>alert(1)</script>",
        "kind": "statistics",
        "region": ["350000", "350500"],
        "date": "2026-01-15",
    },
}


@pytest.fixture(params=["embedded", "elasticsearch"])
def engine(request, app, tmp_path):
    import uuid

    from search_index import make_engine
    from tests.support.services import require

    config = dict(
        app.config,
        SEARCH_INDEX_PREFIX=f"c{uuid.uuid4().hex[:10]}",
        SEARCH_EMBEDDED_PATH=str(tmp_path / "contract.sqlite3"),
        ELASTICSEARCH_URL=None,
    )
    if request.param == "elasticsearch":
        config["ELASTICSEARCH_URL"] = require("ELASTICSEARCH_URL", "Elasticsearch")
    engine = make_engine(config)
    engine.ensure_index(CONTRACT)
    yield engine
    engine.drop(CONTRACT)


@pytest.fixture
def loaded(engine):
    engine.write(CONTRACT, [Document(doc_id, 1, body) for doc_id, body in DOCS.items()])
    engine.refresh(CONTRACT)
    return engine


def ids(engine, **query) -> list[str]:
    return [hit.id for hit in engine.search(CONTRACT, SearchQuery(**query)).hits]


def test_two_character_chinese_word_matches(loaded):
    assert set(ids(loaded, text="罚款")) == {"penalty"}
    assert set(ids(loaded, text="许可")) == {"license"}


def test_phrase_matches_only_adjacent_characters(loaded):
    # "apart" has 行政 and 处罚 but not 行政处罚 side by side.
    assert set(ids(loaded, text="行政处罚")) == {"penalty", "body_only"}
    assert set(ids(loaded, text='"依法 处罚"')) == {"apart"}


def test_every_term_must_match(loaded):
    assert ids(loaded, text="处罚 食品") == ["penalty"]
    assert ids(loaded, text="处罚 不存在的词") == []


def test_title_match_ranks_above_body_only_match(loaded):
    assert ids(loaded, text="行政处罚") == ["penalty", "body_only"]


def test_latin_words_and_numbers_match_whole(loaded):
    assert ids(loaded, text="120") == ["body_only"]
    assert ids(loaded, text="12") == []


def test_filters_combine_with_and_across_fields_or_within(loaded):
    assert set(ids(loaded, filters={"kind": ["penalty", "licensing"]})) == {"penalty", "license"}
    assert set(ids(loaded, filters={"region": ["350502"]})) == {"license"}
    assert ids(loaded, filters={"kind": ["penalty"], "region": ["350502"]}) == []


def test_date_range_is_inclusive(loaded):
    found = ids(loaded, date_from=dt.date(2025, 10, 9), date_to=dt.date(2025, 10, 20))
    assert set(found) == {"license", "apart"}


def test_facets_count_the_filtered_results(loaded):
    result = loaded.search(CONTRACT, SearchQuery(text="行政", facets=("kind", "region")))
    assert result.total == 4
    assert result.facets["kind"] == {"penalty": 1, "licensing": 1, "inspection": 1, "statistics": 1}
    assert result.facets["region"] == {"350000": 4, "350500": 4, "350502": 1, "350503": 1}
    filtered = loaded.search(CONTRACT, SearchQuery(text="行政", filters={"region": ["350502"]}, facets=("kind",)))
    assert filtered.total == 1
    assert filtered.facets["kind"] == {"licensing": 1}


def test_a_facet_counts_without_its_own_filter(loaded):
    """Disjunctive facets: a chosen region still lists the other regions, with the counts they would have."""
    result = loaded.search(CONTRACT, SearchQuery(filters={"region": ["350502"]}, facets=("region", "kind")))
    assert [hit.id for hit in result.hits] == ["license"]
    assert result.total == 1
    assert result.facets["region"] == {"350000": 4, "350500": 4, "350502": 1, "350503": 1}
    assert result.facets["kind"] == {"licensing": 1}
    with_text = loaded.search(CONTRACT, SearchQuery(text="行政", filters={"region": ["350503"]}, facets=("region",)))
    assert [hit.id for hit in with_text.hits] == ["apart"]
    assert with_text.facets["region"] == {"350000": 4, "350500": 4, "350502": 1, "350503": 1}


def test_two_faceted_filters_each_leave_out_only_their_own(loaded):
    query = SearchQuery(filters={"kind": ["penalty"], "region": ["350502"]}, facets=("region", "kind"))
    for sort in ("relevance", "date"):
        result = loaded.search(CONTRACT, dataclasses.replace(query, sort=sort))
        assert (result.total, result.hits) == (0, [])
        assert result.facets["region"] == {"350000": 1, "350500": 1}
        assert result.facets["kind"] == {"licensing": 1}


def test_a_date_range_and_unfaceted_filters_narrow_every_facet(loaded):
    dated = SearchQuery(filters={"region": ["350502"]}, date_from=dt.date(2025, 10, 10), facets=("region", "kind"))
    result = loaded.search(CONTRACT, dated)
    assert result.total == 0
    assert result.facets["region"] == {"350000": 2, "350500": 2, "350503": 1}
    assert result.facets["kind"] == {}
    unfaceted = loaded.search(CONTRACT, SearchQuery(filters={"kind": ["inspection"]}, facets=("region",)))
    assert unfaceted.facets["region"] == {"350000": 1, "350500": 1, "350503": 1}


def test_sort_by_date_is_newest_first(loaded):
    assert ids(loaded, sort="date") == ["body_only", "apart", "license", "penalty"]


def test_paging_is_stable_and_disjoint(loaded):
    first = loaded.search(CONTRACT, SearchQuery(sort="date", page=1, page_size=3))
    second = loaded.search(CONTRACT, SearchQuery(sort="date", page=2, page_size=3))
    assert first.total == second.total == 4
    assert [h.id for h in first.hits] + [h.id for h in second.hits] == ["body_only", "apart", "license", "penalty"]


def test_highlight_marks_the_match_and_escapes_html(loaded):
    hits = {hit.id: hit for hit in loaded.search(CONTRACT, SearchQuery(text="行政处罚")).hits}
    assert "<em>行政处罚</em>" in hits["penalty"].highlights["title"]
    snippet = hits["body_only"].highlights["content"]
    assert "<em>行政处罚</em>" in snippet
    assert "<script>" not in snippet


def test_a_title_is_highlighted_whole_and_a_body_in_a_fragment(engine):
    # The party's name leads a title: a fragment around a late match would cut it off.
    name = (
        "泉州市丰泽区某某食品贸易有限公司<东湖分店>"
        "（统一社会信用代码 91350503MA2Y000000，法定代表人 某某某，住所 泉州市丰泽区东湖街道某某路 88 号）"
    )
    title = name + "未经许可从事食品经营活动并销售超过保质期食品一案的行政处罚决定书"
    content = "经查，" + "当事人" * 40 + "未经许可从事食品经营活动。" + "依法作出决定" * 20
    engine.write(CONTRACT, [Document("long", 1, {"title": title, "content": content, "kind": "penalty"})])
    engine.refresh(CONTRACT)
    (hit,) = engine.search(CONTRACT, SearchQuery(text="未经许可")).hits
    marked = "<em>未经许可</em>从事食品经营活动并销售超过保质期食品一案的行政处罚决定书"
    assert hit.highlights["title"] == html.escape(name) + marked
    snippet = hit.highlights["content"]
    assert "<em>未经许可</em>" in snippet
    assert len(snippet) < len(content) and not snippet.startswith("经查")
    (both,) = engine.search(CONTRACT, SearchQuery(text="食品")).hits
    assert both.highlights["title"].count("<em>食品</em>") == 3
    assert both.highlights["title"].startswith("泉州市丰泽区")


def test_older_or_repeated_versions_never_overwrite_newer(engine):
    body = DOCS["penalty"]
    assert engine.write(CONTRACT, [Document("d", 2, {**body, "title": "第二版 行政处罚"})]).applied == 1
    late = engine.write(CONTRACT, [Document("d", 1, {**body, "title": "第一版 行政许可"})])
    repeated = engine.write(CONTRACT, [Document("d", 2, {**body, "title": "第二版 行政处罚"})])
    engine.refresh(CONTRACT)
    assert (late.applied, late.stale) == (0, 1)
    assert (repeated.applied, repeated.stale) == (0, 1)
    assert ids(engine, text="第二版") == ["d"]
    assert ids(engine, text="第一版") == []


def test_deletion_is_versioned_too(engine):
    engine.write(CONTRACT, [Document("d", 1, DOCS["penalty"])])
    engine.write(CONTRACT, [Deletion("d", 2)])
    late = engine.write(CONTRACT, [Document("d", 1, DOCS["penalty"])])
    engine.refresh(CONTRACT)
    assert late.applied == 0
    assert ids(engine, text="罚款") == []
    assert engine.count(CONTRACT) == 0
    engine.write(CONTRACT, [Document("d", 3, DOCS["penalty"])])
    engine.refresh(CONTRACT)
    assert ids(engine, text="罚款") == ["d"]


def test_deleting_an_unknown_document_is_not_an_error(engine):
    assert engine.write(CONTRACT, [Deletion("never-indexed", 1)]).applied == 1


def test_reindex_swaps_in_a_new_index_and_keeps_writes_made_during_the_build(loaded):
    def documents():
        yield Document("penalty", 5, {**DOCS["penalty"], "title": "重建后的行政处罚决定书"})
        # A change published while the rebuild runs goes to the live and the new index.
        loaded.write(CONTRACT, [Document("fresh", 1, {**DOCS["license"], "title": "重建期间发布的许可"})])
        yield Document("license", 5, DOCS["license"])

    loaded.reindex(CONTRACT, documents())
    loaded.refresh(CONTRACT)
    assert loaded.count(CONTRACT) == 3
    assert ids(loaded, text="重建后") == ["penalty"]
    assert ids(loaded, text="重建期间") == ["fresh"]
    assert ids(loaded, text="依法 处罚") == []  # "apart" was not in the rebuild


def test_a_rebuild_never_puts_back_an_older_version_than_a_write_made_during_it(loaded):
    def documents():
        # Published while the rebuild reads: version 9 reaches the new index before the rebuild's version 5.
        loaded.write(CONTRACT, [Document("license", 9, {**DOCS["license"], "title": "重建期间改过的许可"})])
        yield Document("penalty", 5, DOCS["penalty"])
        yield Document("license", 5, DOCS["license"])

    loaded.reindex(CONTRACT, documents())
    loaded.refresh(CONTRACT)
    assert ids(loaded, text="重建期间改过") == ["license"]
    assert ids(loaded, text="食品经营许可证") == []
    assert loaded.search(CONTRACT, SearchQuery(facets=("kind",))).facets["kind"] == {"penalty": 1, "licensing": 1}


def test_failed_reindex_leaves_the_live_index_alone(loaded):
    def broken():
        yield Document("penalty", 5, DOCS["penalty"])
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        loaded.reindex(CONTRACT, broken())
    loaded.refresh(CONTRACT)
    assert loaded.count(CONTRACT) == 4
    assert set(ids(loaded, text="行政")) == {"penalty", "license", "apart", "body_only"}


def test_empty_query_returns_everything(loaded):
    result = loaded.search(CONTRACT, SearchQuery(facets=("kind",)))
    assert result.total == 4
    assert sum(result.facets["kind"].values()) == 4


def test_health_reports_the_engine(engine):
    assert engine.health()["engine"] == engine.name


def test_relevance_paging_crosses_from_title_matches_to_body_only(loaded):
    assert ids(loaded, text="行政处罚", page=1, page_size=1) == ["penalty"]
    assert ids(loaded, text="行政处罚", page=2, page_size=1) == ["body_only"]
    assert ids(loaded, text="行政处罚", page=3, page_size=1) == []


def test_filters_facets_and_date_range_agree_without_text(loaded):
    result = loaded.search(
        CONTRACT,
        SearchQuery(filters={"region": ["350500"]}, date_from=dt.date(2025, 10, 1), facets=("kind", "region")),
    )
    assert result.total == 3
    assert {hit.id for hit in result.hits} == {"license", "apart", "body_only"}
    assert result.facets["kind"] == {"licensing": 1, "inspection": 1, "statistics": 1}
    assert result.facets["region"] == {"350000": 3, "350500": 3, "350502": 1, "350503": 1}


def test_totals_and_facets_follow_updates_and_deletions(loaded):
    loaded.write(CONTRACT, [Document("penalty", 2, {**DOCS["penalty"], "kind": "licensing"}), Deletion("apart", 2)])
    loaded.refresh(CONTRACT)
    for text in ("", "行政"):
        result = loaded.search(CONTRACT, SearchQuery(text=text, facets=("kind",)))
        assert result.total == 3
        assert result.facets["kind"] == {"licensing": 2, "statistics": 1}
    dated = loaded.search(CONTRACT, SearchQuery(date_to=dt.date(2025, 12, 31), facets=("kind",)))
    assert dated.total == 2
    assert dated.facets["kind"] == {"licensing": 2}


def test_sort_by_date_with_text_still_highlights(loaded):
    result = loaded.search(CONTRACT, SearchQuery(text="行政处罚", sort="date"))
    assert [hit.id for hit in result.hits] == ["body_only", "penalty"]
    assert "<em>行政处罚</em>" in result.hits[0].highlights["content"]
    assert "<em>行政处罚</em>" in result.hits[1].highlights["title"]


# -- which database an index projects ------------------------------------------------------------
DATABASE_A, DATABASE_B = "0f6f5b8e-a000-4000-8000-00000000000a", "0f6f5b8e-b000-4000-8000-00000000000b"


def test_a_new_index_records_no_database(engine):
    assert engine.source(CONTRACT) is None
    assert engine.source(CONTRACT, building=True) is None
    assert SourceState(DATABASE_A, 0).projected_by(engine.source(CONTRACT)) is not None


def test_the_recorded_database_reads_back_and_matches_only_that_database(engine):
    engine.record_source(CONTRACT, SourceState(DATABASE_A, 7))
    assert engine.source(CONTRACT) == SourceState(DATABASE_A, 7)
    assert SourceState(DATABASE_A, 7).projected_by(engine.source(CONTRACT)) is None
    assert SourceState(DATABASE_A, 9).projected_by(engine.source(CONTRACT)) is None  # changes still to index
    assert "built for database" in SourceState(DATABASE_B, 7).projected_by(engine.source(CONTRACT))
    # A backup of A taken before change 7: the index holds changes the database no longer has.
    assert "restored" in SourceState(DATABASE_A, 6).projected_by(engine.source(CONTRACT))


def test_the_sequence_only_rises_for_one_database_and_another_database_replaces_it(engine):
    engine.record_source(CONTRACT, SourceState(DATABASE_A, 9))
    engine.record_source(CONTRACT, SourceState(DATABASE_A, 4))  # a slower indexer, later
    assert engine.source(CONTRACT) == SourceState(DATABASE_A, 9)
    engine.record_source(CONTRACT, SourceState(DATABASE_B, 2))
    assert engine.source(CONTRACT) == SourceState(DATABASE_B, 2)


def test_recording_on_a_missing_index_is_unavailable(engine):
    engine.drop(CONTRACT)
    with pytest.raises(SearchUnavailable):
        engine.record_source(CONTRACT, SourceState(DATABASE_A, 1))
    assert engine.source(CONTRACT) is None


def test_a_rebuild_swaps_in_the_database_it_was_built_from(loaded):
    loaded.record_source(CONTRACT, SourceState(DATABASE_A, 40))

    def documents():
        # While the rebuild runs, the live index is A's and the new one B's; the indexer's records go to both.
        assert loaded.source(CONTRACT) == SourceState(DATABASE_A, 40)
        assert loaded.source(CONTRACT, building=True) == SourceState(DATABASE_B, 3)
        loaded.record_source(CONTRACT, SourceState(DATABASE_B, 5))
        assert loaded.source(CONTRACT, building=True) == SourceState(DATABASE_B, 5)
        yield Document("license", 1, DOCS["license"])

    loaded.reindex(CONTRACT, documents(), source=SourceState(DATABASE_B, 3))
    assert loaded.source(CONTRACT) == SourceState(DATABASE_B, 5)
    assert loaded.source(CONTRACT, building=True) is None
    assert SourceState(DATABASE_B, 5).projected_by(loaded.source(CONTRACT)) is None


def test_a_failed_rebuild_keeps_the_live_index_and_its_database(loaded):
    loaded.record_source(CONTRACT, SourceState(DATABASE_A, 40))

    def broken():
        yield Document("penalty", 5, DOCS["penalty"])
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        loaded.reindex(CONTRACT, broken(), source=SourceState(DATABASE_B, 3))
    assert loaded.source(CONTRACT) == SourceState(DATABASE_A, 40)
    assert loaded.source(CONTRACT, building=True) is None


def test_a_second_rebuild_while_one_runs_is_refused(loaded):
    def documents():
        with pytest.raises(SearchUnavailable):
            loaded.reindex(CONTRACT, iter(()), source=SourceState(DATABASE_B, 1))
        yield Document("license", 1, DOCS["license"])

    loaded.reindex(CONTRACT, documents(), source=SourceState(DATABASE_B, 1))
    assert loaded.count(CONTRACT) == 1
    # The lock is released: another rebuild may run now.
    loaded.reindex(CONTRACT, iter(()), source=SourceState(DATABASE_B, 2))
    assert loaded.source(CONTRACT) == SourceState(DATABASE_B, 2)


def leave_a_dead_rebuild(engine) -> None:
    """What a killed rebuild leaves: an index behind the building alias, and its lock released or lapsed."""
    if engine.name == "elasticsearch":
        engine._create_physical(CONTRACT, bulk_load=True, aliases={engine.alias(CONTRACT) + "-building": {}})
        return
    with engine._tx() as conn:
        physical = engine._create_physical(conn, CONTRACT, bulk=True)
        conn.execute("INSERT INTO aliases VALUES (?, ?)", (engine.alias(CONTRACT) + "__building", physical))


def test_a_rebuild_that_died_midway_does_not_block_the_next(loaded):
    leave_a_dead_rebuild(loaded)
    loaded.reindex(CONTRACT, iter([Document("license", 1, DOCS["license"])]), source=SourceState(DATABASE_B, 1))
    assert loaded.source(CONTRACT) == SourceState(DATABASE_B, 1)
    assert loaded.source(CONTRACT, building=True) is None
    assert loaded.count(CONTRACT) == 1


# -- simplified and traditional characters find each other ----------------------------------------------
# The Yancheng plan (盐城, 2019) is published in traditional characters; a citizen types simplified, or the reverse.
YANCHENG = {
    "title": "鹽城市全面推行行政執法公示制度執法全過程記錄制度重大執法決定法制審核制度實施方案",
    "content": "要及時編制、更新本部門的行政執法職權事項清單、服務指南、行政執法流程圖、隨機抽查事項清單，並予以公示。",
    "document_no": "鹽政辦發〔2019〕45號",
    "phase": "pre",
    "agency": "YC",
    "region": ["320000", "320900"],
    "date": "2019-10-26",
}
QUANZHOU = {
    "title": "泉州市市场监督管理局2025年随机抽查事项清单",
    "content": "本清单列明随机抽查的事项、对象和检查方式。",
    "document_no": "泉市监〔2025〕7号",
    "phase": "pre",
    "agency": "MKT",
    "region": ["350000", "350500"],
    "date": "2025-03-01",
}


@pytest.fixture
def every_index(engine):
    """The project's own indices (disclosures, agencies, officers) on the engine under test."""
    for definition in DEFINITIONS.values():
        engine.ensure_index(definition)
    yield engine
    for definition in DEFINITIONS.values():
        engine.drop(definition)


def found(engine, definition: IndexDefinition, text: str) -> dict[str, dict[str, str]]:
    """id -> highlights of every hit of ``text``."""
    return {hit.id: dict(hit.highlights) for hit in engine.search(definition, SearchQuery(text=text)).hits}


def test_either_script_finds_disclosures_in_both_and_highlights_them_as_published(every_index):
    every_index.write(DISCLOSURES, [Document("yancheng", 1, YANCHENG), Document("quanzhou", 1, QUANZHOU)])
    every_index.refresh(DISCLOSURES)
    for query in ("随机抽查", "隨機抽查", "随機抽查"):  # simplified, traditional, and a mix of the two
        hits = found(every_index, DISCLOSURES, query)
        assert set(hits) == {"yancheng", "quanzhou"}, query
        assert "<em>隨機抽查</em>事項清單" in hits["yancheng"]["content"]
        assert hits["quanzhou"]["title"] == "泉州市市场监督管理局2025年<em>随机抽查</em>事项清单"
    assert set(found(every_index, DISCLOSURES, "盐城 执法全过程记录")) == {"yancheng"}
    assert set(found(every_index, DISCLOSURES, "检查方式")) == {"quanzhou"}
    assert set(found(every_index, DISCLOSURES, "鹽政辦發")) == {"yancheng"}


def test_either_script_finds_agencies_in_both(every_index):
    every_index.write(
        AGENCIES,
        [
            Document("YC", 1, {"name": "鹽城市市場監督管理局", "address": "鹽城市世紀大道", "level": "city"}),
            Document("MKT", 1, {"name": "泉州市市场监督管理局", "address": "泉州市丰泽区", "level": "city"}),
        ],
    )
    every_index.refresh(AGENCIES)
    for query in ("市场监督管理局", "市場監督管理局"):
        hits = found(every_index, AGENCIES, query)
        assert set(hits) == {"YC", "MKT"}, query
        assert hits["YC"]["name"] == "鹽城市<em>市場監督管理局</em>"
        assert hits["MKT"]["name"] == "泉州市<em>市场监督管理局</em>"
    assert set(found(every_index, AGENCIES, "世纪大道")) == {"YC"}


def test_either_script_finds_officers_in_both(every_index):
    every_index.write(
        OFFICERS,
        [
            Document("YC/32090012345", 1, {"name": "陳國強", "badge_no": "32090012345", "domains": "市場監管"}),
            Document("MKT/35050012345", 1, {"name": "陈国强", "badge_no": "35050012345", "domains": "市场监管"}),
        ],
    )
    every_index.refresh(OFFICERS)
    for query in ("陈国强", "陳國強"):
        hits = found(every_index, OFFICERS, query)
        assert set(hits) == {"YC/32090012345", "MKT/35050012345"}, query
        assert hits["YC/32090012345"]["name"] == "<em>陳國強</em>"
        assert hits["MKT/35050012345"]["name"] == "<em>陈国强</em>"
    assert set(found(every_index, OFFICERS, "市場監管 32090012345")) == {"YC/32090012345"}


def test_folding_leaves_ordinary_matching_as_it_was(every_index):
    every_index.write(DISCLOSURES, [Document("yancheng", 1, YANCHENG), Document("quanzhou", 1, QUANZHOU)])
    every_index.refresh(DISCLOSURES)
    assert found(every_index, DISCLOSURES, "抽查随机") == {}  # still a phrase: order counts
    assert found(every_index, DISCLOSURES, "随机 不存在的词") == {}  # still every term
    assert set(found(every_index, DISCLOSURES, "2025")) == {"quanzhou"}
    assert set(found(every_index, DISCLOSURES, "45")) == {"yancheng"}
    assert found(every_index, DISCLOSURES, "4") == {}  # numbers still match whole


# -- counting a large index: exact up to SearchQuery.exact_up_to, estimated from a sample above it ---------------
MANY = 640  # 食品 in every one; kind a in 3 of 4, b in 1 of 4 but c in 48; 罕见 in 30


def many_body(n: int) -> dict:
    kind = "c" if n % 13 == 0 and n < 13 * 48 else ("b" if n % 4 == 0 else "a")
    words = "罕见的" if n % 21 == 0 else ""
    return {
        "title": f"第{n}号{words}食品检查",
        "content": "检查过期食品。",
        "kind": kind,
        "region": ["350000"],
        "date": (dt.date(2025, 1, 1) + dt.timedelta(days=n % 365)).isoformat(),
    }


@pytest.fixture
def many(engine):
    engine.write(CONTRACT, [Document(f"m{n:04d}", 1, many_body(n)) for n in range(MANY)])
    engine.refresh(CONTRACT)
    return engine


def truth(text: str = "", **filters) -> tuple[int, dict[str, int]]:
    """The exact total and kind counts, from the bodies themselves."""
    bodies = [many_body(n) for n in range(MANY)]
    hits = [b for b in bodies if text in b["title"] + b["content"] and all(b[f] in v for f, v in filters.items())]
    kinds: dict[str, int] = {}
    for body in hits:
        kinds[body["kind"]] = kinds.get(body["kind"], 0) + 1
    return len(hits), kinds


def test_above_exact_up_to_the_total_and_facets_are_estimates_from_a_sample(many):
    result = many.search(CONTRACT, SearchQuery(text="食品", facets=("kind",), exact_up_to=100))
    total, kinds = truth("食品")
    assert not result.total_exact and not result.facets_exact
    assert result.total > 100
    assert total / 2 <= result.total <= total * 2  # a 16th of 640 is about 40 documents: a rough estimate
    assert result.facets["kind"]["a"] > result.facets["kind"].get("b", 0)
    assert set(result.facets["kind"]) <= set(kinds)
    assert len(result.hits) == 20  # the page itself is never estimated


def test_within_exact_up_to_everything_is_exact_however_large_the_index(many):
    result = many.search(CONTRACT, SearchQuery(text="罕见", facets=("kind",), exact_up_to=100))
    total, kinds = truth("罕见")
    assert (result.total, result.facets["kind"]) == (total, kinds)
    assert result.total_exact and result.facets_exact


def test_a_filter_that_narrows_the_hits_within_exact_up_to_counts_them_exactly(many):
    """The facets count every kind (their own filter aside), more than exact_up_to: estimates. The hits of
    kind c are fewer: their total is exact."""
    result = many.search(CONTRACT, SearchQuery(text="食品", filters={"kind": ["c"]}, facets=("kind",), exact_up_to=100))
    assert (result.total, result.total_exact) == (truth("食品", kind={"c"})[0], True)
    assert not result.facets_exact
    assert {hit.id for hit in result.hits} <= {f"m{n:04d}" for n in range(MANY) if many_body(n)["kind"] == "c"}


def test_a_faceted_field_s_filter_within_exact_up_to_leaves_its_facet_exact(many):
    """The facet counts every kind of 罕见 (its own filter aside), within exact_up_to: exact, as are the hits."""
    result = many.search(CONTRACT, SearchQuery(text="罕见", filters={"kind": ["a"]}, facets=("kind",), exact_up_to=100))
    assert (result.total, result.facets["kind"]) == (truth("罕见", kind={"a"})[0], truth("罕见")[1])
    assert result.total_exact and result.facets_exact


@pytest.mark.parametrize("filters", [{}, {"kind": ["a"]}])
def test_exact_up_to_is_exact_at_the_limit_and_never_wrongly_exact_above(many, filters):
    """With exact_up_to at the number of 罕见's matches they are counted, facets too. Below it, a count said to be
    exact is right (an engine may know one at no cost), and one that stopped short of the matches is an estimate."""
    total, kinds = truth("罕见")
    hits = truth("罕见", **{field: set(values) for field, values in filters.items()})[0]
    at = many.search(CONTRACT, SearchQuery(text="罕见", filters=filters, facets=("kind",), exact_up_to=total))
    assert (at.total, at.facets["kind"]) == (hits, kinds) and at.total_exact and at.facets_exact
    for limit in (total - 1, total - 2, total // 2):
        below = many.search(CONTRACT, SearchQuery(text="罕见", filters=filters, facets=("kind",), exact_up_to=limit))
        assert not below.facets_exact or below.facets["kind"] == kinds
        assert not below.total_exact or below.total == hits
        assert below.total_exact or below.total > limit
    assert not below.facets_exact


@pytest.mark.parametrize("engine", ["elasticsearch"], indirect=True)  # round trips: the embedded engine has none
def test_elasticsearch_counts_within_exact_up_to_in_one_round_trip(many, monkeypatch):
    """The facets' exact counts come with the count of what they count, not from a second request."""
    requests = []
    msearch = many.client.msearch
    monkeypatch.setattr(many.client, "msearch", lambda **kw: requests.append(kw) or msearch(**kw))
    for filters in ({}, {"kind": ["a"]}):
        result = many.search(CONTRACT, SearchQuery(text="罕见", filters=filters, facets=("kind",), exact_up_to=100))
        assert result.facets_exact and result.facets["kind"] == truth("罕见")[1]
    assert len(requests) == 2


def test_exact_up_to_none_counts_everything(many):
    result = many.search(CONTRACT, SearchQuery(text="食品", facets=("kind",), exact_up_to=None))
    assert (result.total, result.facets["kind"]) == truth("食品")
    assert result.total_exact and result.facets_exact


@pytest.mark.parametrize(
    "query",
    [
        {"text": "食品", "sort": "date"},
        {"text": "食品", "page": 3},
        {"date_from": dt.date(2025, 3, 1), "date_to": dt.date(2025, 9, 1), "sort": "date", "page": 2},
        {"filters": {"kind": ["b"]}, "sort": "date"},
    ],
)
def test_estimating_the_counts_leaves_the_hits_as_they_are(many, query):
    estimated = many.search(CONTRACT, SearchQuery(**query, facets=("kind",), exact_up_to=50))
    exact = many.search(CONTRACT, SearchQuery(**query, facets=("kind",), exact_up_to=None))
    assert [hit.id for hit in estimated.hits] == [hit.id for hit in exact.hits]
    assert exact.total_exact
    if estimated.total_exact:  # an engine may know some counts exactly at no cost (the embedded engine, no text)
        assert estimated.total == exact.total
    else:
        assert estimated.total > 50


def filtered_by_date(kinds: list[str], date_from: dt.date, date_to: dt.date) -> dict[str, str]:
    """The ``many`` documents of ``kinds`` dated within the range: id -> date."""
    bodies = {f"m{n:04d}": many_body(n) for n in range(MANY)}
    return {
        doc_id: body["date"]
        for doc_id, body in bodies.items()
        if body["kind"] in kinds and date_from.isoformat() <= body["date"] <= date_to.isoformat()
    }


def every_page(engine, **query) -> list[str]:
    found: list[str] = []
    for page in itertools.count(1):
        hits = ids(engine, page=page, **query)
        if not hits:
            return found
        found += hits


@pytest.mark.parametrize("kinds", [["c"], ["a", "b"], ["a", "b", "c"]])
def test_pages_without_text_hold_each_filtered_document_once_newest_first(many, kinds):
    date_from, date_to = dt.date(2025, 2, 1), dt.date(2025, 11, 30)
    expected = filtered_by_date(kinds, date_from, date_to)
    query = {"filters": {"kind": kinds}, "date_from": date_from, "date_to": date_to, "sort": "date", "page_size": 25}
    result = many.search(CONTRACT, SearchQuery(**query, facets=("kind",)))
    assert (result.total, result.total_exact) == (len(expected), True)
    found = every_page(many, **query)
    assert sorted(found) == sorted(expected)
    dates = [expected[doc_id] for doc_id in found]
    assert dates == sorted(dates, reverse=True)

"""The embedded engine's own storage: an index written in an earlier layout is upgraded in place; the two ways
it reads a page without text give the same pages; a rebuild killed midway blocks neither the next rebuild nor
leaves its half-built index taking writes once the engine starts again."""

from __future__ import annotations

import collections
import datetime as dt
import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from search_index import embedded
from search_index.embedded import EmbeddedEngine
from search_index.interfaces import Document, SearchQuery, SearchUnavailable
from tests.contract.test_search_contract import CONTRACT, DOCS, MANY, every_page, filtered_by_date, many_body


def _earlier_layout(path: str, alias: str) -> None:
    """What the engine wrote before keys and combos: docs with sort_date, unigram FTS, a terms table."""
    physical = f"{alias}_v1_1"
    conn = sqlite3.connect(path)
    conn.executescript(
        f"""
        CREATE TABLE aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL);
        INSERT INTO aliases VALUES ('{alias}', '{physical}');
        CREATE TABLE "{physical}_docs" (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
            version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, sort_date TEXT, body TEXT);
        CREATE VIRTUAL TABLE "{physical}_fts" USING fts5(title, content);
        CREATE TABLE "{physical}_terms" (field TEXT NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL,
            PRIMARY KEY (field, value, rid)) WITHOUT ROWID;
        """
    )
    for rid, (doc_id, body) in enumerate(DOCS.items(), start=1):
        conn.execute(
            f'INSERT INTO "{physical}_docs" VALUES (?, ?, 3, 0, ?, ?)',
            (rid, doc_id, body["date"], json.dumps(body, ensure_ascii=False)),
        )
    conn.execute(f'INSERT INTO "{physical}_docs" (id, version, deleted) VALUES (?, 7, 1)', ("gone",))
    conn.commit()
    conn.close()


def test_an_index_of_the_earlier_layout_is_upgraded_with_its_documents_and_tombstones(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    engine = EmbeddedEngine(path, prefix="u")
    _earlier_layout(path, engine.alias(CONTRACT))

    engine.ensure_index(CONTRACT)

    assert engine.count(CONTRACT) == 4
    result = engine.search(CONTRACT, SearchQuery(text="行政处罚", facets=("kind",)))
    assert [hit.id for hit in result.hits] == ["penalty", "body_only"]
    assert result.facets["kind"] == {"penalty": 1, "statistics": 1}
    # Versions and tombstones came along: a late write is still refused.
    assert engine.write(CONTRACT, [Document("penalty", 2, DOCS["penalty"])]).stale == 1
    assert engine.write(CONTRACT, [Document("gone", 6, DOCS["penalty"])]).stale == 1
    engine.ensure_index(CONTRACT)  # nothing left to upgrade
    assert engine.count(CONTRACT) == 4
    engine.close()


def _indices(path: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        conn.close()


def test_ensuring_an_index_adds_the_lookups_it_was_built_without(tmp_path):
    path = str(tmp_path / "ix.sqlite3")
    engine = EmbeddedEngine(path, prefix="k")
    engine.ensure_index(CONTRACT)
    engine.write(CONTRACT, [Document(doc_id, 1, body) for doc_id, body in DOCS.items()])
    physical = engine._read_target(engine._connect(), CONTRACT)
    engine._connect().execute(f'DROP INDEX "{physical}_docs_combo"')  # as built before it existed
    # Searched before a start adds it: the page is walked by date instead.
    result = engine.search(CONTRACT, SearchQuery(filters={"kind": ["penalty"]}, sort="date"))
    assert [hit.id for hit in result.hits] == ["penalty"]

    engine.ensure_index(CONTRACT)

    assert f"{physical}_docs_combo" in _indices(path)
    result = engine.search(CONTRACT, SearchQuery(filters={"kind": ["penalty"]}, sort="date"))
    assert [hit.id for hit in result.hits] == ["penalty"]
    engine.close()


@pytest.mark.parametrize("kinds", [["c"], ["a", "b"]])
def test_a_page_without_text_is_the_same_read_by_combo_or_walked_by_date(tmp_path, monkeypatch, kinds):
    """Up to _SORT_UP_TO documents passing the filters are read by combo and sorted; more are walked newest
    first. Both give every page alike."""
    engine = EmbeddedEngine(str(tmp_path / "p.sqlite3"), prefix="p")
    engine.ensure_index(CONTRACT)
    engine.write(CONTRACT, [Document(f"m{n:04d}", 1, many_body(n)) for n in range(MANY)])
    date_from, date_to = dt.date(2025, 2, 1), dt.date(2025, 11, 30)
    query = {"filters": {"kind": kinds}, "date_from": date_from, "date_to": date_to, "sort": "date", "page_size": 7}
    by_combo = every_page(engine, **query)
    monkeypatch.setattr(embedded, "_SORT_UP_TO", 0)
    walked = every_page(engine, **query)
    assert by_combo == walked
    assert sorted(walked) == sorted(filtered_by_date(kinds, date_from, date_to))
    engine.close()


KILLED_REBUILD = """
import sys, time
from search_index.embedded import EmbeddedEngine
from search_index.interfaces import Document
from tests.contract.test_search_contract import CONTRACT, DOCS

engine = EmbeddedEngine(sys.argv[1], prefix="k")
engine.ensure_index(CONTRACT)

def documents():
    for n in range(5000):
        yield Document(f"d{n}", 1, DOCS["penalty"])
        if n == 4500:  # two batches handed to the writer: then wait to be killed
            print("building", flush=True)
            time.sleep(120)

engine.reindex(CONTRACT, documents())
"""


def test_a_rebuild_killed_midway_blocks_nothing_once_it_is_gone(tmp_path):
    path = str(tmp_path / "k.sqlite3")
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen([sys.executable, "-c", KILLED_REBUILD, path], cwd=root, stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == b"building"
        engine = EmbeddedEngine(path, prefix="k")
        with pytest.raises(SearchUnavailable, match="already running"):
            engine.reindex(CONTRACT, iter(()))
        engine.ensure_index(CONTRACT)  # a start while it runs leaves it alone
        building = engine.alias(CONTRACT) + "__building"
        assert engine._target(engine._connect(), building) is not None
    finally:
        child.kill()
        child.wait()

    left = engine._target(engine._connect(), building)
    assert left is not None  # killed: nothing took its index down
    engine.ensure_index(CONTRACT)  # the next start does
    assert engine._target(engine._connect(), building) is None
    assert not [name for name in _tables(path) if name.startswith(left)]
    engine.write(CONTRACT, [Document("apart", 1, DOCS["apart"])])
    engine.reindex(CONTRACT, iter([Document("license", 1, DOCS["license"])]))
    assert engine.count(CONTRACT) == 1
    engine.close()


def _tables(path: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        conn.close()


def test_a_rebuild_loads_with_its_own_fts_settings_and_leaves_the_live_ones(tmp_path):
    engine = EmbeddedEngine(str(tmp_path / "f.sqlite3"), prefix="f")
    engine.ensure_index(CONTRACT)
    seen = {}

    def documents():
        conn = engine._connect()
        physical = engine._target(conn, engine.alias(CONTRACT) + "__building")
        seen["loading"] = dict(conn.execute(f'SELECT k, v FROM "{physical}_fts_config"').fetchall())
        yield Document("license", 1, DOCS["license"])

    physical = engine.reindex(CONTRACT, documents())
    after = dict(engine._connect().execute(f'SELECT k, v FROM "{physical}_fts_config"').fetchall())
    assert {k: seen["loading"][k] for k in embedded._BULK_FTS} == embedded._BULK_FTS
    assert {k: after[k] for k in embedded._LIVE_FTS} == embedded._LIVE_FTS
    engine.close()


def test_a_rebuild_whose_lock_cannot_be_made_is_unavailable_not_an_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    engine = EmbeddedEngine(str(tmp_path / "a-file" / "x.sqlite3"), prefix="x")  # its folder is a file
    with pytest.raises(SearchUnavailable, match="embedded search"):
        engine.reindex(CONTRACT, iter(()))


def test_filters_no_combo_holds_together_match_nothing_without_walking_the_text(tmp_path):
    """More text matches than are counted exactly, and faceted filters that no document holds together: none
    matches, exactly, and the text's matches are not walked again to find that out."""
    engine = EmbeddedEngine(str(tmp_path / "n.sqlite3"), prefix="n")
    engine.ensure_index(CONTRACT)
    engine.write(CONTRACT, [Document(f"m{n:04d}", 1, many_body(n)) for n in range(MANY)])
    statements: list[str] = []
    engine._connect().set_trace_callback(statements.append)
    query = SearchQuery(
        text="食品", filters={"kind": ["c"], "region": ["350100"]}, facets=("kind", "region"), exact_up_to=10
    )
    result = engine.search(CONTRACT, query)
    assert (result.total, result.total_exact, result.hits) == (0, True, [])
    assert statements and not [sql for sql in statements if "json_each('[]')" in sql]
    engine.close()


def _many(tmp_path, name: str) -> EmbeddedEngine:
    engine = EmbeddedEngine(str(tmp_path / f"{name}.sqlite3"), prefix=name)
    engine.ensure_index(CONTRACT)
    engine.write(CONTRACT, [Document(f"m{n:04d}", 1, many_body(n)) for n in range(MANY)])
    return engine


FILTERED = [
    {"text": "食品", "filters": {"kind": ["c"]}},
    {"text": "食品", "filters": {"kind": ["b", "c"]}, "sort": "date"},
    {"text": "罕见", "filters": {"kind": ["b"]}, "page": 2, "page_size": 3},
    {"text": "食品 检查", "filters": {"kind": ["c"], "region": ["350000"]}, "exact_up_to": 10},
    {"text": "过期食品", "filters": {"kind": ["c"]}, "date_from": dt.date(2025, 3, 1), "exact_up_to": 5},
    {"text": "食品", "filters": {"kind": ["a"]}, "page": 4, "page_size": 40},
]


@pytest.mark.parametrize("asked", FILTERED)
def test_selective_filters_joining_the_text_match_change_no_result(tmp_path, monkeypatch, asked):
    """A filter few documents pass joins the text's FTS match as keys-column terms; the same query with every
    filter checked on each match's combo instead gives the same hits, totals and facets."""
    engine = _many(tmp_path, "s")
    query = SearchQuery(**asked, facets=("kind", "region"))
    statements: list[str] = []
    engine._connect().set_trace_callback(statements.append)
    monkeypatch.setattr(embedded, "_SELECTIVE", 1.0)  # every filter joins the match
    joined = engine.search(CONTRACT, query)
    assert [sql for sql in statements if "MATCH" in sql and '"k_0_' in sql]  # the kind filter did
    monkeypatch.setattr(embedded, "_SELECTIVE", -1.0)  # none does
    engine._sizes.clear()
    statements.clear()
    checked = engine.search(CONTRACT, query)
    assert not [sql for sql in statements if '"k_' in sql]
    assert joined.hits and [h.id for h in joined.hits] == [h.id for h in checked.hits]
    assert (joined.total, joined.total_exact, joined.facets) == (checked.total, checked.total_exact, checked.facets)
    engine.close()


def test_only_filters_few_documents_pass_join_the_text_match(tmp_path):
    """kind c: 48 of 640 documents; kind a: 3 in 4 of them, which is checked on each match's combo."""
    engine = _many(tmp_path, "f")
    statements: list[str] = []
    engine._connect().set_trace_callback(statements.append)
    engine.search(CONTRACT, SearchQuery(text="食品", filters={"kind": ["c"]}, facets=("kind",)))
    assert [sql for sql in statements if '"k_0_63"' in sql]  # c in hex
    statements.clear()
    engine.search(CONTRACT, SearchQuery(text="食品", filters={"kind": ["a"]}, facets=("kind",)))
    assert statements and not [sql for sql in statements if '"k_' in sql]
    engine.close()


def test_text_never_matches_the_keyword_values_or_title_tier_tokens(tmp_path):
    """A keyword value's token holds two "_" and a title tier's token starts with "t__", which neither a text
    token nor a token pair does: text spelled like one finds nothing."""
    engine = _many(tmp_path, "t")
    for text in ("k 0 63", '"k 0 63"', "k_0_63", "k0_63", "t 第", "t__第"):
        assert engine.search(CONTRACT, SearchQuery(text=text)).total == 0, text
    engine.close()


def test_an_index_without_the_keyword_values_column_is_upgraded(tmp_path):
    engine = _many(tmp_path, "o")
    conn = engine._connect()
    physical = engine._read_target(conn, CONTRACT)
    for table in ("_fts", "_sample"):  # as the layout before it was
        conn.execute(f'DROP TABLE "{physical}{table}"')
        columns = "title, title__pairs, content, content__pairs"
        conn.execute(f"CREATE VIRTUAL TABLE \"{physical}{table}\" USING fts5({columns}, content = '', columnsize = 0)")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    query = SearchQuery(text="食品", filters={"kind": ["c"]}, facets=("kind",))
    engine.search(CONTRACT, query)  # before the upgrade: the filter is checked on each match's combo
    assert statements and not [sql for sql in statements if '"k_' in sql]
    conn.set_trace_callback(None)

    engine.ensure_index(CONTRACT)

    assert engine._read_target(conn, CONTRACT) != physical
    assert engine.count(CONTRACT) == MANY
    result = engine.search(CONTRACT, query)
    kinds = collections.Counter(many_body(n)["kind"] for n in range(MANY))
    assert result.total == kinds["c"] and result.facets["kind"] == dict(kinds)
    engine.close()


def test_matches_the_sample_shows_far_beyond_the_limit_are_not_walked_to_count_them(tmp_path):
    """The sample is counted first. When it holds more matches than the limit's could put there (``_beyond``),
    the total is estimated without walking the first ``limit`` matches; when it does not, they are counted, and a
    total within the limit is exact."""
    engine = _many(tmp_path, "w")
    in_sample = sum(1 for n in range(MANY) if embedded.sampled(f"m{n:04d}"))
    assert in_sample >= embedded._beyond(10)  # what the first search below relies on
    statements: list[str] = []
    engine._connect().set_trace_callback(statements.append)

    far = engine.search(CONTRACT, SearchQuery(text="食品", exact_up_to=10))  # every document matches

    walked = [sql for sql in statements if '_fts" MATCH' in sql and "GROUP BY" in sql]
    assert not walked and (far.total_exact, far.total) == (False, in_sample * embedded.SAMPLE_EVERY)
    statements.clear()
    rare = engine.search(CONTRACT, SearchQuery(text="罕见", exact_up_to=MANY))  # 31 match: within the limit
    assert [sql for sql in statements if '_fts" MATCH' in sql and "GROUP BY" in sql]
    assert (rare.total_exact, rare.total) == (True, sum(1 for n in range(MANY) if n % 21 == 0))
    engine.close()


def test_hits_the_sample_shows_beyond_the_limit_are_not_walked_either(tmp_path):
    """A faceted field's own filter leaves the facets counting more than the hits. When the facets' count is an
    estimate, the hits are walked to count them exactly, unless the sample's share of them is already more than
    the limit's could be."""
    engine = _many(tmp_path, "h")
    kinds = collections.Counter(many_body(n)["kind"] for n in range(MANY) if embedded.sampled(f"m{n:04d}"))
    assert kinds["a"] >= embedded._beyond(1) and sum(kinds.values()) < embedded._beyond(100)  # relied on below
    statements: list[str] = []
    engine._connect().set_trace_callback(statements.append)

    def walked() -> list[str]:
        return [sql for sql in statements if '_fts" MATCH' in sql and "GROUP BY" in sql]

    wide = engine.search(CONTRACT, SearchQuery(text="食品", filters={"kind": ["a"]}, facets=("kind",), exact_up_to=1))
    assert not walked() and (wide.total_exact, wide.total) == (False, kinds["a"] * embedded.SAMPLE_EVERY)
    statements.clear()
    few = SearchQuery(text="食品", filters={"kind": ["c"]}, facets=("kind",), exact_up_to=100)
    narrow = engine.search(CONTRACT, few)  # the facets count 640, estimated after a walk; the hits 48, exactly
    assert len(walked()) == 2 and (narrow.total_exact, narrow.facets_exact, narrow.total) == (True, False, 48)
    engine.close()


@pytest.mark.parametrize("limit", [1, 10, 100, 1_000, 10_000, 100_000])
def test_the_sample_bound_leaves_a_count_within_the_limit_unwalked_only_by_a_chance_below_unsure(limit):
    """``_beyond``'s bound, checked against the binomial tail itself: ``limit`` matches, each in the sample with
    chance 1 / SAMPLE_EVERY, reach it with a chance below _UNSURE; yet it is not far above what they put there
    on average (within 40 % above it from a limit of 10,000), or counts would be walked for nothing."""
    bound = embedded._beyond(limit)
    p = 1 / embedded.SAMPLE_EVERY
    mean = limit * p

    def log_chance(k: int) -> float:  # of exactly k of the limit's matches in the sample
        ways = math.lgamma(limit + 1) - math.lgamma(k + 1) - math.lgamma(limit - k + 1)
        return ways + k * math.log(p) + (limit - k) * math.log1p(-p)

    tail = sum(math.exp(log_chance(k)) for k in range(math.ceil(bound), limit + 1))
    assert tail < embedded._UNSURE
    if limit >= 10_000:
        assert bound < 1.4 * mean

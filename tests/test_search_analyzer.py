"""ELASTICSEARCH_TEXT_ANALYZER is checked against the cluster: an analyzer it lacks (the test Elasticsearch has no
smartcn plugin) creates no index, and says what to do; the standard analyzer, every distribution's, goes on."""

from __future__ import annotations

import uuid

import pytest

from search_index import make_engine
from search_index.elastic import AnalyzerMissing
from search_index.mappings import DEFINITIONS
from tests.support.services import require

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def engine_with(app):
    """An Elasticsearch engine on its own index prefix with the analyzer given; its indices dropped after."""
    url = require("ELASTICSEARCH_URL", "Elasticsearch")
    made = []

    def make(analyzer: str):
        config = {**app.config, "ELASTICSEARCH_URL": url, "ELASTICSEARCH_TEXT_ANALYZER": analyzer}
        made.append(make_engine({**config, "SEARCH_INDEX_PREFIX": f"an{uuid.uuid4().hex[:10]}"}))
        return made[-1]

    yield make
    cleaner = make_engine({**app.config, "ELASTICSEARCH_URL": url, "ELASTICSEARCH_TEXT_ANALYZER": "standard"})
    for engine in made:
        cleaner.prefix = engine.prefix
        for definition in DEFINITIONS.values():
            cleaner.drop(definition)


def prefixed_indices(engine) -> list[str]:
    return sorted(engine.client.indices.get(index=f"{engine.prefix}-*", allow_no_indices=True))


def test_a_missing_analyzer_creates_no_index_and_names_the_setting_and_the_fix(engine_with):
    engine = engine_with("smartcn")
    definition = DEFINITIONS["disclosures"]
    with pytest.raises(AnalyzerMissing) as refused:
        engine.ensure_index(definition)
    message = str(refused.value)
    assert "'smartcn'" in message and "ELASTICSEARCH_TEXT_ANALYZER" in message
    assert "analysis-smartcn" in message and "ELASTICSEARCH_TEXT_ANALYZER=standard" in message
    with pytest.raises(AnalyzerMissing):
        engine.reindex(definition, [])
    assert prefixed_indices(engine) == []


def test_the_standard_analyzer_creates_the_indices(engine_with):
    engine = engine_with("standard")
    for definition in DEFINITIONS.values():
        engine.ensure_index(definition)
    assert len(prefixed_indices(engine)) == len(DEFINITIONS)
    assert engine.health()["engine"] == "elasticsearch"


@pytest.fixture
def app_engine(app, engine_with):
    """Put an engine with the analyzer given in the app for one test."""
    previous = app.extensions["search"]

    def use(analyzer: str):
        app.extensions["search"] = engine_with(analyzer)
        return app.extensions["search"]

    yield use
    app.extensions["search"] = previous


def test_search_init_refuses_with_the_message(app_engine, runner):
    engine = app_engine("smartcn")
    result = runner.invoke(args=["search", "init"])
    assert result.exit_code == 1
    assert "Error: Elasticsearch has no analyzer 'smartcn' (ELASTICSEARCH_TEXT_ANALYZER)" in result.output
    assert prefixed_indices(engine) == []


def test_search_init_goes_on_with_the_standard_analyzer(app_engine, runner):
    engine = app_engine("standard")
    result = runner.invoke(args=["search", "init"])
    assert result.exit_code == 0, result.output
    assert "indices ready on elasticsearch" in result.output
    assert len(prefixed_indices(engine)) >= len(DEFINITIONS)


def test_readyz_says_the_analyzer_is_missing(app_engine, client):
    app_engine("smartcn")
    response = client.get("/readyz")
    assert response.status_code == 200  # search is shared: the instance still answers everything else
    body = response.get_json()
    assert body["status"] == "degraded"
    assert "has no analyzer 'smartcn'" in body["errors"]["search"][0]

"""The Elasticsearch engine, through the official client.

Each definition becomes a physical index ``<prefix>-<name>-v<version>-<ns>`` read and written
through the alias ``<prefix>-<name>``. During a rebuild a second alias
``<prefix>-<name>-building`` points at the new index, and writes go to both. A small index
``<prefix>-<name>-sources`` holds one document per physical index (its id): the database it projects
and the last change sequence it has seen; and, while a rebuild runs, its lock.

Text is indexed and queried with its traditional characters folded to simplified
(``analysis.simplified``), here rather than in an analyzer: the distribution on Maven Central has no
analysis module, so no mapping char filter. A highlighted field that folding changed is kept as published
under ``published`` in ``_source``; highlights are drawn from the text as published by ``analysis.highlight``,
as the embedded engine does.

Text fields are mapped with ``index_phrases``: every two adjacent tokens are indexed as one term too, so a
phrase reads those postings instead of intersecting each token's positions. On an index larger than
``SearchQuery.exact_up_to`` documents a search is one ``_msearch``: the page (counting nothing), an unscored
count of the matches up to that many, and a ``random_sampler`` aggregation estimating the facets and the total
beyond it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, BadRequestError, ConflictError, Elasticsearch, NotFoundError, helpers

from . import analysis
from .interfaces import (
    Deletion,
    Document,
    Hit,
    IndexDefinition,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    SourceState,
    WriteReport,
)

_ERRORS = (TransportError, ApiError, helpers.BulkIndexError)
_BUILDING = "-building"
BULK_TIMEOUT = 30.0  # seconds: the indexer's writes, off the request path
REBUILD_TIMEOUT = 60.0  # seconds: a rebuild's batches
# A rebuild's lock outlives a process that died holding it by this much, then another may take it.
REBUILD_LOCK = dt.timedelta(hours=1)
_LOCK_ID = "rebuild-lock"  # never a physical index's name
_RECORD_ATTEMPTS = 5
_VALUES = "values"  # a facet's terms agg, under the filter agg of the other chosen facets
_SAMPLE = "sample"  # the random_sampler aggregation
_MATCHES = "_matches"  # under it: the sampled hits (never a keyword field's name: those have no leading _)
# Above SearchQuery.exact_up_to matches, counts come from a random sample of this share of the index, at most
# SAMPLE_DOCUMENTS documents' worth (a smaller share of a larger index): 1 in 16 at a million documents, which
# estimates a count of 10,000 to about 4 % and walks a 16th of the matches. random_sampler wants a share below 0.5.
SAMPLE_SHARE = 1 / 16
SAMPLE_DOCUMENTS = 62_500
SAMPLE_SEED = 20260
SIZE_SECONDS = 60.0  # how long the index's document count is taken as known
_PUBLISHED = "published"  # in _source (not indexed): highlighted fields that folding changed, as published
# Text the analyzer check analyzes: any Chinese will do, the check is whether the cluster knows the analyzer.
_ANALYZER_PROBE = "行政执法公示"


class AnalyzerMissing(SearchUnavailable):
    """The configured analyzer is not in the cluster (its plugin not installed): no index is created with it."""


class ElasticsearchEngine:
    name = "elasticsearch"
    # The client is thread-safe and the cluster indexes concurrent bulk requests in parallel.
    concurrent_writes = True

    def __init__(
        self, url: str, prefix: str, analyzer: str = "standard", replicas: int = 0, timeout: float = 5.0
    ) -> None:
        self.url = url
        self.prefix = prefix.lower()
        self.analyzer = analyzer
        self._analyzer_found = False
        self.replicas = replicas
        self._sizes: dict[str, tuple[float, int]] = {}  # definition -> (when, documents): see _size
        # Several comma-separated nodes: the client spreads requests over them and sets a node that fails aside
        # for a while. One retry (on another node): a request path should fail fast and let the outbox try again.
        nodes = [node.strip() for node in url.split(",")]
        self.client = Elasticsearch(nodes, request_timeout=timeout, max_retries=1, retry_on_timeout=False)
        # Bulk writes come from the indexer, off the request path: a busy cluster gets longer to answer
        # a batch before the batch is handed back to the outbox and tried again.
        self._bulk_client = self.client.options(request_timeout=max(timeout, BULK_TIMEOUT))

    def alias(self, definition: IndexDefinition) -> str:
        return f"{self.prefix}-{definition.name}"

    def mapping(self, definition: IndexDefinition) -> dict[str, Any]:
        # index_phrases also indexes every two adjacent tokens as one term (a field of its own, in every
        # distribution, with any analyzer): a phrase query reads those instead of each token's positions.
        text = {"type": "text", "analyzer": self.analyzer, "index_phrases": True}
        properties: dict[str, Any] = {field: dict(text) for field in definition.text_fields}
        properties.update({field: {"type": "keyword"} for field in definition.keyword_fields})
        if definition.date_field:
            properties[definition.date_field] = {"type": "date", "format": "strict_date_optional_time||yyyy-MM-dd"}
        # dynamic: false keeps display-only fields in _source without indexing them.
        return {"dynamic": False, "_meta": {"version": definition.version}, "properties": properties}

    def check_analyzer(self) -> None:
        """AnalyzerMissing, naming the setting and the fix, when the cluster does not know the configured analyzer
        (without this check each index creation fails with a mapping error naming neither). Once found it is
        not asked again: an analyzer comes with a plugin, which only a restart of the node adds or removes."""
        if self._analyzer_found:
            return
        try:
            self.client.indices.analyze(analyzer=self.analyzer, text=_ANALYZER_PROBE)
        except BadRequestError as exc:
            raise AnalyzerMissing(
                f"Elasticsearch has no analyzer {self.analyzer!r} (ELASTICSEARCH_TEXT_ANALYZER): install its plugin "
                "on every node (smartcn: bin/elasticsearch-plugin install analysis-smartcn, as "
                "deploy/elasticsearch/Dockerfile does) or set ELASTICSEARCH_TEXT_ANALYZER=standard; "
                "no index is created until then"
            ) from exc
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc
        self._analyzer_found = True

    def _create_physical(self, definition: IndexDefinition, *, bulk_load: bool, aliases: dict[str, Any]) -> str:
        physical = f"{self.alias(definition)}-v{definition.version}-{time.time_ns()}"
        settings: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0 if bulk_load else self.replicas}
        if bulk_load:
            settings["refresh_interval"] = "-1"
        self.client.indices.create(
            index=physical, settings=settings, mappings=self.mapping(definition), aliases=aliases
        )
        return physical

    def _sources(self, definition: IndexDefinition) -> str:
        return f"{self.alias(definition)}-sources"

    def _ensure_sources(self, definition: IndexDefinition) -> None:
        if self.client.indices.exists(index=self._sources(definition)):
            return
        # Two processes may create it at once: "already exists" (400) is success.
        self.client.options(ignore_status=400).indices.create(
            index=self._sources(definition),
            settings={"number_of_shards": 1, "number_of_replicas": self.replicas},
            mappings={"dynamic": False, "properties": {"database": {"type": "keyword"}, "sequence": {"type": "long"}}},
        )

    def _physical(self, definition: IndexDefinition) -> dict[str, str]:
        """alias -> physical index, for the live alias and the one being rebuilt."""
        found = self.client.indices.get_alias(index=f"{self.alias(definition)}-v*", allow_no_indices=True)
        return {alias: physical for physical, body in found.items() for alias in body.get("aliases", {})}

    def record_source(self, definition: IndexDefinition, source: SourceState) -> None:
        alias = self.alias(definition)
        try:
            physical = self._physical(definition)
            if alias not in physical:
                raise SearchUnavailable(f"index {definition.name!r} does not exist")
            self._ensure_sources(definition)
            for name in (alias, alias + _BUILDING):
                if name in physical:
                    self._record(definition, physical[name], source)
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc

    def _record(self, definition: IndexDefinition, physical: str, source: SourceState) -> None:
        """Raise the sequence for the same database (concurrent indexers); another database replaces both.

        Read, then write only if nobody wrote in between (no script: distributions without painless)."""
        index = self._sources(definition)
        for _ in range(_RECORD_ATTEMPTS):
            try:
                held = self.client.get(index=index, id=physical)
            except NotFoundError:
                held = None
            mine = held is not None and held["_source"]["database"] == source.database
            if mine and held["_source"]["sequence"] >= source.sequence:
                return
            document = {"database": source.database, "sequence": source.sequence}
            try:
                if held is None:
                    self.client.create(index=index, id=physical, document=document)
                else:
                    self.client.index(
                        index=index,
                        id=physical,
                        document=document,
                        if_seq_no=held["_seq_no"],
                        if_primary_term=held["_primary_term"],
                    )
                return
            except ConflictError:
                continue
        raise SearchUnavailable(f"elasticsearch: the source of {physical} kept changing")

    def source(self, definition: IndexDefinition, building: bool = False) -> SourceState | None:
        try:
            physical = self._physical(definition).get(self.alias(definition) + (_BUILDING if building else ""))
            if physical is None:
                return None
            # A get by id is real time: no refresh needed to read what was just recorded.
            found = self.client.get(index=self._sources(definition), id=physical)
        except NotFoundError:
            return None
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc
        return SourceState(found["_source"]["database"], int(found["_source"]["sequence"]))

    def mapping_version(self, definition: IndexDefinition, building: bool = False) -> int | None:
        try:
            physical = self._physical(definition).get(self.alias(definition) + (_BUILDING if building else ""))
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc
        # <alias>-v<version>-<ns>, as _create_physical names it
        return int(physical.rsplit("-", 2)[1][1:]) if physical else None

    def _lock_rebuild(self, definition: IndexDefinition) -> None:
        """One rebuild per definition across processes: two would put two indices behind the building alias."""
        now = dt.datetime.now(dt.UTC)
        lock = {"until": (now + REBUILD_LOCK).isoformat()}
        try:
            self.client.create(index=self._sources(definition), id=_LOCK_ID, document=lock)
            return
        except ConflictError:
            held = self.client.get(index=self._sources(definition), id=_LOCK_ID)
        if dt.datetime.fromisoformat(held["_source"]["until"]) > now:
            raise SearchUnavailable(f"a rebuild of {definition.name!r} is already running")
        # Its holder died; take it over unless another process just did.
        try:
            self.client.index(
                index=self._sources(definition),
                id=_LOCK_ID,
                document=lock,
                if_seq_no=held["_seq_no"],
                if_primary_term=held["_primary_term"],
            )
        except ConflictError as exc:
            raise SearchUnavailable(f"a rebuild of {definition.name!r} is already running") from exc

    def ensure_index(self, definition: IndexDefinition) -> None:
        self.check_analyzer()
        try:
            if not self.client.indices.exists_alias(name=self.alias(definition)):
                self._create_physical(definition, bulk_load=False, aliases={self.alias(definition): {}})
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc

    def drop(self, definition: IndexDefinition) -> None:
        try:
            existing = self.client.indices.get(index=f"{self.alias(definition)}-v*", allow_no_indices=True)
            if existing:
                self.client.indices.delete(index=",".join(existing))
            self.client.indices.delete(index=self._sources(definition), ignore_unavailable=True)
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc

    # -- writes ------------------------------------------------------------------------
    def _actions(
        self, definition: IndexDefinition, index: str, changes: Iterable[Document | Deletion]
    ) -> Iterator[dict[str, Any]]:
        for change in changes:
            action: dict[str, Any] = {
                "_index": index,
                "_id": change.id,
                "version": change.version,
                "version_type": "external",
            }
            if isinstance(change, Deletion):
                action["_op_type"] = "delete"
            else:
                action["_op_type"] = "index"
                action["_source"] = _indexed(definition, change.body)
            yield action

    def _bulk(
        self,
        definition: IndexDefinition,
        index: str,
        changes: Iterable[Document | Deletion],
        timeout: float | None = None,
    ) -> WriteReport:
        applied = stale = 0
        failures = []
        client = self.client.options(request_timeout=timeout) if timeout else self._bulk_client
        for ok, item in helpers.streaming_bulk(
            client, self._actions(definition, index, changes), chunk_size=500, raise_on_error=False, max_retries=0
        ):
            ((op, result),) = item.items()
            status = result.get("status", 500)
            if ok or (op == "delete" and status == 404):
                applied += 1
            elif status == 409:
                stale += 1
            else:
                failures.append(result.get("error"))
        if failures:
            raise SearchUnavailable(f"elasticsearch rejected {len(failures)} writes, first: {failures[0]}")
        return WriteReport(applied=applied, stale=stale)

    def write(self, definition: IndexDefinition, changes: Iterable[Document | Deletion]) -> WriteReport:
        changes = list(changes)
        alias = self.alias(definition)
        try:
            report = self._bulk(definition, alias, changes)
            if self.client.indices.exists_alias(name=alias + _BUILDING):
                self._bulk(definition, alias + _BUILDING, changes)
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc
        return report

    def reindex(
        self, definition: IndexDefinition, documents: Iterable[Document], source: SourceState | None = None
    ) -> str:
        self.check_analyzer()
        try:
            self._ensure_sources(definition)
            self._lock_rebuild(definition)
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc
        try:
            return self._rebuild(definition, documents, source)
        finally:
            with contextlib.suppress(*_ERRORS):  # else the lock lapses after REBUILD_LOCK
                self.client.options(ignore_status=404).delete(index=self._sources(definition), id=_LOCK_ID)

    def _rebuild(self, definition: IndexDefinition, documents: Iterable[Document], source: SourceState | None) -> str:
        alias = self.alias(definition)
        try:
            if self.client.indices.exists_alias(name=alias + _BUILDING):
                # This process holds the rebuild lock, so what is still building was left by a rebuild that
                # died (killed, or its lock lapsed): dropped, or no rebuild could ever run again.
                dead = list(self.client.indices.get_alias(name=alias + _BUILDING))
                self.client.indices.delete(index=",".join(dead), ignore_unavailable=True)
                self._forget_sources(definition, dead)
            physical = self._create_physical(definition, bulk_load=True, aliases={alias + _BUILDING: {}})
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc
        try:
            if source is not None:
                self._record(definition, physical, source)
            # A rebuild is a tool's job, not a request: a busy node gets time for each batch.
            self._bulk(definition, physical, documents, timeout=REBUILD_TIMEOUT)
            self.client.indices.put_settings(
                index=physical, settings={"index": {"refresh_interval": None, "number_of_replicas": self.replicas}}
            )
            self.client.indices.refresh(index=physical)
            try:
                old = list(self.client.indices.get_alias(name=alias))
            except NotFoundError:
                old = []
            actions: list[dict[str, Any]] = [{"remove": {"index": index, "alias": alias}} for index in old]
            actions += [
                {"add": {"index": physical, "alias": alias}},
                {"remove": {"index": physical, "alias": alias + _BUILDING}},
            ]
            self.client.indices.update_aliases(actions=actions)
        except BaseException as exc:
            # Cleaning up must not replace the error that made the rebuild fail.
            with contextlib.suppress(*_ERRORS):
                self.client.indices.delete(index=physical, ignore_unavailable=True)
                self._forget_sources(definition, [physical])
            if isinstance(exc, _ERRORS):
                raise SearchUnavailable(f"elasticsearch: {exc}") from exc
            raise
        if old:  # the new index is live: an old one left behind costs space, not a failed rebuild
            with contextlib.suppress(*_ERRORS):
                self.client.indices.delete(index=",".join(old), ignore_unavailable=True)
                self._forget_sources(definition, old)
        return physical

    def _forget_sources(self, definition: IndexDefinition, physical: list[str]) -> None:
        for name in physical:
            self.client.options(ignore_status=404).delete(index=self._sources(definition), id=name)

    def refresh(self, definition: IndexDefinition) -> None:
        try:
            self.client.indices.refresh(index=self.alias(definition))
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc

    def count(self, definition: IndexDefinition) -> int:
        try:
            return int(self.client.count(index=self.alias(definition))["count"])
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc

    # -- reads -------------------------------------------------------------------------
    def search(self, definition: IndexDefinition, query: SearchQuery) -> SearchResult:
        """``took_ms`` is the server's time (``took``), summed over the round trips."""
        terms = analysis.query_terms(query.text)
        plan = _Plan(definition, query, terms)
        limit = query.exact_up_to
        try:
            size = self._size(definition) if limit is not None else 0
            if limit is None or size <= limit:
                # Few documents (or exact counts asked for): one request counts everything, as it always did.
                response = self.client.search(index=self.alias(definition), **plan.hits(exact=True, aggs=True))
                facets = _facets(response.get("aggregations", {}), query.facets)
                return _result(definition, terms, response, facets, took=float(response["took"]))
            return self._search_sampled(definition, plan, limit, size)
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc

    def _search_sampled(self, definition: IndexDefinition, plan: _Plan, limit: int, size: int) -> SearchResult:
        """A large index, in one round trip: the page, the matches counted up to ``limit`` apart from it, a uniform
        random sample of the matches (the ``random_sampler`` aggregation) for the facets and the total beyond it.
        What the facets count is counted with their aggregations, stopped after ``limit`` + 1 matches: when it
        stopped short of them, those are the facets' exact counts (they used to take a second round trip)."""
        probability = min(SAMPLE_SHARE, SAMPLE_DOCUMENTS / size)
        faceted = bool(plan.query.facets)
        # The page counts nothing: counting while scoring scores the first ``limit`` matches in full before Lucene
        # may skip any (行政处罚 食品 at a million items: 39 ms, against 23 for the page and 3 for the count apart).
        # Without a faceted field's filter, the hits are what the facets count: one count serves both.
        searches = [
            plan.hits(exact=False, aggs=False),
            plan.sample(probability),
            plan.counted(limit + 1, own=True, aggs=faceted and not plan.own),
        ]
        if faceted and plan.own:
            searches.append(plan.counted(limit + 1, aggs=True))  # the hits but for the facets' own filters
        responses, took = self._msearch(definition, searches)
        hits, sample = responses[0], responses[1]["aggregations"][_SAMPLE]
        matched, exact_total = _counted(responses[2])
        counted = responses[-1]
        facets, facets_exact = {}, True
        if faceted:
            if _counted(counted)[1]:
                facets = _facets(counted.get("aggregations", {}), plan.query.facets)
            else:
                facets, facets_exact = _facets(sample, plan.query.facets, estimate=True), False
        total = matched
        if not exact_total:
            total = max(limit + 1, analysis.approximate(sample[_MATCHES]["doc_count"]))
        return _result(
            definition, plan.terms, hits, facets, took=took, total=total, exact=exact_total, facets_exact=facets_exact
        )

    def _msearch(
        self, definition: IndexDefinition, searches: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], float]:
        """Several searches in one request, run side by side, and the server's time for them; a failed one fails
        the lot."""
        body: list[dict[str, Any]] = []
        for search in searches:
            # The shard request cache keeps a page too (by default only counts and aggregations): a query asked
            # again before the index next changes, as the commonest are, is answered from it.
            body += [{"request_cache": True}, search]
        answer = self.client.msearch(index=self.alias(definition), searches=body)
        failed = [r["error"] for r in answer["responses"] if "error" in r]
        if failed:
            raise SearchUnavailable(f"elasticsearch: {failed[0]}")
        return answer["responses"], float(answer["took"])

    def _size(self, definition: IndexDefinition) -> int:
        """How many documents the index holds, asked again after SIZE_SECONDS: it decides whether counts are
        sampled, which a few thousand documents either way do not change."""
        now = time.monotonic()
        known = self._sizes.get(definition.name)
        if known is None or now - known[0] > SIZE_SECONDS:
            known = (now, int(self.client.count(index=self.alias(definition))["count"]))
            self._sizes[definition.name] = known
        return known[1]

    def health(self) -> dict[str, Any]:
        try:
            health = self.client.options(request_timeout=2).cluster.health()
        except _ERRORS as exc:
            raise SearchUnavailable(f"elasticsearch: {exc}") from exc
        if health["status"] == "red":
            raise SearchUnavailable("elasticsearch cluster is red")
        self.check_analyzer()
        return {"engine": self.name, "status": health["status"], "cluster": health["cluster_name"]}


class _Plan:
    """The requests one search makes: phrase matches, filters, sort and page; facets exact or sampled."""

    def __init__(self, definition: IndexDefinition, query: SearchQuery, terms: list[str]) -> None:
        self.definition, self.query, self.terms = definition, query, terms
        fields = [f"{field}^{weight:g}" for field, weight in definition.text_fields.items()]
        # A phrase of two tokens or more is matched on the field's two-token shingles (index_phrases): 食品 is one
        # term's postings, 行政处罚 a phrase of three shingles, not four characters' positions intersected.
        must: list[dict[str, Any]] = [
            {"multi_match": {"query": analysis.simplified(term), "type": "phrase", "fields": fields}} for term in terms
        ] or [{"match_all": {}}]
        chosen = {
            field: {"terms": {field: [str(v) for v in values]}} for field, values in query.filters.items() if values
        }
        # A faceted field's filter narrows the hits after the aggregations (post_filter) and every other facet
        # (a filter agg), never its own facet: disjunctive facets.
        self.own = {field: clause for field, clause in chosen.items() if field in query.facets}
        filters: list[dict[str, Any]] = [clause for field, clause in chosen.items() if field not in self.own]
        if definition.date_field and (query.date_from or query.date_to):
            bounds = {}
            if query.date_from:
                bounds["gte"] = query.date_from.isoformat()
            if query.date_to:
                bounds["lte"] = query.date_to.isoformat()
            filters.append({"range": {definition.date_field: bounds}})
        # Relevance is the score alone, ties in index order: a second key (the date) would make Lucene score
        # every match, where by the score alone it skips the blocks that cannot reach the page (行政处罚 at a
        # million items: 63 ms with the date as tiebreak, 10 without).
        self.sort: list[Any] = ["_score"]
        if definition.date_field:
            by_date = {definition.date_field: {"order": "desc", "missing": "_last"}}
            if query.sort == "date" or not terms:
                # Newest first needs no score (and without text every match scores alike): the terms match in
                # filter context, nothing is scored.
                filters, must, self.sort = [c for c in must if "match_all" not in c] + filters, [], [by_date]
        self.match = {"bool": {"must": must, "filter": filters}}

    def hits(self, *, exact: bool | int, aggs: bool) -> dict[str, Any]:
        """The page; matches counted exactly (True) or up to a number; the facets too when ``aggs``."""
        body: dict[str, Any] = {
            "query": self.match,
            "from": (self.query.page - 1) * self.query.page_size,
            "size": self.query.page_size,
            "sort": self.sort,
            "track_total_hits": exact,
            # Only what the highlights are drawn from.
            "_source": [*self.definition.highlight_fields, f"{_PUBLISHED}.*"] if self.terms else False,
        }
        if self.own:
            body["post_filter"] = {"bool": {"filter": list(self.own.values())}}
        if aggs and self.query.facets:
            body["aggs"] = self._aggs()
        return body

    def counted(self, up_to: int, *, own: bool = False, aggs: bool = False) -> dict[str, Any]:
        """How many matches the facets count (every filter but the faceted fields' own), up to ``up_to``; ``own``:
        how many hits (the faceted fields' own filters too). Nothing is scored. ``aggs``: the facets too, and no
        match collected after the ``up_to``-th (``terminate_after``, per shard): counts that stopped short of it are
        exact (``_counted``), the others were thrown away anyway."""
        clauses = [self.match, *self.own.values()] if own else [self.match]
        body: dict[str, Any] = {"query": {"bool": {"filter": clauses}}, "size": 0, "track_total_hits": up_to}
        if aggs:
            body |= {"aggs": self._aggs(), "terminate_after": up_to}
        return body

    def sample(self, probability: float) -> dict[str, Any]:
        """The facets and the number of hits, estimated from a uniform random sample of the matches. The seed is
        fixed, so the same query estimates the same figures on every page."""
        hits = {"bool": {"filter": list(self.own.values())}} if self.own else {"match_all": {}}
        aggs = {**self._aggs(), _MATCHES: {"filter": hits}}
        sampler = {"random_sampler": {"probability": probability, "seed": SAMPLE_SEED}, "aggs": aggs}
        return {"query": self.match, "size": 0, "track_total_hits": False, "aggs": {_SAMPLE: sampler}}

    def _aggs(self) -> dict[str, Any]:
        return {field: _facet_agg(field, [c for f, c in self.own.items() if f != field]) for field in self.query.facets}


def _counted(response: Mapping[str, Any]) -> tuple[int, bool]:
    """A count's figure and whether it is every match: not if it reached ``track_total_hits`` or a shard stopped
    collecting at ``terminate_after``."""
    total = response["hits"]["total"]
    return total["value"], total["relation"] == "eq" and not response.get("terminated_early", False)


def _facet_agg(field: str, others: list[dict[str, Any]]) -> dict[str, Any]:
    """A facet's terms, within the other faceted fields' filters when some are chosen."""
    terms = {"terms": {"field": field, "size": 50}}
    if not others:
        return terms
    return {"filter": {"bool": {"filter": others}}, "aggs": {_VALUES: terms}}


def _facets(
    aggregations: Mapping[str, Any], fields: Sequence[str], *, estimate: bool = False
) -> dict[str, dict[str, int]]:
    """``{facet: {value: count}}`` of the faceted ``fields`` from the aggregations; ``estimate``: a sample's counts
    (scaled up by the sampler), rounded as estimates are shown, a value estimated at none left out."""
    facets = {}
    for field in fields:
        agg = aggregations[field]
        counts = {bucket["key"]: bucket["doc_count"] for bucket in agg.get(_VALUES, agg)["buckets"]}
        if estimate:
            counts = {key: rounded for key, n in counts.items() if (rounded := analysis.approximate(n))}
        facets[field] = counts
    return facets


def _result(
    definition: IndexDefinition,
    terms: list[str],
    response: Mapping[str, Any],
    facets: dict[str, dict[str, int]],
    *,
    took: float,
    total: int | None = None,
    exact: bool = True,
    facets_exact: bool = True,
) -> SearchResult:
    hits = [
        Hit(id=hit["_id"], score=float(hit.get("_score") or 0.0), highlights=_highlights(definition, hit, terms))
        for hit in response["hits"]["hits"]
    ]
    return SearchResult(
        hits=hits,
        total=response["hits"]["total"]["value"] if total is None else total,
        facets=facets,
        took_ms=took,
        total_exact=exact,
        facets_exact=facets_exact,
    )


def _indexed(definition: IndexDefinition, body: Mapping[str, Any]) -> dict[str, Any]:
    """The document as indexed: its text fields folded, a highlighted one that folding changed also as
    published (text in simplified characters, most of it, is sent and stored once, as before)."""
    indexed, published = dict(body), {}
    for field in definition.text_fields:
        value = body.get(field)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            folded: Any = [analysis.simplified(analysis.field_text(v)) for v in value]
        else:
            folded = analysis.simplified(analysis.field_text(value))
        if folded != value:
            indexed[field] = folded
            if field in definition.highlight_fields:
                published[field] = value
    if published:
        indexed[_PUBLISHED] = published
    return indexed


def _highlights(definition: IndexDefinition, hit: Mapping[str, Any], terms: list[str]) -> dict[str, str]:
    source = hit.get("_source", {})
    published = source.get(_PUBLISHED, {})
    highlights = {}
    for field in definition.highlight_fields:
        text = analysis.field_text(published.get(field, source.get(field)))
        fragment = analysis.highlight(text, terms, whole=field in definition.whole_fields)
        if fragment:
            highlights[field] = fragment
    return highlights

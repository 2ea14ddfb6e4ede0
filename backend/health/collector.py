"""Figures read from the database and the search engine when ``/metrics`` is scraped, not kept by workers:
they are the same whichever worker answers, and true at the moment of the scrape.

Cheap by design (a scrape every 15 s must not load the database): the outbox's pending count and oldest row
(the table holds only what is not indexed yet), the two complaint counts on indexed dates, the change sequence
(one row), and each index's recorded source (one small request per index). A dependency that does not answer
is a gauge saying so (``sanxiang_database_up 0``, ``sanxiang_search_engine_up 0``), never a failed scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from backend.complaints.services import deadlines_at_risk
from backend.extensions import clock, db
from backend.search.indexing import SearchOutbox, outbox_sequence
from search_index import DEFINITIONS, search

log = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    """Call inside an app context (the scrape's request)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        database_up = GaugeMetricFamily("sanxiang_database_up", "Whether the database answered this scrape")
        try:
            figures = list(self._from_database())
        except Exception as error:  # whatever the reason, the scrape answers with what it has
            log.warning("metrics: the database did not answer (%s)", type(error).__name__)
            figures = None
        finally:
            db.session.rollback()
        database_up.add_metric([], 0 if figures is None else 1)
        yield database_up
        yield from figures or ()

    def _from_database(self) -> Iterator[GaugeMetricFamily]:
        pending, oldest = db.session.execute(select(func.count(), func.min(SearchOutbox.created_at))).one()
        yield _gauge("sanxiang_search_outbox_pending", "Changes not yet written to the search engine", pending)
        age = (clock.now() - oldest).total_seconds() if oldest is not None else 0.0
        yield _gauge("sanxiang_search_outbox_oldest_age_seconds", "Age of the oldest change not yet indexed", age)
        at_risk = deadlines_at_risk()
        deadlines = GaugeMetricFamily(
            "sanxiang_complaint_deadlines",
            "Open complaints whose deadline is today or tomorrow (due_soon) or past (overdue)",
            labels=["state"],
        )
        for state, count in at_risk.items():
            deadlines.add_metric([state], count)
        yield deadlines
        yield from self._search_lag(outbox_sequence(db.session))

    @staticmethod
    def _search_lag(sequence: int) -> Iterator[GaugeMetricFamily]:
        """How many database changes each index has not seen yet (the change sequence minus the one it records)."""
        engine_up = GaugeMetricFamily("sanxiang_search_engine_up", "Whether the search engine answered this scrape")
        lag = GaugeMetricFamily(
            "sanxiang_search_index_lag_changes", "Database changes an index has not seen yet", labels=["index"]
        )
        try:
            for name, definition in sorted(DEFINITIONS.items()):
                source = search.engine.source(definition)
                lag.add_metric([name], max(sequence - source.sequence, 0) if source is not None else sequence)
        except Exception as error:
            log.warning("metrics: the search engine did not answer (%s)", type(error).__name__)
            engine_up.add_metric([], 0)
            yield engine_up
            return
        engine_up.add_metric([], 1)
        yield engine_up
        yield lag


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)

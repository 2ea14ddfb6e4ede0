import json
import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from backend.extensions import cache, db
from backend.extensions.foreground import run_in_foreground
from backend.progress import bar, progress_option
from search_index import DEFINITIONS, search
from search_index.elastic import AnalyzerMissing

from .indexing import Indexer, SearchOutbox, reconcile, reindex

search_cli = AppGroup("search", help="Search index: create, rebuild, keep up to date.")


@search_cli.command("init")
def init() -> None:
    """Create every index that does not exist yet; rebuild any that does not project this database. Refused,
    creating nothing, when Elasticsearch lacks the configured analyzer (ELASTICSEARCH_TEXT_ANALYZER)."""
    try:
        search.ensure_indices()
    except AnalyzerMissing as error:
        raise click.ClickException(str(error)) from None
    states = reconcile(rebuild=True)
    click.echo(f"indices ready on {search.engine.name}: " + ", ".join(f"{n} {s.state}" for n, s in states.items()))


@search_cli.command("reindex")
@click.option("--index", "names", multiple=True, type=click.Choice(sorted(DEFINITIONS)), help="Default: all.")
@progress_option
def reindex_command(names: tuple[str, ...], progress: bool) -> None:
    """Rebuild indices from the database into new indices and swap the aliases (no downtime)."""
    for name in names or sorted(DEFINITIONS):
        lock = f"lock:reindex:{name}"
        if not cache.add(lock, "1", ttl=3600):
            raise click.ClickException(f"a reindex of {name} is already running")
        try:
            started = time.perf_counter()
            physical = reindex(DEFINITIONS[name], track=bar(name, "rows", progress))
            count = search.engine.count(DEFINITIONS[name])
            click.echo(f"{name}: {count} documents in {physical} ({time.perf_counter() - started:.1f}s)")
        finally:
            cache.delete(lock)


@search_cli.command("worker")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between outbox polls.")
def worker(poll: float) -> None:
    """Drain the outbox into the search engine until SIGTERM or Ctrl-C (with SEARCH_INDEXER_THREAD=0 in the web
    workers: deploy/docker-compose.yml runs it as its own service)."""
    indexer = Indexer(current_app._get_current_object(), poll_seconds=poll)
    run_in_foreground(indexer.start, indexer.stop)


@search_cli.command("status")
def status() -> None:
    """Pending outbox rows, documents per index, and whether each index projects this database."""
    pending = db.session.scalar(select(func.count()).select_from(SearchOutbox))
    counts = {name: search.engine.count(definition) for name, definition in DEFINITIONS.items()}
    states = {name: state.state for name, state in search.states(force=True).items()}
    click.echo(json.dumps({"engine": search.engine.name, "pending": pending, "documents": counts, "indices": states}))

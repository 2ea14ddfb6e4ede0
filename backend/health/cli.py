import json

import click
from flask.cli import AppGroup

from .routes import readiness

health_cli = AppGroup("health", help="Readiness, for health checks of processes that serve no HTTP.")


@health_cli.command("ready")
def ready() -> None:
    """Print what GET /readyz would answer, checked from this process, and exit 1 when it would be a 503 (the
    database unreachable): the health check of the search worker and scheduler services, which serve no HTTP."""
    body, status = readiness()
    click.echo(json.dumps(body, ensure_ascii=False))
    if status != 200:
        raise SystemExit(1)

import click
from flask.cli import AppGroup

from . import annual
from .counts import compact

supervision_cli = AppGroup("supervision", help="Supervision jobs.")


@supervision_cli.command("publish-annual")
def publish_annual() -> None:
    """In January: publish last year's statistics for every agency that has not yet (for cron)."""
    click.echo(f"published {annual.publish_due()} annual reports")


@supervision_cli.command("fold-counts")
def fold_counts() -> None:
    """Fold the 公示率 counters' pending deltas (the scheduler does it every COUNTS_JOB_SECONDS; for cron)."""
    click.echo(f"folded {compact()} counter deltas")

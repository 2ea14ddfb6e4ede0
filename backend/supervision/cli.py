import json

import click
from flask import current_app
from flask.cli import AppGroup

from backend.errors import DomainErrorAware

from . import annual, evaluation, negative_list
from .counts import compact

supervision_cli = DomainErrorAware("supervision", help="Supervision jobs.")


@supervision_cli.command("publish-annual")
def publish_annual() -> None:
    """In January: publish last year's statistics for every agency that has not yet (for cron)."""
    click.echo(f"published {annual.publish_due()} annual reports")


@supervision_cli.command("fold-counts")
def fold_counts() -> None:
    """Fold the 公示率 counters' pending deltas (the scheduler does it every COUNTS_JOB_SECONDS; for cron)."""
    click.echo(f"folded {compact()} counter deltas")


@supervision_cli.command("redraw")
@click.argument("round_id", type=int)
def redraw(round_id: int) -> None:
    """Recompute a 案卷评查 round's draw from its public data; exit 1 unless it matches the stored sample."""
    result = evaluation.redraw(round_id)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    checks = ("matches", "announced_before_checkpoint", "eligible_as_announced", "first_checkpoint_after_announcement")
    if not all(result[check] for check in checks):
        raise SystemExit(1)


negative_list_cli = AppGroup("negative-list", help="负面清单.")
supervision_cli.add_command(negative_list_cli)


@negative_list_cli.command("refresh")
def refresh_negative_list() -> None:
    """Recompute the 负面清单 over the rolling window: open and close entries (the scheduler does it too)."""
    changed = negative_list.refresh(negative_list.Thresholds.from_config(current_app.config))
    click.echo(f"opened {changed['opened']}, closed {changed['closed']} 负面清单 entries")

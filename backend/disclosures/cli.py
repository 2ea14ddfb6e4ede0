import click
from flask.cli import AppGroup

from . import lifecycle

disclosures_cli = AppGroup("disclosures", help="Disclosure maintenance jobs.")


@disclosures_cli.command("recompute-deadlines")
def recompute_deadlines() -> None:
    """Recompute deadlines counted without official calendar data, now that the data may be there."""
    click.echo(f"recomputed {lifecycle.recompute_deadlines()} provisional deadlines")


@disclosures_cli.command("expire")
def expire() -> None:
    """Take penalties whose disclosure period has ended out of public view (for cron)."""
    click.echo(f"expired {lifecycle.expire_due()} items")

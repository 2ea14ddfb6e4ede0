import click
from flask.cli import AppGroup

from backend.cases import services as cases

from . import lifecycle

disclosures_cli = AppGroup("disclosures", help="Disclosure maintenance jobs.")


@disclosures_cli.command("recompute-deadlines")
def recompute_deadlines() -> None:
    """Recompute deadlines counted without official calendar data, now that the data may be there (decided
    cases' too)."""
    click.echo(f"recomputed {lifecycle.recompute_deadlines()} provisional deadlines")
    click.echo(f"recomputed {cases.recompute_deadlines()} provisional deadlines of decided cases")


@disclosures_cli.command("expire")
def expire() -> None:
    """Take penalties whose disclosure period has ended out of public view (for cron)."""
    click.echo(f"expired {lifecycle.expire_due()} items")

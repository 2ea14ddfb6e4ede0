import click
from flask.cli import AppGroup

from . import annual

supervision_cli = AppGroup("supervision", help="Supervision jobs.")


@supervision_cli.command("publish-annual")
def publish_annual() -> None:
    """In January: publish last year's statistics for every agency that has not yet (for cron)."""
    click.echo(f"published {annual.publish_due()} annual reports")

from pathlib import Path

import click

from backend.cases import services as cases
from backend.disclosures.lifecycle import recompute_deadlines
from backend.errors import DomainErrorAware

from . import services

calendar_cli = DomainErrorAware("calendar", help="Holiday schedules (放假安排) published by the State Council.")


@calendar_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(file: Path) -> None:
    """Load a year's published schedule from a JSON FILE (format: README, Operations), then recompute
    the deadlines counted across that year or without official data."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{file}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    result = services.load(services.parse(text), actor="cli")
    calendar = result.calendar
    if not result.changed:
        click.echo(f"{calendar.year}: {calendar.document_no} already loaded, nothing changed")
        return
    replaced = f", replacing {result.replaced}" if result.replaced else ""
    click.echo(f"{calendar.year}: loaded {calendar.document_no}{replaced}")
    click.echo(f"recomputed {recompute_deadlines([calendar.year])} deadlines")
    click.echo(f"recomputed {cases.recompute_deadlines([calendar.year])} deadlines of decided cases")


@calendar_cli.command("show")
@click.argument("year", type=int, required=False)
def show(year: int | None) -> None:
    """Print the loaded schedule of YEAR, or list the loaded years."""
    if year is None:
        for calendar in services.loaded():
            click.echo(f"{calendar.year}  {calendar.document_no}  loaded {calendar.loaded_at:%Y-%m-%d %H:%M} UTC")
        return
    calendar = services.get(year)
    click.echo(f"{calendar.year}  {calendar.document_no}  {calendar.source or ''}".rstrip())
    for holiday in calendar.holidays:
        click.echo(f"  {holiday['name']}: {holiday['from']} to {holiday['to']}")
    click.echo(f"  make-up working days (调休上班): {', '.join(calendar.makeup_workdays) or 'none'}")

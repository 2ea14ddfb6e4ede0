import datetime as dt

import click
from flask import current_app

from backend.errors import DomainErrorAware
from backend.progress import bar, progress_option
from backend.transparency import audit_digest

from . import trail

audit_cli = DomainErrorAware("audit", help="The audit trail: anchoring in the transparency log, checks, retention.")


@audit_cli.command("anchor")
def anchor() -> None:
    """Append the digest of every finished day not yet anchored to the transparency log (a scheduled job too)."""
    click.echo(f"anchored {audit_digest.anchor_due()} days")


@audit_cli.command("verify")
@progress_option
def verify(progress: bool) -> None:
    """Recompute every anchored day's digest; exit 1 if any day's entries changed since it was anchored."""
    report = audit_digest.verify(track=bar("anchored days", "days", progress))
    for problem in report.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if report.problems:
        raise click.ClickException(f"{len(report.problems)} of {report.days} anchored days differ")
    click.echo(f"ok: {report.days} anchored days match their digests")


@audit_cli.command("purge")
@click.option("--before", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first Beijing day kept")
def purge(before: dt.datetime) -> None:
    """Delete the entries of days before BEFORE: only days older than AUDIT_RETENTION_DAYS, already anchored."""
    removed = trail.purge(before.date(), current_app.config["AUDIT_RETENTION_DAYS"], actor="cli")
    click.echo(f"removed {removed} audit entries before {before.date().isoformat()}")

import click
from flask.cli import AppGroup

from . import services

transparency_cli = AppGroup("transparency", help="The transparency log.")


@transparency_cli.command("verify")
def verify() -> None:
    """Recompute the tree from the stored entries and report any altered or missing entry."""
    report = services.audit()
    for problem in report.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if not report.ok:
        raise click.ClickException(f"{len(report.problems)} problems in a log of {report.size} entries")
    click.echo(f"ok: {report.size} entries, every leaf, node and signed checkpoint recomputed")


@transparency_cli.command("checkpoint")
def checkpoint() -> None:
    """Sign (and keep) a checkpoint of the log as it is now."""
    made = services.checkpoint()
    click.echo(f"{made.tree_size} {bytes(made.root_hash).hex()} {made.key_id}")

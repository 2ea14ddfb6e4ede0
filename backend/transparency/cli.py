import click
from flask.cli import AppGroup

from backend.progress import bar, progress_option

from . import services

transparency_cli = AppGroup("transparency", help="The transparency log.")


@transparency_cli.command("verify")
@progress_option
def verify(progress: bool) -> None:
    """Recompute the tree from the stored entries and report any altered or missing entry."""
    report = services.audit(track=bar("transparency log", "entries", progress))
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


@transparency_cli.command("rotate-key")
def rotate_key() -> None:
    """Add a signing key: checkpoints from now on are signed with it and name it (key_id); the older keys stay
    in the ring and in GET /api/v1/transparency/keys, so every checkpoint signed before keeps verifying."""
    ring = services.key_ring()
    try:
        kid = ring.add_key()
    except RuntimeError as error:  # keys from TRANSPARENCY_SIGNING_KEYS: rotated where that secret is kept
        raise click.ClickException(str(error)) from None
    click.echo(f"new transparency signing key {kid}")

import json

import click
from flask import current_app
from flask.cli import AppGroup

badges_cli = AppGroup("badges", help="Badge signing keys.")


def _ring():
    return current_app.extensions["badge_keys"]


@badges_cli.command("keys")
def list_keys() -> None:
    """Print the public keys (JWKS); the last one signs new badges."""
    click.echo(json.dumps(_ring().jwks(), indent=2))


@badges_cli.command("rotate-key")
def rotate_key() -> None:
    """Add a new signing key; new badges use it, badges signed before keep verifying."""
    click.echo(f"new signing key {_ring().add_key()}")


@badges_cli.command("retire-key")
@click.argument("kid")
def retire_key(kid: str) -> None:
    """Remove a key: badges signed with it no longer verify (reprint them first)."""
    try:
        _ring().retire(kid)
    except KeyError:
        raise click.ClickException(f"no key {kid} in {_ring().directory}") from None
    click.echo(f"retired {kid}")

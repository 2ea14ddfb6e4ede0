import json

import click

from backend.errors import DomainErrorAware

from . import push, services
from .models import ClientKind

exchange_cli = DomainErrorAware(
    "exchange-client", help="Credentials of other systems for one region: upper platforms and the 12345 hotline."
)
push_cli = DomainErrorAware("exchange", help="Pushing events to exchange clients' subscriptions.")


@exchange_cli.command("create")
@click.option("--region", "region_code", required=True, help="Six-digit division code; its subdivisions are included.")
@click.option("--label", help="What platform uses this credential.")
@click.option(
    "--kind",
    type=click.Choice(list(ClientKind)),
    default=ClientKind.platform,
    show_default=True,
    help="platform: reads the changes feed; hotline: the 12345 hotline, posts work orders.",
)
def create_client(region_code: str, label: str | None, kind: str) -> None:
    """Print {"client_id", "client_secret", "region", "kind"}; the secret is stored hashed and never shown again."""
    issued = services.create_client(region_code, actor="cli", label=label, kind=ClientKind(kind))
    printed = {"client_id": issued.client.client_id, "client_secret": issued.secret, "region": region_code}
    click.echo(json.dumps(printed | {"kind": kind}))


@exchange_cli.command("revoke")
@click.argument("client_id")
def revoke_client(client_id: str) -> None:
    """Revoke a client; its tokens stop working at once."""
    services.revoke_client(client_id, actor="cli")
    click.echo(f"revoked {client_id}")


@push_cli.command("push")
def push_due() -> None:
    """Turn new log entries into deliveries and send what is due (what the scheduler runs); print the counts."""
    click.echo(json.dumps(push.deliver_due()))

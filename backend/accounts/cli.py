import json
import shlex
import sys

import click

from backend.errors import DomainErrorAware

from . import lifecycle, services, totp
from .models import AdminRole

client_cli = DomainErrorAware("agency-client", help="Credentials for agencies' case systems.")
admin_cli = DomainErrorAware("admin", help="Admin web page users.")


@client_cli.command("create")
@click.option("--agency", "agency_code", required=True)
@click.option("--label", help="What system uses this credential.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["json", "shell"]),
    default="json",
    show_default=True,
    help='shell: CLIENT_ID=… and CLIENT_SECRET=… lines, quoted, for eval "$(…)".',
)
def create_client(agency_code: str, label: str | None, output: str) -> None:
    """Print {"client_id", "client_secret"} (or shell assignments); the secret is stored hashed and never shown
    again."""
    issued = services.create_client(agency_code, actor="cli", label=label)
    if output == "shell":
        click.echo(f"CLIENT_ID={shlex.quote(issued.client.client_id)}\nCLIENT_SECRET={shlex.quote(issued.secret)}")
    else:
        click.echo(json.dumps({"client_id": issued.client.client_id, "client_secret": issued.secret}))


@client_cli.command("revoke")
@click.argument("client_id")
def revoke_client(client_id: str) -> None:
    """Revoke a client; its tokens stop working at once."""
    services.revoke_client(client_id, actor="cli")
    click.echo(f"revoked {client_id}")


@admin_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(list(AdminRole)))
@click.option("--agency", "agency_code", help="Required for a handler and a reviewer.")
@click.option("--region", "region_code", help="Required for a supervisor.")
@click.option("--badge", "badge_no", help="Required for a reviewer: the badge its agency filed them under.")
def create_admin(
    username: str, role: str, agency_code: str | None, region_code: str | None, badge_no: str | None
) -> None:
    """Create an admin user; the password is read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    user = services.create_admin(
        username=username,
        password=password,
        role=role,
        actor="cli",
        agency_code=agency_code,
        region_code=region_code,
        badge_no=badge_no,
    )
    click.echo(f"created {user.role} {user.username}")


@admin_cli.command("reset-otp")
@click.argument("username")
def reset_otp(username: str) -> None:
    """Take an account's second factor away (a lost phone); it enrols again at its next sign-in."""
    totp.reset(username, actor="cli")
    click.echo(f"second factor of {username} reset")


@admin_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account: its sessions end and its tokens are refused at once."""
    lifecycle.disable(username, actor="cli")
    click.echo(f"disabled {username}")


@admin_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled account again."""
    lifecycle.enable(username, actor="cli")
    click.echo(f"enabled {username}")


@admin_cli.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Print a temporary password (shown this once); its sessions end and a new one is chosen at the next sign-in."""
    click.echo(lifecycle.reset_password(username, actor="cli"))

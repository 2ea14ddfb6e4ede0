"""Command-line entry points: ``flask --app backend <group> <command>``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


def alembic_config():
    # Imported here: Alembic is slow to import and only these commands need it.
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    from alembic import command

    command.downgrade(alembic_config(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between models and database."""
    from alembic import command

    command.revision(alembic_config(), message=message, autogenerate=True)


def register_commands(app: Flask) -> None:
    from backend.accounts.cli import admin_cli, client_cli
    from backend.agencies.cli import agency_cli
    from backend.audit.cli import audit_cli
    from backend.calendars.cli import calendar_cli
    from backend.complaints.cli import complaints_cli
    from backend.demo import demo_cli
    from backend.disclosures.cli import disclosures_cli
    from backend.exchange.cli import exchange_cli, push_cli
    from backend.health.cli import health_cli
    from backend.officers.cli import badges_cli
    from backend.scheduler import scheduler_cli
    from backend.search.cli import search_cli
    from backend.supervision.cli import supervision_cli
    from backend.transparency.cli import transparency_cli

    for group in (
        db_cli,
        agency_cli,
        client_cli,
        admin_cli,
        exchange_cli,
        push_cli,
        search_cli,
        scheduler_cli,
        health_cli,
        demo_cli,
        disclosures_cli,
        calendar_cli,
        badges_cli,
        transparency_cli,
        supervision_cli,
        audit_cli,
        complaints_cli,
    ):
        app.cli.add_command(group)

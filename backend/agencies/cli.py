import json

import click

from backend.errors import DomainErrorAware

from . import services

agency_cli = DomainErrorAware("agency", help="Enforcement agencies.")


@agency_cli.command("create")
@click.option("--code", required=True, help="Stable unique code, e.g. the unified social credit code.")
@click.option("--name", required=True)
@click.option("--region", "region_code", required=True, help="6-digit administrative division code.")
@click.option("--parent", "parent_code", help="Code of the parent agency.")
@click.option("--level", type=click.Choice(["province", "city", "county", "township"]), help="Default: from region.")
@click.option("--address")
@click.option("--phone")
@click.option("--complaint-phone")
@click.option("--supervises", is_flag=True, help="A 司法局: takes complaints with no agency of their own.")
def create(**options) -> None:
    """Create an agency and print it as JSON."""
    agency = services.create_agency(actor="cli", **{k: v for k, v in options.items() if v not in (None, False)})
    click.echo(
        json.dumps(
            {
                "code": agency.code,
                "name": agency.name,
                "level": agency.level,
                "region_code": agency.region_code,
                "parent": agency.parent_code,
            },
            ensure_ascii=False,
        )
    )

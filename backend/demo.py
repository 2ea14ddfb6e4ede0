"""Demo data for a fresh database: the enforcement agencies of one city (泉州市).

The codes follow the shape of unified social credit codes but are made up.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from backend.agencies.models import Agency
from backend.agencies.services import create_agency
from backend.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")

REMEDY = {"reconsideration": ["泉州市人民政府"], "litigation": ["泉州市丰泽区人民法院"]}

AGENCIES = [
    # code, name, region, parent, address, phone
    ("11350500MB0100001J", "泉州市司法局", "350500", None, "泉州市丰泽区东海街道通港西街 1 号", "0595-22180001"),
    (
        "11350500MB0100002E",
        "泉州市市场监督管理局",
        "350500",
        "11350500MB0100001J",
        "泉州市丰泽区田安南路 528 号",
        "0595-22180002",
    ),
    (
        "11350500MB0100003A",
        "泉州市住房和城乡建设局",
        "350500",
        "11350500MB0100001J",
        "泉州市丰泽区东海大街 466 号",
        "0595-22180003",
    ),
    (
        "11350500MB0100004F",
        "泉州市生态环境局",
        "350500",
        "11350500MB0100001J",
        "泉州市丰泽区东海行政中心",
        "0595-22180004",
    ),
    (
        "11350500MB0100005B",
        "泉州市交通运输局",
        "350500",
        "11350500MB0100001J",
        "泉州市丰泽区刺桐路 8 号",
        "0595-22180005",
    ),
    (
        "11350500MB0100006G",
        "泉州市城市管理局",
        "350500",
        "11350500MB0100001J",
        "泉州市鲤城区温陵路 102 号",
        "0595-22180006",
    ),
    (
        "11350502MB0200001K",
        "泉州市鲤城区市场监督管理局",
        "350502",
        "11350500MB0100002E",
        "泉州市鲤城区新华北路 66 号",
        "0595-22180101",
    ),
    (
        "11350503MB0300001L",
        "泉州市丰泽区综合执法局",
        "350503",
        "11350500MB0100001J",
        "泉州市丰泽区丰泽街 298 号",
        "0595-22180201",
    ),
]


def load_demo_data() -> int:
    """Create the demo agencies when there are none; return how many were created."""
    if db.session.scalar(select(func.count()).select_from(Agency)):
        return 0
    for code, name, region, parent, address, phone in AGENCIES:
        create_agency(
            actor="demo",
            code=code,
            name=name,
            region_code=region,
            parent_code=parent,
            address=address,
            phone=phone,
            complaint_phone="12345",
            remedy_channels=REMEDY,
            supervises=name.endswith("司法局"),
        )
    return len(AGENCIES)


@demo_cli.command("load")
def load() -> None:
    """Load demo data into an empty database (does nothing otherwise)."""
    created = load_demo_data()
    click.echo(f"demo data: {created} agencies created" if created else "demo data: database not empty, skipped")

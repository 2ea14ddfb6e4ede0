"""Demo data for a fresh database: the enforcement agencies of one city (泉州市).

The codes follow the shape of unified social credit codes but are made up.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from backend.agencies.models import Agency
from backend.agencies.services import create_agency, get_agency
from backend.disclosures.publishing import bulk_upsert
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


MARKET, HOUSING, ECOLOGY = "11350500MB0100002E", "11350500MB0100003A", "11350500MB0100004F"


def _decision(n: int, category: str, title: str, content: str, basis: str, day: str, subject: str) -> dict:
    return {
        "external_id": f"demo-decision-{n}",
        "phase": "post",
        "type": "decision",
        "category": category,
        "title": title,
        "content": content,
        "legal_basis": basis,
        "document_no": f"泉示〔2026〕{n}号",
        "decision_date": day,
        "subject_type": "organization",
        "subject_name": subject,
        "subject_id": "92350502MA2Y12345P",
        **_CREDIT.get(n, {}),
    }


# The 信用中国 双公示 fields of each demo penalty and licence (schemas.credit_errors), as its text says.
def _penalty(classes: list[str], violation: str, content: str, **amounts: str) -> dict:
    facts = f"当事人{violation}。"
    details = {"penalty_classes": classes, "violation_type": violation, "violation_facts": facts}
    return {"details": {**details, "penalty_content": content, "legal_representative": "陈某某", **amounts}}


_CREDIT: dict[int, dict] = {
    1: _penalty(
        ["fine", "confiscate_gains"], "销售超过保质期的食品", "没收违法所得，罚款五千元",
        fine_amount="5000", confiscation_amount="800",
    ),
    2: {
        "details": {"licence_class": "ordinary", "licence_name": "食品经营许可证", "licence_content": "预包装食品销售"},
        "effective_from": "2026-11-12",
        "effective_until": "2031-11-11",
    },
    4: _penalty(["fine"], "未取得施工许可证擅自施工", "责令停止施工，罚款二万元", fine_amount="20000"),
    5: _penalty(["fine"], "超标排放大气污染物", "罚款十万元", fine_amount="100000"),
}  # fmt: skip


# What a citizen finds in a fresh ``make run``: decisions, and each agency's 事前公开 entries.
ITEMS = {
    MARKET: [
        _decision(
            1, "penalty", "泉州市鲤城区某食品店销售过期食品行政处罚决定书",
            "当事人销售超过保质期的食品，违反《中华人民共和国食品安全法》第三十四条，决定没收违法所得并罚款五千元。"
            "如有异议，可拨打 13905951234 联系承办人。",
            "《中华人民共和国食品安全法》第一百二十四条", "2026-11-10", "泉州市鲤城区某食品店",
        ),
        _decision(
            2, "licensing", "泉州市丰泽区某餐饮有限公司食品经营许可决定",
            "申请人提交的食品经营许可申请材料齐全，符合法定形式，经现场核查，决定准予许可。",
            "《中华人民共和国行政许可法》第三十八条", "2026-11-12", "泉州市丰泽区某餐饮有限公司",
        ),
        _decision(
            3, "inspection", "泉州市某超市价格标示检查结果",
            "经检查，该超市部分商品未明码标价，已责令当场整改，复查合格。",
            "《中华人民共和国价格法》第十三条", "2026-11-03", "泉州市某超市有限公司",
        ),
        {
            "external_id": "demo-power-1",
            "phase": "pre",
            "type": "power",
            "title": "对销售不符合食品安全标准食品的行政处罚",
            "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
            "details": {"matter": "食品安全行政处罚", "basis": "《食品安全法》", "time_limit": "九十日"},
        },
        {
            "external_id": "demo-guide-1",
            "phase": "pre",
            "type": "service_guide",
            "title": "食品经营许可办事指南",
            "content": "申请人通过政务服务网提交申请材料，行政许可决定在二十个工作日内作出。",
        },
    ],
    HOUSING: [
        _decision(
            4, "penalty", "泉州市某建筑工程有限公司未取得施工许可擅自施工行政处罚决定书",
            "当事人未取得施工许可证擅自施工，违反《建筑工程施工许可管理办法》，责令停止施工并处罚款。",
            "《建筑工程施工许可管理办法》第十二条", "2026-11-05", "泉州市某建筑工程有限公司",
        ),
    ],
    ECOLOGY: [
        _decision(
            5, "penalty", "泉州市某化工企业超标排放大气污染物行政处罚决定书",
            "当事人废气排放口颗粒物浓度超过排放标准，违反《中华人民共和国大气污染防治法》第十八条，决定罚款十万元。",
            "《中华人民共和国大气污染防治法》第九十九条", "2026-11-06", "泉州市某化工有限公司",
        ),
        _decision(
            6, "coercion", "泉州市某印染厂查封扣押污染设施决定书",
            "当事人通过暗管排放废水，对其污染设施依法实施查封。",
            "《中华人民共和国环境保护法》第二十五条", "2026-11-13", "泉州市某印染有限公司",
        ),
    ],
}  # fmt: skip


def load_demo_data() -> int:
    """Create the demo agencies, and publish a few items of theirs, when there are none; return how many
    agencies were created."""
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
    for code, items in ITEMS.items():
        results = bulk_upsert(get_agency(code), items, actor="demo")
        failed = [result for result in results if result.get("status", 500) >= 400]
        if failed:
            raise RuntimeError(f"demo items refused: {failed}")
    return len(AGENCIES)


@demo_cli.command("load")
@click.option("--if-enabled", is_flag=True, help="Do nothing when DEMO_DATA=0 (what `make run` does).")
def load(if_enabled: bool) -> None:
    """Load demo data into an empty database (does nothing otherwise)."""
    if if_enabled and not current_app.config["DEMO_DATA"]:
        click.echo("demo data: DEMO_DATA=0, skipped")
        return
    created = load_demo_data()
    items = sum(len(batch) for batch in ITEMS.values())
    click.echo(
        f"demo data: {created} agencies created, {items} of their items published"
        if created
        else "demo data: database not empty, skipped"
    )

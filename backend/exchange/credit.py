"""信用中国 双公示: published licensing and penalty decisions in the credit platform's data standard.

The columns follow the order and names of the 行政许可/行政处罚 信用信息公示 data standard of the 全国信用信息共享平台
(see README, "信用中国 双公示"); codes are written as the standard writes them (处罚类别 by name, several joined
by ";"; amounts in 万元). Only what the privacy gate let through is exported: the public text and name of each
item; a natural person's ID number is never written (证件号码 stays empty; only an organization's 统一社会信用代码
is given).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from backend.accounts.models import AdminUser
from backend.accounts.scope import visible_agencies
from backend.agencies.models import Agency
from backend.disclosures.models import LICENCE_CLASSES, PENALTY_CLASSES, Disclosure, Status
from backend.extensions.database import db
from backend.timezone import CHINA

SUBJECT_CLASSES = {"organization": "法人及非法人组织", "person": "自然人"}
# A licence without an end date: the standard writes 2099/12/31.
NO_END = dt.date(2099, 12, 31)
TEN_THOUSAND = Decimal(10000)


def _date(value: dt.date | None) -> str:
    return value.strftime("%Y/%m/%d") if value else ""


def wan_yuan(yuan: str | None) -> str:
    """An amount kept in yuan (to the fen) as the standard's 万元, exactly: 5000.00 -> 0.500000."""
    return f"{Decimal(yuan) / TEN_THOUSAND:.6f}" if yuan not in (None, "") else ""


def publicity_until(item: Disclosure, months: Mapping[str, int]) -> dt.date | None:
    """公示截止期: the decision date plus the longest publicity period of its penalty classes
    (CREDIT_PUBLICITY_MONTHS; "*" for a class it does not list)."""
    if item.decision_date is None:
        return None
    classes = item.details.get("penalty_classes") or ["*"]
    longest = max(months.get(code, months["*"]) for code in classes)
    return item.decision_date + relativedelta(months=longest) - dt.timedelta(days=1)


def _subject(item: Disclosure) -> list[str]:
    """行政相对人名称, 类别, 统一社会信用代码, 法定代表人, 证件类型, 证件号码: a person's ID never leaves."""
    organization = item.subject_type == "organization"
    return [
        item.public.get("subject_name") or "",
        SUBJECT_CLASSES.get(item.subject_type or "", ""),
        (item.subject_id or "") if organization else "",
        (item.public["details"].get("legal_representative") or "") if organization else "",
        "",
        "",
    ]


SUBJECT_COLUMNS = ["行政相对人名称", "行政相对人类别", "统一社会信用代码", "法定代表人", "证件类型", "证件号码"]
PENALTY_COLUMNS = [
    *SUBJECT_COLUMNS,
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "公示截止期",
    "处罚机关",
    "数据来源单位",
    "备注",
]
LICENSING_COLUMNS = [
    *SUBJECT_COLUMNS,
    "行政许可决定文书名称",
    "行政许可决定文书号",
    "许可类别",
    "许可证书名称",
    "许可编号",
    "许可内容",
    "许可决定日期",
    "有效期自",
    "有效期至",
    "许可机关",
    "当前状态",
    "数据来源单位",
    "备注",
]


def penalty_row(item: Disclosure, months: Mapping[str, int]) -> list[str]:
    details = item.public["details"]
    return [
        *_subject(item),
        item.document_no or "",
        details.get("violation_type") or "",
        details.get("violation_facts") or "",
        item.public.get("legal_basis") or "",
        ";".join(PENALTY_CLASSES[code] for code in details.get("penalty_classes") or []),
        details.get("penalty_content") or "",
        wan_yuan(item.details.get("fine_amount")),
        wan_yuan(item.details.get("confiscation_amount")),
        details.get("licence_affected") or "",
        _date(item.decision_date),
        _date(publicity_until(item, months)),
        item.agency.name,
        item.agency.name,
        "",
    ]


def licensing_row(item: Disclosure, _months: Mapping[str, int]) -> list[str]:
    details = item.public["details"]
    return [
        *_subject(item),
        item.public.get("title") or "",
        item.document_no or "",
        LICENCE_CLASSES.get(details.get("licence_class") or "", ""),
        details.get("licence_name") or "",
        details.get("licence_no") or "",
        details.get("licence_content") or "",
        _date(item.decision_date),
        _date(item.effective_from),
        _date(item.effective_until or NO_END),
        item.agency.name,
        "有效",
        item.agency.name,
        "",
    ]


KINDS: dict[str, tuple[list[str], Callable[[Disclosure, Mapping[str, int]], list[str]]]] = {
    "penalty": (PENALTY_COLUMNS, penalty_row),
    "licensing": (LICENSING_COLUMNS, licensing_row),
}


def export(user: AdminUser, kind: str, since: dt.date | None, months: Mapping[str, int]) -> dict[str, Any]:
    """The published decisions of ``kind`` in the user's scope, published on or after ``since`` (a Beijing
    day), oldest first: the standard's columns and one row of strings per decision."""
    columns, row = KINDS[kind]
    query = (
        select(Disclosure)
        .join(Agency, Agency.id == Disclosure.agency_id)
        .where(
            visible_agencies(user),
            Disclosure.type == "decision",
            Disclosure.category == kind,
            Disclosure.status == Status.published,
        )
        .order_by(Disclosure.published_at, Disclosure.id)
    )
    if since is not None:
        start = dt.datetime.combine(since, dt.time(), CHINA)
        query = query.where(Disclosure.published_at >= start)
    items = db.session.scalars(query).all()
    return {"type": kind, "columns": columns, "rows": [row(item, months) for item in items]}


def to_csv(data: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(data["columns"])
    writer.writerows(data["rows"])
    # A BOM so that spreadsheet programs open the Chinese text as UTF-8 (as the annual report's CSV).
    return ("\ufeff" + buffer.getvalue()).encode()

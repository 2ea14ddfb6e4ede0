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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, tuple_
from stdnum.cn import uscc

from backend.accounts.models import AdminUser
from backend.accounts.scope import visible_agencies
from backend.agencies.models import Agency
from backend.disclosures.models import LICENCE_CLASSES, PENALTY_CLASSES, Disclosure, Status
from backend.extensions.database import db
from backend.timezone import CHINA

# 行政相对人类别 as the standard writes it. An organization whose 统一社会信用代码 is registered by the market
# regulator (first digit 9) as an individual business (second digit 2, GB 32100-2015) is a 个体工商户.
PERSON, ORGANIZATION, INDIVIDUAL_BUSINESS = "自然人", "法人及非法人组织", "个体工商户"
# A date without an end (a licence with no end date, a penalty with no period): the standard writes 2099/12/31.
NO_END = dt.date(2099, 12, 31)
TEN_THOUSAND = Decimal(10000)
# 当前状态 of a licence: 1 有效, 2 无效; only decisions public now are exported, so every one is in force.
IN_FORCE = "1"


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


# Rows per page of the export: a province's penalties do not fit one answer.
PAGE = 1000


@dataclass(frozen=True)
class Cursor:
    """Where a page of the export ended: the last decision's publication time and id, written
    ``<microseconds since the epoch>.<id>`` so that ties in time are broken by id and nothing is read twice."""

    published_at: dt.datetime
    id: str

    def __str__(self) -> str:
        micros = (self.published_at - EPOCH) // dt.timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        micros, _, id_ = text.partition(".")
        return cls(EPOCH + dt.timedelta(microseconds=int(micros)), id_)


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def credit_code(code: str | None) -> str:
    """A 统一社会信用代码 only when it is one (GB 32100-2015 check character included, python-stdnum): the
    credit platform matches records on it, so a code of another shape is left out rather than sent wrong."""
    return code if code and uscc.is_valid(code) else ""


def _subject_class(item: Disclosure) -> str:
    if item.subject_type != "organization":
        return PERSON
    code = credit_code(item.subject_id)
    return INDIVIDUAL_BUSINESS if code[:2] == "92" else ORGANIZATION


def _subject(item: Disclosure, prefix: str) -> dict[str, str]:
    """The 行政相对人 fields. An organization gives its name, 统一社会信用代码 and 法定代表人; a natural person
    only the masked name the privacy gate let through: their 证件类型/证件号码 stay empty, as do the legal
    representative's ID fields and the registration numbers the 统一社会信用代码 replaced."""
    organization = item.subject_type == "organization"
    return {
        f"{prefix}_XDR_MC": item.public.get("subject_name") or "",
        f"{prefix}_XDR_LB": _subject_class(item),
        f"{prefix}_XDR_SHXYM": credit_code(item.subject_id) if organization else "",
        f"{prefix}_FRDB": (item.public["details"].get("legal_representative") or "") if organization else "",
    }


def _subject_fields(prefix: str) -> list[tuple[str, str]]:
    return [
        (f"{prefix}_XDR_MC", "行政相对人名称"),
        (f"{prefix}_XDR_LB", "行政相对人类别"),
        (f"{prefix}_XDR_SHXYM", "行政相对人代码_1(统一社会信用代码)"),
        (f"{prefix}_XDR_GSZC", "行政相对人代码_2(工商注册号)"),
        (f"{prefix}_XDR_ZZJG", "行政相对人代码_3(组织机构代码)"),
        (f"{prefix}_XDR_SWDJ", "行政相对人代码_4(税务登记号)"),
        (f"{prefix}_XDR_SYDW", "行政相对人代码_5(事业单位证书号)"),
        (f"{prefix}_XDR_SHZZ", "行政相对人代码_6(社会组织登记证号)"),
        (f"{prefix}_FRDB", "法定代表人"),
        (f"{prefix}_FR_ZJLX", "法定代表人证件类型"),
        (f"{prefix}_FR_ZJHM", "法定代表人证件号码"),
        (f"{prefix}_XDR_ZJLX", "证件类型"),
        (f"{prefix}_XDR_ZJHM", "证件号码"),
    ]


# (field code, field name) in the standard's order.
PENALTY_FIELDS = [
    *_subject_fields("CF"),
    ("CF_WSH", "行政处罚决定书文号"),
    ("CF_WFXW", "违法行为类型"),
    ("CF_SY", "违法事实"),
    ("CF_YJ", "处罚依据"),
    ("CF_CFLB", "处罚类别"),
    ("CF_NR", "处罚内容"),
    ("CF_NR_FK", "罚款金额（万元）"),
    ("CF_NR_WFFF", "没收违法所得、没收非法财物的金额（万元）"),
    ("CF_NR_ZKDX", "暂扣或吊销证照名称及编号"),
    ("CF_JDRQ", "处罚决定日期"),
    ("CF_YXQ", "处罚有效期"),
    ("CF_GSJZQ", "公示截止期"),
    ("CF_CFJG", "处罚机关"),
    ("CF_CFJGDM", "处罚机关统一社会信用代码"),
    ("CF_SJLY", "数据来源单位"),
    ("CF_SJLYDM", "数据来源单位统一社会信用代码"),
    ("BZ", "备注"),
]
LICENSING_FIELDS = [
    *_subject_fields("XK"),
    ("XK_XKWS", "行政许可决定文书名称"),
    ("XK_WSH", "行政许可决定文书号"),
    ("XK_XKLB", "许可类别"),
    ("XK_XKZS", "许可证书名称"),
    ("XK_XKBH", "许可编号"),
    ("XK_NR", "许可内容"),
    ("XK_JDRQ", "许可决定日期"),
    ("XK_YXQZ", "有效期自"),
    ("XK_YXQZI", "有效期至"),
    ("XK_XKJG", "许可机关"),
    ("XK_XKJGDM", "许可机关统一社会信用代码"),
    ("XK_ZT", "当前状态"),
    ("XK_LYDW", "数据来源单位"),
    ("XK_LYDWDM", "数据来源单位统一社会信用代码"),
    ("BZ", "备注"),
]


def penalty_row(item: Disclosure, months: Mapping[str, int]) -> dict[str, str]:
    details = item.public["details"]
    agency, agency_code = item.agency.name, credit_code(item.agency.code)
    return {
        **_subject(item, "CF"),
        "CF_WSH": item.document_no or "",
        "CF_WFXW": details.get("violation_type") or "",
        "CF_SY": details.get("violation_facts") or "",
        "CF_YJ": item.public.get("legal_basis") or "",
        "CF_CFLB": ";".join(PENALTY_CLASSES[code] for code in details.get("penalty_classes") or []),
        "CF_NR": details.get("penalty_content") or "",
        "CF_NR_FK": wan_yuan(item.details.get("fine_amount")),
        "CF_NR_WFFF": wan_yuan(item.details.get("confiscation_amount")),
        "CF_NR_ZKDX": details.get("licence_affected") or "",
        "CF_JDRQ": _date(item.decision_date),
        "CF_YXQ": _date(item.effective_until or NO_END),
        "CF_GSJZQ": _date(publicity_until(item, months)),
        "CF_CFJG": agency,
        "CF_CFJGDM": agency_code,
        "CF_SJLY": agency,
        "CF_SJLYDM": agency_code,
    }


def licensing_row(item: Disclosure, _months: Mapping[str, int]) -> dict[str, str]:
    details = item.public["details"]
    agency, agency_code = item.agency.name, credit_code(item.agency.code)
    return {
        **_subject(item, "XK"),
        "XK_XKWS": item.public.get("title") or "",
        "XK_WSH": item.document_no or "",
        "XK_XKLB": LICENCE_CLASSES.get(details.get("licence_class") or "", ""),
        "XK_XKZS": details.get("licence_name") or "",
        "XK_XKBH": details.get("licence_no") or "",
        "XK_NR": details.get("licence_content") or "",
        "XK_JDRQ": _date(item.decision_date),
        "XK_YXQZ": _date(item.effective_from),
        "XK_YXQZI": _date(item.effective_until or NO_END),
        "XK_XKJG": agency,
        "XK_XKJGDM": agency_code,
        "XK_ZT": IN_FORCE,
        "XK_LYDW": agency,
        "XK_LYDWDM": agency_code,
    }


KINDS: dict[str, tuple[list[tuple[str, str]], Callable[[Disclosure, Mapping[str, int]], dict[str, str]]]] = {
    "penalty": (PENALTY_FIELDS, penalty_row),
    "licensing": (LICENSING_FIELDS, licensing_row),
}


def export(
    user: AdminUser,
    kind: str,
    since: dt.date | None,
    months: Mapping[str, int],
    *,
    after: Cursor | None = None,
    limit: int = PAGE,
) -> dict[str, Any]:
    """The published decisions of ``kind`` in the user's scope, published on or after ``since`` (a Beijing
    day), oldest first, at most ``limit`` from past ``after``: the standard's field codes and names, one row of
    strings per decision in their order (a field the platform does not hold is an empty string), and ``next``,
    the cursor of the following page (None on the last)."""
    fields, row = KINDS[kind]
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
        .limit(limit + 1)
    )
    if since is not None:
        start = dt.datetime.combine(since, dt.time(), CHINA)
        query = query.where(Disclosure.published_at >= start)
    if after is not None:
        query = query.where(tuple_(Disclosure.published_at, Disclosure.id) > tuple_(after.published_at, after.id))
    items = db.session.scalars(query).all()
    page, more = items[:limit], len(items) > limit
    codes = [code for code, _ in fields]
    rows = [row(item, months) for item in page]
    return {
        "type": kind,
        "fields": codes,
        "columns": [name for _, name in fields],
        "rows": [[values.get(code, "") for code in codes] for values in rows],
        "next": str(Cursor(page[-1].published_at, page[-1].id)) if more else None,
    }


def to_csv(data: dict[str, Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(data["columns"])
    writer.writerows(data["rows"])
    # A BOM so that spreadsheet programs open the Chinese text as UTF-8 (as the annual report's CSV).
    return ("\ufeff" + buffer.getvalue()).encode()

"""The publisher's web entry form: browser fields to the submission the API takes, and an item back to fields.

The form carries the same fields as ``PUT /disclosures/<external_id>``; the type's details are a JSON
textarea (one form for every type, as the details schemas differ per type). What the form makes is
validated by the API's own DisclosurePutSchema, so the two ways in refuse the same things.
"""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma

from backend.disclosures.models import PHASE_OF_TYPE, Disclosure
from backend.disclosures.schemas import DisclosurePutSchema
from backend.errors import Invalid

# Text fields in the order the form shows them (details and publish come after).
TEXT_FIELDS = (
    "title",
    "content",
    "legal_basis",
    "category",
    "document_no",
    "decision_date",
    "case_no",
    "outcome",
    "subject_type",
    "subject_name",
    "subject_id",
    "effective_from",
    "effective_until",
)
FORM_FIELDS = ("external_id", "type", *TEXT_FIELDS, "details", "publish")
FIELD_LABELS = {
    "external_id": "编号",
    "type": "类型",
    "title": "标题",
    "content": "正文",
    "legal_basis": "法律依据",
    "category": "执法类别",
    "document_no": "文书号",
    "decision_date": "决定日期",
    "case_no": "案件编号",
    "outcome": "处理结果",
    "subject_type": "当事人类型",
    "subject_name": "当事人名称",
    "subject_id": "当事人证件号/统一社会信用代码",
    "effective_from": "生效日期",
    "effective_until": "失效日期",
    "details": "类型字段（JSON）",
    "publish": "立即公开",
}


def typed_fields(form: Any) -> dict[str, str]:
    """The form's fields as typed (strings), nothing else: what the preview carries to the confirm step."""
    return {name: str(form.get(name, "")) for name in FORM_FIELDS if isinstance(form.get(name, ""), str)}


def submission(typed: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The external id and the validated submission; Invalid naming each refused field."""
    external_id = typed.get("external_id", "").strip()
    body: dict[str, Any] = {name: typed[name].strip() for name in TEXT_FIELDS if typed.get(name, "").strip()}
    type_ = typed.get("type", "").strip()
    body["type"] = type_
    body["phase"] = PHASE_OF_TYPE.get(type_, "")
    body["publish"] = typed.get("publish") == "1"
    errors: dict[str, list[str]] = {}
    if not external_id:
        errors["external_id"] = ["不能为空"]
    if typed.get("details", "").strip():
        try:
            body["details"] = json.loads(typed["details"])
        except ValueError:
            errors["details"] = ["不是有效的 JSON"]
    try:
        data = DisclosurePutSchema().load(body)
    except ma.ValidationError as error:
        errors.update(error.normalized_messages())
    if errors:
        raise Invalid("提交的内容有误，请按提示修改", errors=errors)
    return external_id, data


def fields_of(item: Disclosure) -> dict[str, str]:
    """An item's submitted fields as the form shows them, to correct it."""
    typed = {name: "" if getattr(item, name) is None else str(getattr(item, name)) for name in TEXT_FIELDS}
    typed["external_id"], typed["type"] = item.external_id, item.type
    typed["details"] = json.dumps(item.details, ensure_ascii=False, indent=2) if item.details else ""
    typed["publish"] = "1"
    return typed

"""Request bodies for the publishing API, valid for their type unless a test changes them."""

from __future__ import annotations

from typing import Any


def decision(**overrides: Any) -> dict[str, Any]:
    body = {
        "phase": "post",
        "type": "decision",
        "category": "penalty",
        "title": "泉州市某食品店销售过期食品行政处罚决定书",
        "content": "当事人销售超过保质期的食品，违反《中华人民共和国食品安全法》第三十四条，决定罚款五千元。",
        "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
        "document_no": "泉市监罚〔2025〕101号",
        "decision_date": "2025-09-30",
        "subject_type": "organization",
        "subject_name": "泉州市鲤城区某食品店",
        "subject_id": "92350502MA2Y12345X",
    }
    body.update(overrides)
    return body


def power(**overrides: Any) -> dict[str, Any]:
    body = {
        "phase": "pre",
        "type": "power",
        "title": "对销售不符合食品安全标准食品的行政处罚",
        "legal_basis": "《中华人民共和国食品安全法》第一百二十四条",
        "details": {"matter": "食品安全行政处罚", "basis": "《食品安全法》", "time_limit": "九十日"},
    }
    body.update(overrides)
    return body


def service_guide(**overrides: Any) -> dict[str, Any]:
    body = {
        "phase": "pre",
        "type": "service_guide",
        "title": "食品经营许可办事指南",
        "content": "申请人通过政务服务网提交申请材料，行政许可决定在二十个工作日内作出。",
    }
    body.update(overrides)
    return body

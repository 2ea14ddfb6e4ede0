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
        "subject_id": "92350502MA2Y12345P",
    }
    body.update(overrides)
    # The 双公示 fields its category asks for, under any details a test gives (a test's own keys win).
    body["details"] = {**CREDIT_DETAILS.get(body["category"], {}), **(body.get("details") or {})}
    if body["category"] == "licensing":
        body.setdefault("effective_from", body["decision_date"])
    return body


CREDIT_DETAILS: dict[str, dict[str, Any]] = {
    "penalty": {
        "penalty_classes": ["warning"],
        "violation_type": "销售超过保质期的食品",
        "violation_facts": "当事人在店内销售超过保质期的食品。",
        "penalty_content": "警告",
        "legal_representative": "陈某某",
    },
    "licensing": {
        "licence_class": "ordinary",
        "licence_name": "食品经营许可证",
        "licence_no": "JY13505020012345",
        "licence_content": "预包装食品销售",
    },
}


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


def discretion_benchmark(**overrides: Any) -> dict[str, Any]:
    body = {
        "phase": "pre",
        "type": "discretion_benchmark",
        "title": "占道经营行政处罚裁量基准",
        "details": {
            "matter": "擅自占用城市道路经营",
            "matter_code": "CG-0101",
            "basis": "《城市道路管理条例》第四十二条",
            "entries": [
                {"circumstances": "首次违法且危害后果轻微并及时改正", "grade": "轻微", "range": "不予处罚"},
                {"circumstances": "经责令改正拒不改正", "grade": "一般", "range": "罚款 2000-5000 元"},
                {"circumstances": "造成交通阻塞或安全事故", "grade": "严重", "range": "罚款 5000-20000 元"},
            ],
        },
    }
    body.update(overrides)
    return body


def exemption_list(**overrides: Any) -> dict[str, Any]:
    body = {
        "phase": "pre",
        "type": "exemption_list",
        "title": "市场监管领域轻微违法行为减免责清单",
        "details": {
            "matters": [
                {
                    "matter": "未按规定公示营业执照",
                    "measure": "no_penalty",
                    "conditions": "首次违法且危害后果轻微并及时改正",
                    "basis": "《中华人民共和国行政处罚法》第三十三条第一款",
                },
                {
                    "matter": "销售标签瑕疵预包装食品",
                    "matter_code": "SC-0203",
                    "measure": "lenient",
                    "conditions": "主动消除或者减轻违法行为危害后果",
                    "basis": "《中华人民共和国行政处罚法》第三十二条",
                },
            ]
        },
    }
    body.update(overrides)
    return body


def inspection_list(**overrides: Any) -> dict[str, Any]:
    body = {
        "phase": "pre",
        "type": "inspection_list",
        "title": "生态环境领域双随机抽查事项清单",
        "details": {
            "subject": "泉州市生态环境局",
            "basis": "《中华人民共和国环境保护法》第二十四条",
            "targets": "排污许可重点管理单位",
            "content": "排污许可证执行情况",
            "ratio": "5%",
            "method": "双随机、一公开",
            "frequency": "每年一次",
        },
    }
    body.update(overrides)
    return body

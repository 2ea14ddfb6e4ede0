"""Worked examples of the case API's request bodies, as the OpenAPI document shows them. They make one story:
two officers registered with the officer API's example record a penalty case and submit it for legal review;
each is accepted as written (tests/test_openapi_contract.py)."""

from .models import CHECKLIST

BADGE_NOS = ("35050021001", "35050021002")

CASE_NO = "QSJ-2026-0128"

CASE = {
    "category": "penalty",
    "major": False,
    "matter": "对经营超过保质期的食品的行政处罚",
    "matter_code": "330217142000",
    "officers": list(BADGE_NOS),
    "subject_type": "organization",
    "subject_name": "泉州市鲤城区某食品商行有限公司",
    "opened_on": "2026-10-28",
}

RECORDS = {
    "records": [
        {
            "step": "filing",
            "time": "2026-10-28T09:30:00+08:00",
            "officers": list(BADGE_NOS),
            "text": "经初步核查，当事人涉嫌销售超过保质期的食品，符合立案条件，予以立案。",
        },
        {
            "step": "evidence",
            "time": "2026-10-29T10:00:00+08:00",
            "ended_at": "2026-10-29T10:40:00+08:00",
            "officers": list(BADGE_NOS),
            "place": "泉州市鲤城区中山中路123号",
            "text": "现场检查，对货架上超过保质期的预包装食品拍照取证，制作现场笔录，当事人签字确认。",
            "evidence": [
                {
                    "kind": "photo",
                    "sha256": "3b8f0c6e2a1d4f5b7c9e0a2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d2f",
                    "size": 482113,
                    "uri": "oss://qzscjgj-evidence/2026/0128/shelf-01.jpg",
                    "captured_at": "2026-10-29T10:12:00+08:00",
                }
            ],
        },
    ]
}

CASE_DOMAINS = {"domains": {"penalty": ["市场监管"], "licensing": ["市场监管"]}}

REVIEWER_BADGE = "35050021009"
REVIEWER = {"name": "王立新", "qualification": "法律职业资格 (A 类)", "qualified_on": "2019-09-20", "active": True}

_STATEMENTS = {
    "lawful_agency": "本局系法定的食品安全监督管理部门，具有执法主体资格。",
    "qualified_officers": "承办人陈建华、林晓燕均持有有效执法证件。",
    "clear_facts": "当事人销售超过保质期的预包装食品，货值金额八百元，事实清楚。",
    "sufficient_evidence": "有现场笔录、照片、进货台账和当事人陈述为证。",
    "correct_law": "适用《中华人民共和国食品安全法》第一百二十四条第一款第（五）项。",
    "proper_discretion": "初次违法且及时改正，按裁量基准从轻处罚。",
    "lawful_procedure": "已依法告知陈述申辩权利，当事人未提出听证。",
    "within_power": "属本局法定职权范围。",
    "complete_documents": "立案审批表、现场笔录、调查终结报告等文书齐全。",
    "crime_transfer": "货值金额较小，未涉嫌犯罪，无需移送。",
}
REVIEW = {
    "checklist": {key: _STATEMENTS[key] for key in CHECKLIST},
    "materials": [
        {"name": name, "sha256": sha256, "size": size}
        for name, sha256, size in (
            ("拟作出的执法决定书", "5d41402abc4b2a76b9719d911017c592ae2f0c1b9d3e4f5a6b7c8d9e0f1a2b3c", 48211),
            ("案件调查终结报告", "7e3c9a1f5b2d8c4e6a0f3b7d9c1e5a2f4b6d8e0c2a4f6b8d1e3c5a7f9b0d2e4c", 66370),
            ("证据材料", "a1f3c5e7b9d0f2a4c6e8b1d3f5a7c9e2b4d6f8a0c3e5b7d9f1a3c5e7b9d1f3a5", 2483015),
            ("法律依据", "c2e4a6b8d0f1c3e5a7b9d2f4c6e8a0b3d5f7c9e1a4b6d8f0c2e5a7b9d1f3c6e8", 15742),
        )
    ],
}

REVIEW_WITHDRAW = {"reason": "补充进货台账后重新送审"}

_REASONS = {key: "经审查，符合规定。" for key in CHECKLIST} | {
    "proper_discretion": "当事人系初次违法且及时改正，按裁量基准从轻处罚适当。",
}
OPINION = {"outcome": "approve", "reasons": _REASONS, "comment": "同意按拟定意见作出处罚决定。"}

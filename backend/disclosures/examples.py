"""A worked example of each disclosure type's PUT body, as the OpenAPI document shows them.

Each is accepted as written by any agency (a 司法行政部门 for negative_list) that reports no cases;
tests/test_openapi_contract.py publishes every one of them.
"""

from __future__ import annotations

from typing import Any

from .models import LABELS

_LAW = "《中华人民共和国食品安全法》"

EXAMPLES: dict[str, dict[str, Any]] = {
    "agency_profile": {
        "phase": "pre",
        "type": "agency_profile",
        "title": "泉州市市场监督管理局执法主体信息",
        "content": "执法主体：泉州市市场监督管理局。地址：泉州市丰泽区东海街道刺桐路689号。"
        "职责：负责本市市场综合监督管理，依法查处食品安全、产品质量、价格、广告等违法行为。",
        "legal_basis": "《泉州市市场监督管理局职能配置、内设机构和人员编制规定》",
    },
    "power": {
        "phase": "pre",
        "type": "power",
        "title": "对未取得食品经营许可从事食品经营活动的行政处罚",
        "legal_basis": f"{_LAW}第一百二十二条",
        "details": {
            "matter": "对未取得食品经营许可从事食品经营活动的行政处罚",
            "code": "330217131000",
            "domain": "市场监管",
            "basis": f"{_LAW}第三十五条、第一百二十二条",
            "procedure": "立案、调查取证、告知、听证（依申请）、法制审核、决定、送达、执行",
            "time_limit": "自立案之日起九十日内作出处理决定",
        },
    },
    "inspection_list": {
        "phase": "pre",
        "type": "inspection_list",
        "title": "2026年度食品经营者双随机抽查事项清单",
        "details": {
            "subject": "泉州市市场监督管理局食品经营安全监督管理科",
            "basis": f"{_LAW}第一百一十条；《市场监督管理行政处罚程序规定》",
            "targets": "辖区内取得食品经营许可证的食品经营者",
            "content": "许可条件保持情况、进货查验记录、食品贮存条件、从业人员健康管理",
            "ratio": "5%",
            "method": "双随机、一公开 现场检查",
            "frequency": "每年一次",
        },
    },
    "service_guide": {
        "phase": "pre",
        "type": "service_guide",
        "title": "食品经营许可办事指南",
        "content": "申请材料：食品经营许可申请书、营业执照复印件、与食品经营相适应的主要设备设施布局和操作流程文件。"
        "办理时限：十个工作日。办理地点：泉州市行政服务中心二楼市场监管窗口。收费标准：不收费。",
        "legal_basis": f"{_LAW}第三十五条；《食品经营许可和备案管理办法》",
    },
    "procedure": {
        "phase": "pre",
        "type": "procedure",
        "title": "行政处罚一般程序流程图",
        "content": "立案→调查取证→案件审核→告知当事人拟作出的行政处罚内容及事实、理由、依据和陈述申辩、听证权利"
        "→法制审核（重大案件）→集体讨论（情节复杂或者重大违法）→作出决定→送达→执行→结案。",
        "legal_basis": "《中华人民共和国行政处罚法》第五十四条至第六十七条",
    },
    "remedy": {
        "phase": "pre",
        "type": "remedy",
        "title": "行政执法救济渠道",
        "content": "当事人对本机关作出的行政行为不服的，可以自知道该行政行为之日起六十日内"
        "向泉州市人民政府申请行政复议，"
        "或者自知道之日起六个月内向泉州市丰泽区人民法院提起行政诉讼。投诉举报电话：12345。",
        "legal_basis": "《中华人民共和国行政复议法》第二十条；《中华人民共和国行政诉讼法》第四十六条",
    },
    "officer_exam_list": {
        "phase": "pre",
        "type": "officer_exam_list",
        "title": "2026年度行政执法资格考试合格人员名单",
        "content": "经福建省行政执法资格考试，下列人员成绩合格：陈建华、林晓燕、黄志明、吴丽娟、郑国强。",
    },
    "review_catalogue": {
        "phase": "pre",
        "type": "review_catalogue",
        "title": "重大执法决定法制审核目录清单（2026年版）",
        "details": {
            "matters": [
                {"code": "330217131000", "name": "对未取得食品经营许可从事食品经营活动的行政处罚"},
                {"code": "330217095000", "name": "吊销食品经营许可证"},
            ],
            "materials": ["案件调查终结报告", "拟作出的行政处罚决定书", "证据材料", "听证笔录"],
        },
    },
    "av_matter_list": {
        "phase": "pre",
        "type": "av_matter_list",
        "title": "行政执法音像记录事项清单",
        "details": {
            "matters": [
                {"step": "evidence", "recording": "av", "matter": "现场检查、调查取证"},
                {"step": "preservation", "recording": "continuous", "matter": "查封扣押财物"},
                {"step": "hearing", "categories": ["penalty"], "recording": "continuous", "matter": "听证"},
                {"step": "service", "recording": "text", "matter": "直接送达文书"},
            ]
        },
    },
    "discretion_benchmark": {
        "phase": "pre",
        "type": "discretion_benchmark",
        "title": "销售超过保质期食品行政处罚裁量基准",
        "details": {
            "matter": "对经营超过保质期的食品的行政处罚",
            "matter_code": "330217142000",
            "basis": f"{_LAW}第一百二十四条第一款第（五）项",
            "entries": [
                {
                    "circumstances": "初次违法、货值金额不足一万元且及时改正",
                    "grade": "从轻",
                    "range": "没收违法所得和违法经营的食品，并处五万元以上七万元以下罚款",
                },
                {
                    "circumstances": "货值金额一万元以上或者造成危害后果",
                    "grade": "一般",
                    "range": "没收违法所得和违法经营的食品，并处货值金额十倍以上十五倍以下罚款",
                },
            ],
        },
    },
    "exemption_list": {
        "phase": "pre",
        "type": "exemption_list",
        "title": "市场监管领域轻微违法行为不予处罚清单",
        "details": {
            "matters": [
                {
                    "matter": "未按规定公示营业执照",
                    "matter_code": "330217201000",
                    "measure": "no_penalty",
                    "conditions": "首次违法、危害后果轻微并在责令期限内改正",
                    "basis": "《中华人民共和国行政处罚法》第三十三条第一款",
                }
            ]
        },
    },
    "negative_list": {
        "phase": "pre",
        "type": "negative_list",
        "title": "泉州市行政执法负面清单（2026年11月）",
        "details": {
            "as_of": "2026-11-30",
            "entries": [
                {
                    "agency": "11350500MB1234567X",
                    "agency_name": "泉州市某区城市管理局",
                    "matter": "对未经批准擅自占用城市道路的行政处罚",
                    "figures": {
                        "complaints": 6,
                        "corrections": 3,
                        "withdrawals": {"confirmed_illegal": 2},
                        "overdue": 4,
                        "deductions": 7.5,
                    },
                    "crossed": ["complaints", "overdue"],
                    "entered_on": "2026-11-30",
                }
            ],
        },
    },
    "window_notice": {
        "phase": "during",
        "type": "window_notice",
        "title": "市场监管窗口工作人员公示",
        "details": {
            "staff": [{"name": "林晓燕", "post": "食品经营许可受理"}, {"name": "黄志明", "post": "企业登记审核"}],
            "complaint_channel": "投诉电话 0595-22591234 或 12345",
        },
    },
    "on_site_notice": {
        "phase": "during",
        "type": "on_site_notice",
        "title": "现场检查执法告知",
        "content": "执法人员陈建华（执法证号 35050021001）、林晓燕（执法证号 35050021002）依法对你单位进行现场检查。"
        "你单位有权核对执法证件，有权陈述、申辩，认为执法人员与本案有直接利害关系的，有权申请回避。",
        "legal_basis": "《中华人民共和国行政处罚法》第五十五条",
    },
    "decision": {
        "phase": "post",
        "type": "decision",
        "category": "penalty",
        "title": "泉州市鲤城区某食品商行销售过期食品行政处罚决定书",
        "content": "当事人于2026年10月在其经营场所销售超过保质期的预包装食品，货值金额八百元。"
        "上述行为违反了《中华人民共和国食品安全法》第三十四条第（十）项的规定，"
        "依据该法第一百二十四条第一款第（五）项，决定没收违法所得八百元，并处罚款五万元。",
        "legal_basis": f"{_LAW}第一百二十四条第一款第（五）项",
        "document_no": "泉市监罚〔2026〕128号",
        "decision_date": "2026-11-18",
        "outcome": "罚款",
        "subject_type": "organization",
        "subject_name": "泉州市鲤城区某食品商行有限公司",
        "subject_id": "91350502MA2Y8K3X7Q",
        "details": {
            "penalty_classes": ["fine", "confiscate_gains"],
            "fine_amount": "50000.00",
            "confiscation_amount": "800.00",
            "violation_type": "销售超过保质期的食品",
            "violation_facts": "当事人于2026年10月在其经营场所销售超过保质期的预包装食品，货值金额八百元。",
            "penalty_content": "没收违法所得八百元，并处罚款五万元",
            "legal_representative": "陈某某",
        },
        "attachments": [
            {
                "name": "行政处罚决定书.pdf",
                "url": "https://scjgj.quanzhou.gov.cn/files/2026/quanshijianfa-128.pdf",
                "sha256": "9f2c4a7b1e3d5f6a8b0c2d4e6f8a0b1c3d5e7f9a1b2c3d4e5f6a7b8c9d0e1f2a",
                "size": 284116,
                "media_type": "application/pdf",
            }
        ],
    },
    "inspection_result": {
        "phase": "post",
        "type": "inspection_result",
        "title": "泉州市丰泽区某餐饮有限公司双随机抽查结果",
        "content": "2026年11月对该单位开展双随机抽查，检查许可条件保持、进货查验记录、从业人员健康管理等事项，"
        "未发现问题。",
        "decision_date": "2026-11-20",
        "outcome": "未发现问题",
        "subject_type": "organization",
        "subject_name": "泉州市丰泽区某餐饮有限公司",
        "subject_id": "91350503MA31L2Q58D",
    },
    "annual_statistics": {
        "phase": "post",
        "type": "annual_statistics",
        "title": "泉州市市场监督管理局2025年度行政执法数据",
        "details": {"year": 2025, "counts": {"licensing": 3124, "penalty": 486, "coercion": 37, "inspection": 2210}},
    },
}

WITHDRAWAL = {
    "reason": "revoked",
    "explanation": "该行政处罚决定已被泉州市人民政府行政复议决定撤销，现予撤下。",
    "document_no": "泉政复决〔2026〕45号",
}

# For @arguments(examples=...): one named example per type.
OPENAPI_EXAMPLES = {type_: {"summary": f"{LABELS[type_]} ({type_})", "value": body} for type_, body in EXAMPLES.items()}

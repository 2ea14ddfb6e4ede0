"""Worked examples of the officer API's request bodies, as the OpenAPI document shows them (accepted as written:
tests/test_openapi_contract.py)."""

OFFICER = {
    "name": "陈建华",
    "domains": ["市场监管"],
    "regions": ["350500"],
    "valid_from": "2024-01-01",
    "valid_until": "2028-12-31",
    "exam_date": "2023-11-18",
}

STATUS = {"status": "suspended", "reason": "调离执法岗位，暂扣执法证件"}

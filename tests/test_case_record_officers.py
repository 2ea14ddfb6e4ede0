"""持证上岗: a case record names only officers whose credential was in force at the record's time."""

import datetime as dt

import pytest
from sqlalchemy import select, update

from backend.agencies.models import Agency
from backend.audit.models import AuditEntry
from tests.factories import AgencyFactory
from tests.factories.officers import register

URL = "/api/v1/publish"
PAIR = ("35050012345", "35050012346")


@pytest.fixture
def mkt(client, auth, db_session):
    AgencyFactory(code="MKT", name="泉州市市场监督管理局")
    headers = auth.headers("MKT")
    register(client, headers, *PAIR, valid_from="2024-01-01", valid_until="2028-12-31")
    case = {"category": "penalty", "matter": "食品安全行政处罚", "officers": list(PAIR), "opened_on": "2026-03-01"}
    assert client.put(f"{URL}/cases/C1", json=case, headers=headers).status_code == 201
    return headers


def beijing(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))


def set_status(client, headers, clock, badge, status, when):
    clock.at = beijing(when)
    response = client.post(
        f"{URL}/officers/{badge}/status", json={"status": status, "reason": "调查期间暂扣"}, headers=headers
    )
    assert response.status_code == 200, response.get_json()


def post(client, headers, *records):
    return client.post(f"{URL}/cases/C1/records", json={"records": list(records)}, headers=headers)


def record(at, officers=PAIR, step="investigation"):
    return {"step": step, "time": beijing(at).isoformat(), "officers": list(officers), "text": "现场检查"}


def refusals(response):
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]["json"]["records"]


def test_officers_with_a_credential_in_force_may_record(client, mkt):
    added = post(client, mkt, record("2026-03-02T09:00:00"), record("2026-03-03T09:00:00", ("35050012345",), "review"))
    assert added.status_code == 201 and [r["seq"] for r in added.get_json()["records"]] == [1, 2]


def test_an_unknown_badge_is_refused_and_nothing_is_recorded(client, mkt):
    refused = post(
        client, mkt, record("2026-03-02T09:00:00"), record("2026-03-02T10:00:00", ("35050012345", "35059999999"))
    )
    assert refusals(refused) == {"1": {"officers": ["35059999999: not a registered officer"]}}
    assert refused.get_json()["message"] == "执法人员须持有效执法证件方可从事执法活动"
    assert client.get(f"{URL}/cases/C1/records", headers=mkt).get_json()["records"] == []


def test_a_badge_suspended_at_the_record_time_is_refused_even_after_reinstatement(client, mkt, frozen_clock):
    set_status(client, mkt, frozen_clock, "35050012346", "suspended", "2026-03-02T08:00:00")
    set_status(client, mkt, frozen_clock, "35050012346", "active", "2026-03-05T08:00:00")
    during = post(client, mkt, record("2026-03-02T09:00:00"))
    assert refusals(during) == {"0": {"officers": ["35050012346: suspended on 2026-03-02"]}}
    # Before the suspension and after the reinstatement the same badge could act.
    assert post(client, mkt, record("2026-03-02T07:59:00"), record("2026-03-05T09:00:00")).status_code == 201


def test_a_revoked_badge_is_refused_from_its_revocation_on(client, mkt, frozen_clock):
    set_status(client, mkt, frozen_clock, "35050012345", "revoked", "2026-03-10T17:00:00")
    refused = post(client, mkt, record("2026-03-02T09:00:00"), record("2026-03-11T09:00:00"))
    assert refusals(refused) == {"1": {"officers": ["35050012345: revoked on 2026-03-10"]}}


def test_an_expired_or_not_yet_valid_credential_is_refused(client, mkt):
    register(client, mkt, "35050012347", valid_from="2026-03-01", valid_until="2026-03-31")
    refused = post(
        client,
        mkt,
        record("2026-02-28T09:00:00", ("35050012345", "35050012347")),
        record("2026-03-15T09:00:00", ("35050012345", "35050012347")),
        record("2026-04-01T09:00:00", ("35050012347", "35050012346")),
    )
    assert refusals(refused) == {
        "0": {"officers": ["35050012347: not yet valid: valid from 2026-03-01"]},
        "2": {"officers": ["35050012347: expired: valid until 2026-03-31"]},
    }


def test_an_officer_of_another_agency_may_record_in_joint_enforcement(client, auth, mkt):
    AgencyFactory(code="ENV", name="泉州市生态环境局")
    register(client, auth.headers("ENV"), "35050088888")
    assert post(client, mkt, record("2026-03-02T09:00:00", ("35050012345", "35050088888"))).status_code == 201


def test_the_agencys_own_suspended_officer_is_not_covered_by_another_agencys_same_badge(
    client, auth, mkt, frozen_clock
):
    AgencyFactory(code="ENV", name="泉州市生态环境局")
    register(client, auth.headers("ENV"), "35050012346", valid_from="2024-01-01", valid_until="2028-12-31")
    set_status(client, mkt, frozen_clock, "35050012346", "suspended", "2026-03-02T08:00:00")
    refused = post(client, mkt, record("2026-03-02T09:00:00"))
    assert refusals(refused) == {"0": {"officers": ["35050012346: suspended on 2026-03-02"]}}


# -- enforcement domains the agency declared per case category -----------------------------------
def declare(client, headers, domains):
    return client.put(f"{URL}/settings/case-domains", json={"domains": domains}, headers=headers)


def test_without_a_declaration_no_domain_is_checked(client, mkt):
    assert client.get(f"{URL}/settings/case-domains", headers=mkt).get_json() == {"domains": {}}
    register(client, mkt, "35050012347", domains=["交通运输"])
    assert post(client, mkt, record("2026-03-02T09:00:00", ("35050012345", "35050012347"))).status_code == 201


def test_a_badge_out_of_the_declared_domains_is_refused_naming_them(client, mkt, db_session):
    register(client, mkt, "35050012347", domains=["交通运输"])
    # A declaration for another category changes nothing for this penalty case.
    assert declare(client, mkt, {"licensing": ["食品安全"]}).status_code == 200
    assert post(client, mkt, record("2026-03-02T09:00:00", ("35050012345", "35050012347"))).status_code == 201
    declared = declare(client, mkt, {"penalty": ["食品安全", "药品监管"]})
    assert declared.status_code == 200 and declared.get_json() == {"domains": {"penalty": ["药品监管", "食品安全"]}}
    assert client.get(f"{URL}/settings/case-domains", headers=mkt).get_json() == declared.get_json()
    refused = post(client, mkt, record("2026-03-03T09:00:00", ("35050012345", "35050012347")))
    assert refusals(refused) == {
        "0": {
            "officers": ["35050012347: out of domain: holds 交通运输, case category penalty allows 药品监管、食品安全"]
        }
    }
    # The pair holds 食品安全 (and 市场监管): in domain.
    assert post(client, mkt, record("2026-03-03T09:00:00")).status_code == 201
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "agency.case_domains")).all()
    assert [a.detail["after"] for a in audit] == [{"licensing": ["食品安全"]}, {"penalty": ["药品监管", "食品安全"]}]


@pytest.mark.parametrize(
    "domains", [{"fine": ["食品安全"]}, {"penalty": []}, {"penalty": [""]}, {"penalty": "食品安全"}]
)
def test_a_declaration_names_known_categories_and_domains(client, mkt, domains):
    refused = declare(client, mkt, domains)
    assert refused.status_code == 422 and "domains" in refused.get_json()["errors"]["json"]


def test_a_declaration_racing_another_change_of_the_agency_is_refused_not_a_500(client, mkt, db_session):
    """Another writer changed the agency row after this request read it: 409, nothing written."""
    agency = db_session.scalar(select(Agency).where(Agency.code == "MKT"))
    db_session.execute(
        update(Agency)
        .where(Agency.id == agency.id)
        .values(version=Agency.version + 1)
        .execution_options(synchronize_session=False)
    )
    raced = declare(client, mkt, {"penalty": ["食品安全"]})
    assert raced.status_code == 409 and list(raced.get_json()["errors"]) == ["version"]
    db_session.expire_all()
    assert client.get(f"{URL}/settings/case-domains", headers=mkt).get_json() == {"domains": {}}
    assert declare(client, mkt, {"penalty": ["食品安全"]}).status_code == 200

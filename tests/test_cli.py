from sqlalchemy import func, select

from backend.accounts.models import AdminUser
from backend.agencies.models import Agency
from backend.audit.models import AuditEntry
from backend.demo import load_demo_data
from backend.disclosures.models import Disclosure
from tests.factories import AgencyFactory


def test_admin_password_comes_from_stdin_and_is_stored_hashed(runner, db_session):
    AgencyFactory(code="MKT")
    result = runner.invoke(
        args=["admin", "create", "--username", "zhang", "--role", "handler", "--agency", "MKT"],
        input="correct horse battery 9\n",
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalar(select(AdminUser).where(AdminUser.username == "zhang"))
    assert user.agency.code == "MKT" and user.region_code == "350500"
    assert "correct horse" not in user.password_hash and user.password_hash.startswith("scrypt:")
    audit = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "admin.create"))
    assert audit.target_id == "zhang" and "password" not in str(audit.detail)


def test_admin_roles_need_their_scope_and_a_real_password(runner, db_session):
    cases = [
        (["--username", "a", "--role", "handler"], "agency"),
        (["--username", "b", "--role", "supervisor"], "region"),
    ]
    for args, field in cases:
        result = runner.invoke(args=["admin", "create", *args], input="a long enough password 1\n")
        assert result.exit_code == 1 and f"'{field}'" in result.output
    short = runner.invoke(args=["admin", "create", "--username", "c", "--role", "admin"], input="short\n")
    assert short.exit_code == 1 and "'password'" in short.output
    ok = runner.invoke(
        args=["admin", "create", "--username", "li", "--role", "supervisor", "--region", "350500"],
        input="a long enough password 1\n",
    )
    assert ok.exit_code == 0
    again = runner.invoke(args=["admin", "create", "--username", "li", "--role", "admin"], input="another password 2\n")
    assert again.exit_code == 1 and "'username'" in again.output


def test_demo_data_loads_once_into_an_empty_database(db_session):
    assert load_demo_data() == 8
    agencies = db_session.scalars(select(Agency)).all()
    judicial = next(a for a in agencies if a.name == "泉州市司法局")
    assert all(a.parent is not None for a in agencies if a is not judicial)
    published = db_session.scalars(select(Disclosure).where(Disclosure.status == "published")).all()
    assert len(published) == 8 and {d.phase for d in published} == {"pre", "post"}
    food = next(d for d in published if "过期食品" in d.title)
    assert "13905951234" not in food.public["content"] and food.privacy_report  # the gate ran
    assert load_demo_data() == 0
    assert db_session.scalar(select(func.count()).select_from(Agency)) == 8


def test_make_run_loads_demo_data_unless_demo_data_is_0(app, runner, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_DATA", False)
    skipped = runner.invoke(args=["demo", "load", "--if-enabled"])
    assert skipped.exit_code == 0 and "DEMO_DATA=0" in skipped.output
    assert db_session.scalar(select(func.count()).select_from(Agency)) == 0
    monkeypatch.setitem(app.config, "DEMO_DATA", True)
    loaded = runner.invoke(args=["demo", "load", "--if-enabled"])
    assert loaded.exit_code == 0 and "agencies created" in loaded.output, loaded.output
    assert db_session.scalar(select(func.count()).select_from(Agency)) > 0

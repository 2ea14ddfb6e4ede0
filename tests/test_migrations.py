"""The schema is Alembic's: migrations build exactly what the models describe, and go back down."""

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, insert, inspect, select, table
from sqlalchemy import text as sa_text

import backend.models  # noqa: F401
from backend import create_app
from backend.agencies.models import Agency
from backend.cases.models import Case, CaseRecord
from backend.disclosures.models import Disclosure
from backend.extensions.database import Model
from backend.officers.models import Officer, OfficerStatusChange
from tests.conftest import base_config, temporary_database


@pytest.fixture
def empty_app(tmp_path):
    """An app on a new, empty database (not migrated: the test runs the migrations)."""
    with temporary_database(tmp_path) as url:
        app = create_app(base_config(url, tmp_path))
        yield app
        app.extensions["officer_snapshots"].stop()
        app.extensions["database"].engine.dispose()


def test_upgrade_matches_the_models_and_downgrade_removes_everything(empty_app):
    app = empty_app
    runner = app.test_cli_runner()
    engine = app.extensions["database"].engine
    with app.app_context():
        assert runner.invoke(args=["db", "upgrade"], catch_exceptions=False).exit_code == 0
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Model.metadata)
        assert diff == []
        assert runner.invoke(args=["db", "downgrade", "base"], catch_exceptions=False).exit_code == 0
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert runner.invoke(args=["db", "upgrade"], catch_exceptions=False).exit_code == 0


def test_privacy_reports_by_kind_become_reports_by_kind_and_field(empty_app):
    """0013: a report written before it ({kind: count}) keeps its counts under "*" (fields not recorded)."""
    app = empty_app
    runner = app.test_cli_runner()
    engine = app.extensions["database"].engine
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    with app.app_context():
        assert runner.invoke(args=["db", "upgrade", "0011"], catch_exceptions=False).exit_code == 0
        with engine.begin() as conn:
            conn.execute(
                insert(Agency.__table__).values(
                    id=1, code="M", name="泉州市市场监督管理局", level="city", region_code="350500", **stamps
                )
            )
            row = {"phase": "post", "type": "decision", "title": "t", "region_code": "350500", **stamps}
            for id_, report in (("old", {"mobile": 2, "person_name": 1}), ("none", {})):
                conn.execute(
                    insert(Disclosure.__table__).values(
                        id=id_,
                        agency_id=1,
                        external_id=id_,
                        content_hash="0" * 64,
                        status="published",
                        privacy_report=report,
                        **row,
                    )
                )

        def reports():
            with engine.connect() as conn:
                return dict(conn.execute(select(Disclosure.id, Disclosure.privacy_report)).all())

        assert runner.invoke(args=["db", "upgrade"], catch_exceptions=False).exit_code == 0
        assert reports() == {"old": {"mobile": {"*": 2}, "person_name": {"*": 1}}, "none": {}}
        assert runner.invoke(args=["db", "downgrade", "0011"], catch_exceptions=False).exit_code == 0
        assert reports() == {"old": {"mobile": 2, "person_name": 1}, "none": {}}


def test_officers_status_history_starts_with_each_current_status(empty_app):
    """0015: each officer's current status is its history, from its last change (or registration) on."""
    app = empty_app
    runner = app.test_cli_runner()
    engine = app.extensions["database"].engine
    registered = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    suspended = dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)
    stamps = {"created_at": registered, "updated_at": registered, "version": 1}
    with app.app_context():
        assert runner.invoke(args=["db", "upgrade", "0014"], catch_exceptions=False).exit_code == 0
        with engine.begin() as conn:
            conn.execute(
                insert(Agency.__table__).values(
                    id=1, code="M", name="泉州市市场监督管理局", level="city", region_code="350500", **stamps
                )
            )
            officer = {"agency_id": 1, "name": "李明", "domains": [], "regions": [], "content_hash": "0" * 64}
            conn.execute(insert(Officer.__table__).values(id=1, badge_no="0001", status="active", **officer, **stamps))
            conn.execute(
                insert(Officer.__table__).values(
                    id=2,
                    badge_no="0002",
                    status="suspended",
                    status_reason="调查期间暂扣",
                    status_changed_at=suspended,
                    **officer,
                    **stamps,
                )
            )
        assert runner.invoke(args=["db", "upgrade"], catch_exceptions=False).exit_code == 0
        with engine.connect() as conn:
            history = conn.execute(
                select(
                    OfficerStatusChange.officer_id,
                    OfficerStatusChange.at,
                    OfficerStatusChange.status,
                    OfficerStatusChange.reason,
                ).order_by(OfficerStatusChange.officer_id)
            ).all()
        assert [tuple(row) for row in history] == [
            (1, registered, "active", None),
            (2, suspended, "suspended", "调查期间暂扣"),
        ]


def test_agencies_with_cases_began_reporting_with_their_first_and_major_cases_stay_unlisted(empty_app):
    """0018: an agency's first case dates when it began reporting cases; a case already major (flagged, heard
    or catalogued by title) is taken as major since it was created, so none is listed as made major later."""
    app = empty_app
    runner = app.test_cli_runner()
    engine = app.extensions["database"].engine
    first, second = dt.datetime(2026, 1, 5, 1, tzinfo=dt.UTC), dt.datetime(2026, 2, 5, 1, tzinfo=dt.UTC)
    stamps = {"updated_at": first, "version": 1}
    # The cases table as of 0017 (later columns with Python defaults must not be sent), typed as now.
    cases_then = table(
        "cases",
        *(
            column(name, Case.__table__.c[name].type)
            for name in (
                "agency_id",
                "case_no",
                "category",
                "officers",
                "opened_on",
                "content_hash",
                "matter",
                "major",
                "had_hearing",
                "created_at",
                "updated_at",
                "record_count",
                "missing_av",
                "recording_gaps",
                "late_evidence",
                "decided",
            )
        ),
    )
    with app.app_context():
        assert runner.invoke(args=["db", "upgrade", "0017"], catch_exceptions=False).exit_code == 0
        with engine.begin() as conn:
            for id_, code in ((1, "M"), (2, "T")):
                conn.execute(
                    insert(Agency.__table__).values(
                        id=id_,
                        code=code,
                        name="泉州市测试局",
                        level="city",
                        region_code="350500",
                        created_at=first,
                        **stamps,
                    )
                )
            conn.execute(
                insert(Disclosure.__table__).values(
                    id="cat",
                    agency_id=1,
                    external_id="cat",
                    phase="pre",
                    type="review_catalogue",
                    title="目录",
                    region_code="350500",
                    content_hash="0" * 64,
                    status="published",
                    details={"matters": ["较大数额罚款"]},
                    created_at=first,
                    **stamps,
                )
            )
            case = {
                "agency_id": 1,
                "category": "penalty",
                "officers": [],
                "opened_on": first.date(),
                "content_hash": "x",
                "major": False,
                "had_hearing": False,
                "record_count": 0,
                "missing_av": 0,
                "recording_gaps": 0,
                "late_evidence": 0,
                "decided": False,
            }
            for case_no, created, extra in (
                ("C1", second, {"matter": "警告", "major": True}),
                ("C2", first, {"matter": "警告", "had_hearing": True}),
                ("C3", second, {"matter": "较大数额罚款"}),
                ("C4", second, {"matter": "警告"}),
            ):
                conn.execute(
                    insert(cases_then).values(
                        case_no=case_no, created_at=created, updated_at=created, **{**case, **extra}
                    )
                )
        assert runner.invoke(args=["db", "upgrade"], catch_exceptions=False).exit_code == 0
        with engine.connect() as conn:
            since = dict(conn.execute(select(Agency.code, Agency.reports_cases_since)).all())
            majors = conn.execute(
                sa_text("SELECT case_no, major_since IS NOT NULL, major_by FROM cases ORDER BY case_no")
            ).all()
        assert since == {"M": first, "T": None}
        assert [tuple(row) for row in majors] == [
            ("C1", True, "flag"),
            ("C2", True, "hearing"),
            ("C3", True, "catalogue"),
            ("C4", False, None),
        ]


def test_decided_cases_get_their_decision_date_and_deadline(empty_app):
    """0019: a case decided before it gets the date of its first decision record (Beijing) and the deadline
    counted from it, marked provisional so that recompute-deadlines counts it on the loaded schedules."""
    app = empty_app
    runner = app.test_cli_runner()
    engine = app.extensions["database"].engine
    now = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)
    stamps = {"created_at": now, "updated_at": now}

    def as_of_0017(model, *names):  # the columns the table had then, typed as now
        return table(model.__tablename__, *(column(n, model.__table__.c[n].type) for n in names))

    cases = as_of_0017(
        Case,
        "id",
        "agency_id",
        "case_no",
        "category",
        "major",
        "matter",
        "officers",
        "opened_on",
        "content_hash",
        "record_count",
        "missing_av",
        "late_evidence",
        "had_hearing",
        "decided",
        "created_at",
        "updated_at",
    )
    records = as_of_0017(
        CaseRecord, "case_id", "seq", "step", "at", "officers", "text", "evidence", "received_at", "hash"
    )
    with app.app_context():
        assert runner.invoke(args=["db", "upgrade", "0017"], catch_exceptions=False).exit_code == 0
        with engine.begin() as conn:
            conn.execute(
                insert(Agency.__table__).values(
                    id=1, code="M", name="泉州市市场监督管理局", level="city", region_code="350500", version=1, **stamps
                )
            )
            case = {"agency_id": 1, "category": "penalty", "major": False, "matter": "m", "officers": ["a"]}
            counts = {"content_hash": "0", "missing_av": 0, "late_evidence": 0, "had_hearing": False}
            for id_, decided in ((1, True), (2, False)):
                conn.execute(
                    insert(cases).values(
                        id=id_,
                        case_no=f"C{id_}",
                        opened_on=dt.date(2025, 9, 1),
                        record_count=1,
                        decided=decided,
                        **case,
                        **counts,
                        **stamps,
                    )
                )
            # 2025-09-29 18:00 UTC is 09-30 in Beijing; a second decision record later changes nothing.
            for seq, (step, at) in enumerate(
                (("decision", dt.datetime(2025, 9, 29, 18, tzinfo=dt.UTC)), ("decision", now)), start=1
            ):
                row = {"officers": ["a"], "text": "t", "evidence": [], "received_at": now, "hash": str(seq)}
                conn.execute(insert(records).values(case_id=1, seq=seq, step=step, at=at, **row))
            conn.execute(insert(records).values(case_id=2, seq=1, step="filing", at=now, **row))
        assert runner.invoke(args=["db", "upgrade"], catch_exceptions=False).exit_code == 0
        with engine.connect() as conn:
            found = conn.execute(
                select(
                    Case.case_no, Case.decided_on, Case.publish_deadline, Case.publish_by, Case.deadline_provisional
                ).order_by(Case.id)
            ).all()
        assert [tuple(row) for row in found] == [
            ("C1", dt.date(2025, 9, 30), dt.date(2025, 10, 16), dt.datetime(2025, 10, 16, 16, tzinfo=dt.UTC), True),
            ("C2", None, None, None, False),
        ]

"""The schema is Alembic's: migrations build exactly what the models describe, and go back down."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import backend.models  # noqa: F401
from backend import create_app
from backend.extensions.database import Model
from tests.conftest import base_config, temporary_database


def test_upgrade_matches_the_models_and_downgrade_removes_everything(tmp_path):
    with temporary_database(tmp_path) as url:
        app = create_app(base_config(url, tmp_path))
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
        engine.dispose()

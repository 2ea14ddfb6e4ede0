"""Alembic environment: runs inside the Flask app, on the app's engine."""

from alembic import context
from flask import current_app

import backend.models  # noqa: F401  (every model registers its table on the metadata)
from backend.extensions.database import Model

with current_app.extensions["database"].engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Model.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

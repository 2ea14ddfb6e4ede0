"""the database's identity, and outbox ids never reused on SQLite, for the search indices to compare

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:30:00.000000
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    identity = op.create_table(
        'database_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_database_identity')),
    )
    op.bulk_insert(identity, [{'id': 1, 'uuid': str(uuid.uuid4())}])
    if op.get_bind().dialect.name == 'sqlite':
        # AUTOINCREMENT: the outbox's last id survives the deletion of its rows (PostgreSQL's sequence does).
        with op.batch_alter_table(
            'search_outbox', recreate='always', table_kwargs={'sqlite_autoincrement': True}
        ):
            pass  # the table is copied into one created with AUTOINCREMENT


def downgrade() -> None:
    # The outbox keeps AUTOINCREMENT on SQLite: nothing before 0014 depends on ids being reused.
    op.drop_table('database_identity')

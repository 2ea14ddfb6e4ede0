"""complaints carry a fingerprint of their content and dedupe window, unique: the database refuses a twin

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 01:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=64), nullable=True))
        batch_op.create_index('uq_complaints_dedupe_key', ['dedupe_key'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('uq_complaints_dedupe_key')
        batch_op.drop_column('dedupe_key')

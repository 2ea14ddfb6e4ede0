"""officers indexed by updated_at, for the workers polling for changes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 19:30:00.000000
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officers_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officers_updated_at'))

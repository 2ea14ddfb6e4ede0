"""Admin sign-in's second factor: a TOTP seed (sealed), when it was confirmed, the last time step used
(a code is good once), and the hashed recovery codes

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('admin_users') as batch:
        batch.add_column(sa.Column('totp_secret', sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column('totp_confirmed_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('totp_recovery', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('admin_users') as batch:
        batch.drop_column('totp_recovery')
        batch.drop_column('totp_last_step')
        batch.drop_column('totp_confirmed_at')
        batch.drop_column('totp_secret')

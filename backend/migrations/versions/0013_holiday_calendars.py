"""holiday schedules loaded by operators (flask calendar load)

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'holiday_calendars',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('document_no', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=True),
        sa.Column('holidays', sa.JSON(), nullable=False),
        sa.Column('makeup_workdays', sa.JSON(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('loaded_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_holiday_calendars')),
    )


def downgrade() -> None:
    op.drop_table('holiday_calendars')

"""负面清单: each matter's stays on the list, with the figures that put it there and when it left

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 03:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'negative_list_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('matter_key', sa.String(length=200), nullable=False),
        sa.Column('matter_name', sa.String(length=200), nullable=False),
        sa.Column('entered_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('entered_figures', sa.JSON(), nullable=False),
        sa.Column('left_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('left_figures', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ['agency_id'], ['agencies.id'], name=op.f('fk_negative_list_entries_agency_id_agencies')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_negative_list_entries')),
    )
    op.create_index(op.f('ix_negative_list_entries_agency_id'), 'negative_list_entries', ['agency_id'])
    op.create_index(op.f('ix_negative_list_entries_entered_at'), 'negative_list_entries', ['entered_at'])
    op.create_index(
        'uq_negative_list_entries_open',
        'negative_list_entries',
        ['agency_id', 'matter_key'],
        unique=True,
        postgresql_where=sa.text('left_at IS NULL'),
        sqlite_where=sa.text('left_at IS NULL'),
    )


def downgrade() -> None:
    op.drop_index('uq_negative_list_entries_open', table_name='negative_list_entries')
    op.drop_index(op.f('ix_negative_list_entries_entered_at'), table_name='negative_list_entries')
    op.drop_index(op.f('ix_negative_list_entries_agency_id'), table_name='negative_list_entries')
    op.drop_table('negative_list_entries')

"""Pre-publication approval: which agencies' pre-phase lists need approval, and the submissions held for it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 03:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'approval_requirements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('approver_agency_id', sa.Integer(), nullable=True),
        sa.Column('set_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['agency_id'], ['agencies.id'], name=op.f('fk_approval_requirements_agency_id_agencies')
        ),
        sa.ForeignKeyConstraint(
            ['approver_agency_id'], ['agencies.id'], name=op.f('fk_approval_requirements_approver_agency_id_agencies')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requirements')),
        sa.UniqueConstraint('agency_id', 'type', name=op.f('uq_approval_requirements_agency_id')),
    )
    op.create_table(
        'approval_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('disclosure_id', sa.String(length=32), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('submitted', sa.JSON(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('submitted_by', sa.String(length=128), nullable=False),
        sa.Column('submitted_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=128), nullable=True),
        sa.Column('decided_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('reasons', sa.Text(), nullable=True),
        sa.Column('log_index', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_approval_requests_agency_id_agencies')),
        sa.ForeignKeyConstraint(
            ['disclosure_id'], ['disclosures.id'], name=op.f('fk_approval_requests_disclosure_id_disclosures')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests')),
    )
    op.create_index(op.f('ix_approval_requests_disclosure_id'), 'approval_requests', ['disclosure_id'])
    op.create_index('ix_approval_requests_state', 'approval_requests', ['state', 'agency_id'])


def downgrade() -> None:
    op.drop_index('ix_approval_requests_state', table_name='approval_requests')
    op.drop_index(op.f('ix_approval_requests_disclosure_id'), table_name='approval_requests')
    op.drop_table('approval_requests')
    op.drop_table('approval_requirements')

"""案卷评查: evaluation rounds drawn from a transparency-log checkpoint, and their sampled cases' scores

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 03:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'evaluation_rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('parameters', sa.JSON(), nullable=False),
        sa.Column('date_from', sa.Date(), nullable=False),
        sa.Column('date_to', sa.Date(), nullable=False),
        sa.Column('sheet', sa.JSON(), nullable=False),
        sa.Column('evaluators', sa.JSON(), nullable=False),
        sa.Column('eligible', sa.JSON(), nullable=False),
        sa.Column('announce_index', sa.Integer(), nullable=False),
        sa.Column('checkpoint_size', sa.Integer(), nullable=True),
        sa.Column('seed', sa.String(length=64), nullable=True),
        sa.Column('sample', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('drawn_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_rounds')),
    )
    op.create_table(
        'evaluation_cases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('evaluator_id', sa.Integer(), nullable=False),
        sa.Column('scores', sa.JSON(), nullable=True),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('scored_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_evaluation_cases_case_id_cases')),
        sa.ForeignKeyConstraint(
            ['evaluator_id'], ['admin_users.id'], name=op.f('fk_evaluation_cases_evaluator_id_admin_users')
        ),
        sa.ForeignKeyConstraint(
            ['round_id'], ['evaluation_rounds.id'], name=op.f('fk_evaluation_cases_round_id_evaluation_rounds')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_cases')),
        sa.UniqueConstraint('round_id', 'rank', name=op.f('uq_evaluation_cases_round_id')),
    )
    op.create_index(op.f('ix_evaluation_cases_round_id'), 'evaluation_cases', ['round_id'])
    op.create_index(op.f('ix_evaluation_cases_evaluator_id'), 'evaluation_cases', ['evaluator_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_evaluation_cases_evaluator_id'), table_name='evaluation_cases')
    op.drop_index(op.f('ix_evaluation_cases_round_id'), table_name='evaluation_cases')
    op.drop_table('evaluation_cases')
    op.drop_table('evaluation_rounds')

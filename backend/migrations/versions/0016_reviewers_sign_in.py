"""reviewers sign in and answer for their opinions: the reviewer role's badge, the filing (备案) of each
reviewer, and each submission's materials, time limit, withdrawal and transparency-log entries

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 03:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('admin_users') as batch:
        batch.add_column(sa.Column('badge_no', sa.String(length=32), nullable=True))
    with op.batch_alter_table('legal_reviewers') as batch:
        batch.add_column(sa.Column('qualification', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('qualified_on', sa.Date(), nullable=True))
        batch.add_column(
            sa.Column('updated_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('case_reviews') as batch:
        batch.add_column(sa.Column('materials', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('reviewer_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('reviewer_actor', sa.String(length=128), nullable=True))
        batch.add_column(
            sa.Column('withdrawn_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column('withdrawn_reason', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('submit_log_index', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('opinion_log_index', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('withdraw_log_index', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_case_reviews_reviewer_id_legal_reviewers'), 'legal_reviewers', ['reviewer_id'], ['id']
        )
    # Submissions made before materials were asked for carried none.
    op.execute("UPDATE case_reviews SET materials = '[]'")
    with op.batch_alter_table('case_reviews') as batch:
        batch.alter_column('materials', existing_type=sa.JSON(), nullable=False)
    # The reviewer's queue and the overdue listings read pending submissions by their time limit.
    op.create_index('ix_case_reviews_pending_due', 'case_reviews', ['outcome', 'withdrawn_at', 'due_on'])


def downgrade() -> None:
    op.drop_index('ix_case_reviews_pending_due', table_name='case_reviews')
    with op.batch_alter_table('case_reviews') as batch:
        batch.drop_constraint(op.f('fk_case_reviews_reviewer_id_legal_reviewers'), type_='foreignkey')
        for column in (
            'withdraw_log_index',
            'opinion_log_index',
            'submit_log_index',
            'withdrawn_reason',
            'withdrawn_at',
            'reviewer_actor',
            'reviewer_id',
            'due_on',
            'materials',
        ):
            batch.drop_column(column)
    with op.batch_alter_table('legal_reviewers') as batch:
        for column in ('updated_at', 'qualified_on', 'qualification'):
            batch.drop_column(column)
    with op.batch_alter_table('admin_users') as batch:
        batch.drop_column('badge_no')

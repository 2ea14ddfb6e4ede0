"""音像记录事项清单: a record's step end and the recording rule applied on arrival; recording gaps per case

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 03:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Records stored before keep these null: their hashes never covered them, and av_flags reads their rule
    # as the statute's of that time (cases.recording.BEFORE_LISTS).
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('ended_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('recording', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('recording_list', sa.String(length=100), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recording_gaps', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('recording_gaps')
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.drop_column('recording_list')
        batch_op.drop_column('recording')
        batch_op.drop_column('ended_at')

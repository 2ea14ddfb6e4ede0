"""officers' status history, so a case record is checked against the status in force at its time

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 02:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'officer_status_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ['officer_id'], ['officers.id'], name=op.f('fk_officer_status_changes_officer_id_officers')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_status_changes')),
    )
    op.create_index(
        op.f('ix_officer_status_changes_officer_id'), 'officer_status_changes', ['officer_id'], unique=False
    )
    # Only each officer's current status is known (since its last change, or since registration): earlier
    # changes are in the audit trail only.
    op.execute(
        "INSERT INTO officer_status_changes (officer_id, at, status, reason) "
        "SELECT id, COALESCE(status_changed_at, created_at), status, status_reason FROM officers"
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_officer_status_changes_officer_id'), table_name='officer_status_changes')
    op.drop_table('officer_status_changes')

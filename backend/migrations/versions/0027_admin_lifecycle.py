"""Admin account lifecycle: server-side admin page sessions (listed and revoked), and the password's age, forced
change and history

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('admin_users') as batch:
        batch.add_column(
            sa.Column('password_changed_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('password_history', sa.JSON(), nullable=True))
    # An existing password's age counts from the account's creation.
    op.execute("UPDATE admin_users SET password_changed_at = created_at")
    op.create_table(
        'admin_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=255), nullable=True),
        sa.Column('ended_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['admin_users.id'], name=op.f('fk_admin_sessions_user_id_admin_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_admin_sessions_token_hash')),
    )
    op.create_index(op.f('ix_admin_sessions_ended_at'), 'admin_sessions', ['ended_at'])
    op.create_index(op.f('ix_admin_sessions_user_id'), 'admin_sessions', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_admin_sessions_user_id'), table_name='admin_sessions')
    op.drop_index(op.f('ix_admin_sessions_ended_at'), table_name='admin_sessions')
    op.drop_table('admin_sessions')
    with op.batch_alter_table('admin_users') as batch:
        batch.drop_column('password_history')
        batch.drop_column('must_change_password')
        batch.drop_column('password_changed_at')

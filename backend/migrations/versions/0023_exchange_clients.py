"""Exchange clients: upper platforms reading one region's changes feed

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 04:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'exchange_clients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=128), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=True),
        sa.Column('created_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_clients')),
        sa.UniqueConstraint('client_id', name=op.f('uq_exchange_clients_client_id')),
    )


def downgrade() -> None:
    op.drop_table('exchange_clients')

"""Push subscriptions of exchange clients and their outbox of deliveries

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'push_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('secret_sealed', sa.String(length=400), nullable=False),
        sa.Column('event_types', sa.JSON(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('log_cursor', BIG, nullable=False),
        sa.Column('next_sequence', BIG, nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('created_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('parked_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['client_id'], ['exchange_clients.id'], name=op.f('fk_push_subscriptions_client_id_exchange_clients')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    )
    op.create_index(op.f('ix_push_subscriptions_client_id'), 'push_subscriptions', ['client_id'])
    op.create_index(op.f('ix_push_subscriptions_region_code'), 'push_subscriptions', ['region_code'])
    op.create_table(
        'push_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Uuid(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('sequence', BIG, nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('first_attempt_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('parked_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ['subscription_id'],
            ['push_subscriptions.id'],
            name=op.f('fk_push_deliveries_subscription_id_push_subscriptions'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_deliveries')),
        sa.UniqueConstraint('event_id', name=op.f('uq_push_deliveries_event_id')),
        sa.UniqueConstraint('subscription_id', 'sequence', name=op.f('uq_push_deliveries_subscription_id')),
    )


def downgrade() -> None:
    op.drop_table('push_deliveries')
    op.drop_index(op.f('ix_push_subscriptions_region_code'), table_name='push_subscriptions')
    op.drop_index(op.f('ix_push_subscriptions_client_id'), table_name='push_subscriptions')
    op.drop_table('push_subscriptions')

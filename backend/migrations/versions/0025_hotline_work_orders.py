"""12345 work orders: exchange clients get a kind (platform, hotline); work orders and their complaints

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 05:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('exchange_clients', schema=None) as batch_op:
        # Every client made before is an upper platform's.
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='platform'))
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('requested_due', sa.Date(), nullable=True))
    op.create_table(
        'hotline_work_orders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('order_no', sa.String(length=64), nullable=False),
        sa.Column('body_digest', sa.String(length=64), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=True),
        sa.Column('satisfaction', sa.String(length=24), nullable=True),
        sa.Column('created_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['client_id'], ['exchange_clients.id'], name=op.f('fk_hotline_work_orders_client_id_exchange_clients')
        ),
        sa.ForeignKeyConstraint(
            ['complaint_id'], ['complaints.id'], name=op.f('fk_hotline_work_orders_complaint_id_complaints')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_work_orders')),
        sa.UniqueConstraint('client_id', 'order_no', name=op.f('uq_hotline_work_orders_client_id')),
        sa.UniqueConstraint('complaint_id', name=op.f('uq_hotline_work_orders_complaint_id')),
    )


def downgrade() -> None:
    op.drop_table('hotline_work_orders')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('requested_due')
        batch_op.drop_column('contact_name')
    with op.batch_alter_table('exchange_clients', schema=None) as batch_op:
        batch_op.drop_column('kind')

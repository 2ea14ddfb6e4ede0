"""disclosure counters for the supervision figures, and the summary's indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 00:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

from backend.supervision.counts import DROP_TRIGGERS, TRIGGERS

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KEY = "agency_id, decision_date, publish_deadline, status, published_late, published"


def upgrade() -> None:
    op.create_table('disclosure_count_deltas',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('publish_deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('published_late', sa.Boolean(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_count_deltas'))
    )
    op.create_table('disclosure_counts',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('publish_deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('published_late', sa.Boolean(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_disclosure_counts_agency_id_agencies')),
    sa.PrimaryKeyConstraint(
        'agency_id', 'decision_date', 'publish_deadline', 'status', 'published_late', 'published',
        name=op.f('pk_disclosure_counts'),
    )
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        overdue = sa.text("published_late IS true OR status = 'pending'")
        batch_op.create_index(
            'ix_disclosures_overdue', ['publish_deadline'], unique=False, postgresql_where=overdue, sqlite_where=overdue
        )
        withdrawn = sa.text('withdrawn_at IS NOT NULL')
        batch_op.create_index(
            'ix_disclosures_withdrawn_at', ['withdrawn_at'], unique=False,
            postgresql_where=withdrawn, sqlite_where=withdrawn,
        )
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        # No disclosure write may slip between the first count and the trigger.
        op.execute('LOCK TABLE disclosures IN SHARE ROW EXCLUSIVE MODE')
    for statement in TRIGGERS[dialect]:
        op.execute(statement)
    op.execute(
        f"""INSERT INTO disclosure_counts ({KEY}, n)
        SELECT agency_id, decision_date, publish_deadline, status, published_late, published_at IS NOT NULL, count(*)
        FROM disclosures
        WHERE phase = 'post' AND publish_deadline IS NOT NULL AND decision_date IS NOT NULL
        GROUP BY agency_id, decision_date, publish_deadline, status, published_late, published_at IS NOT NULL"""
    )


def downgrade() -> None:
    for statement in DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosures_withdrawn_at')
        batch_op.drop_index('ix_disclosures_overdue')
    op.drop_table('disclosure_counts')
    op.drop_table('disclosure_count_deltas')

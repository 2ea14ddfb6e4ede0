"""公示率 over decided cases: each case's decision date and the deadline of its decision disclosure

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 04:00:00.000000
"""

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import backend.extensions.database
from backend.deadlines import decision_clock

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

CHINA = ZoneInfo("Asia/Shanghai")


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN (no batch): SQLite would otherwise copy the table, and dropping the old one
    # fails while case records refer to it.
    op.add_column('cases', sa.Column('decided_on', sa.Date(), nullable=True))
    op.add_column('cases', sa.Column('publish_deadline', sa.Date(), nullable=True))
    op.add_column(
        'cases', sa.Column('publish_by', backend.extensions.database.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column('cases', sa.Column('deadline_provisional', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('ix_cases_decided_on', 'cases', ['decided_on'], unique=False)
    op.create_index(
        'ix_cases_publish_deadline',
        'cases',
        ['publish_deadline', 'id'],
        unique=False,
        postgresql_where=sa.text('decided_on IS NOT NULL'),
        sqlite_where=sa.text('decided_on IS NOT NULL'),
    )
    # Each case's decision disclosures are found by 0018's ix_disclosures_agency_case_no.
    _backfill()


def _backfill() -> None:
    """Cases decided before this migration: the date of their first decision record and its deadline, counted
    on the calendar this package carries, all marked provisional so that ``flask disclosures
    recompute-deadlines`` counts them again on the schedules operators loaded."""
    bind = op.get_bind()
    utc = backend.extensions.database.UTCDateTime()
    first = bind.execute(
        sa.text(
            "SELECT c.id, c.category, min(r.at) AS at FROM cases c JOIN case_records r ON r.case_id = c.id "
            "WHERE r.step = 'decision' GROUP BY c.id, c.category"
        ).columns(sa.column('id'), sa.column('category'), sa.column('at', utc))
    ).all()
    cases = sa.table(
        'cases',
        sa.column('id'),
        sa.column('decided_on', sa.Date()),
        sa.column('publish_deadline', sa.Date()),
        sa.column('publish_by', utc),
        sa.column('deadline_provisional', sa.Boolean()),
    )
    for case_id, category, at in first:
        decided_on = at.astimezone(CHINA).date()
        clock = decision_clock(category, decided_on)
        bind.execute(
            cases.update()
            .where(cases.c.id == case_id)
            .values(
                decided_on=decided_on,
                publish_deadline=clock.deadline,
                publish_by=dt.datetime.combine(clock.deadline + dt.timedelta(days=1), dt.time(), CHINA),
                deadline_provisional=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_publish_deadline')
        batch_op.drop_index('ix_cases_decided_on')
        batch_op.drop_column('deadline_provisional')
        batch_op.drop_column('publish_by')
        batch_op.drop_column('publish_deadline')
        batch_op.drop_column('decided_on')

"""holiday schedules loaded by operators (flask calendar load); privacy reports by kind and field

Privacy reports written before this revision counted masked items by kind only ({"mobile": 2}); they
become {"mobile": {"*": 2}}, "*" standing for the fields that were not recorded.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 00:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'holiday_calendars',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('document_no', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=True),
        sa.Column('holidays', sa.JSON(), nullable=False),
        sa.Column('makeup_workdays', sa.JSON(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('loaded_at', backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_holiday_calendars')),
    )
    _rewrite_reports(lambda report: {kind: {'*': n} if isinstance(n, int) else n for kind, n in report.items()})


def downgrade() -> None:
    _rewrite_reports(
        lambda report: {kind: n if isinstance(n, int) else sum(n.values()) for kind, n in report.items()}
    )
    op.drop_table('holiday_calendars')


_DISCLOSURES = sa.table('disclosures', sa.column('id', sa.String()), sa.column('privacy_report', sa.JSON()))


def _rewrite_reports(rewrite) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_DISCLOSURES.c.id, _DISCLOSURES.c.privacy_report)).all()
    for id_, report in rows:
        if report and rewrite(report) != report:
            connection.execute(
                _DISCLOSURES.update().where(_DISCLOSURES.c.id == id_).values(privacy_report=rewrite(report))
            )

"""per-agency case settings (reports cases, domains per case category), matter codes, when a case became major

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 03:10:00.000000
"""

import json

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

WITHOUT_CASE = sa.text("type = 'decision' AND case_no IS NULL AND category IN ('coercion', 'licensing', 'penalty')")
WITH_CASE = sa.text('case_no IS NOT NULL')


def upgrade() -> None:
    op.add_column('agencies', sa.Column('reports_cases', sa.Boolean(), nullable=True))
    op.add_column(
        'agencies',
        sa.Column('reports_cases_since', backend.extensions.database.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column('agencies', sa.Column('case_domains', sa.JSON(), nullable=True))
    op.add_column('cases', sa.Column('matter_code', sa.String(length=64), nullable=True))
    op.add_column(
        'cases', sa.Column('major_since', backend.extensions.database.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column('cases', sa.Column('major_by', sa.String(length=16), nullable=True))
    # Not in a batch: on SQLite a batch could copy the table and lose the counters' trigger (0009).
    op.create_index(
        'ix_disclosures_decisions_without_case',
        'disclosures',
        ['agency_id', 'published_at'],
        unique=False,
        postgresql_where=WITHOUT_CASE,
        sqlite_where=WITHOUT_CASE,
    )
    op.create_index(
        'ix_disclosures_agency_case_no',
        'disclosures',
        ['agency_id', 'case_no'],
        unique=False,
        postgresql_where=WITH_CASE,
        sqlite_where=WITH_CASE,
    )
    major = sa.text('major_since IS NOT NULL')
    op.create_index('ix_cases_major_since', 'cases', ['major_since'], postgresql_where=major, sqlite_where=major)
    _backfill()


def _backfill() -> None:
    """Agencies with cases began reporting with their first one. A case already major is taken as major since
    it was created (the platform cannot tell later), so none is listed as made major after publication."""
    op.execute(
        'UPDATE agencies SET reports_cases_since = '
        '(SELECT min(cases.created_at) FROM cases WHERE cases.agency_id = agencies.id)'
    )
    op.execute(
        "UPDATE cases SET major_since = created_at, major_by = CASE WHEN major THEN 'flag' ELSE 'hearing' END "
        'WHERE major OR had_hearing'
    )
    bind = op.get_bind()
    catalogues = bind.execute(
        sa.text(
            "SELECT agency_id, details FROM disclosures "
            "WHERE phase = 'pre' AND type = 'review_catalogue' AND status = 'published'"
        )
    ).all()
    for agency_id, details in catalogues:
        matters = (json.loads(details) if isinstance(details, str) else details or {}).get('matters') or []
        names = [matter for matter in matters if isinstance(matter, str)]
        if names:
            bind.execute(
                sa.text(
                    "UPDATE cases SET major_since = created_at, major_by = 'catalogue' "
                    'WHERE agency_id = :agency AND major_since IS NULL AND matter IN :names'
                ).bindparams(sa.bindparam('names', expanding=True)),
                {'agency': agency_id, 'names': names},
            )


def downgrade() -> None:
    op.drop_index('ix_cases_major_since', table_name='cases')
    op.drop_index('ix_disclosures_agency_case_no', table_name='disclosures')
    op.drop_index('ix_disclosures_decisions_without_case', table_name='disclosures')
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+): a batch would copy agencies, which other tables reference.
    for table, column in (
        ('cases', 'major_by'),
        ('cases', 'major_since'),
        ('cases', 'matter_code'),
        ('agencies', 'case_domains'),
        ('agencies', 'reports_cases_since'),
        ('agencies', 'reports_cases'),
    ):
        op.drop_column(table, column)

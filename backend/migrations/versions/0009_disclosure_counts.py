"""disclosure counters for the supervision figures, and the summary's indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 00:45:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KEY = "agency_id, decision_date, publish_deadline, status, published_late, published"

# The 公示率 counters' trigger (backend/supervision/models.py): +1 for the new state, -1 for the old.
# On SQLite, a later migration that makes Alembic recreate ``disclosures`` (batch mode) drops these
# triggers with the old table: such a migration must create them again.
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION disclosure_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.phase = 'post' AND OLD.publish_deadline IS NOT NULL
            AND OLD.decision_date IS NOT NULL THEN
        INSERT INTO disclosure_count_deltas
            (agency_id, decision_date, publish_deadline, status, published_late, published, n)
        VALUES (OLD.agency_id, OLD.decision_date, OLD.publish_deadline, OLD.status, OLD.published_late,
                OLD.published_at IS NOT NULL, -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.phase = 'post' AND NEW.publish_deadline IS NOT NULL
            AND NEW.decision_date IS NOT NULL THEN
        INSERT INTO disclosure_count_deltas
            (agency_id, decision_date, publish_deadline, status, published_late, published, n)
        VALUES (NEW.agency_id, NEW.decision_date, NEW.publish_deadline, NEW.status, NEW.published_late,
                NEW.published_at IS NOT NULL, 1);
    END IF;
    RETURN NULL;
END
$$
"""


def _key(row: str) -> str:
    return (
        f"{row}.agency_id, {row}.phase, {row}.decision_date, {row}.publish_deadline, {row}.status, "
        f"{row}.published_late, {row}.published_at IS NOT NULL"
    )


TRIGGERS = {
    "postgresql": [
        _PG_FUNCTION,
        "CREATE TRIGGER disclosure_counts_insert_delete AFTER INSERT OR DELETE ON disclosures "
        "FOR EACH ROW EXECUTE FUNCTION disclosure_counts_track()",
        # Only updates that move an item between counters: most updates (log index, search) do not.
        "CREATE TRIGGER disclosure_counts_update AFTER UPDATE ON disclosures FOR EACH ROW "
        f"WHEN (({_key('OLD')}) IS DISTINCT FROM ({_key('NEW')})) EXECUTE FUNCTION disclosure_counts_track()",
    ],
    "sqlite": [
        """CREATE TRIGGER disclosure_counts_insert AFTER INSERT ON disclosures
        WHEN NEW.phase = 'post' AND NEW.publish_deadline IS NOT NULL AND NEW.decision_date IS NOT NULL
        BEGIN
            INSERT INTO disclosure_count_deltas
                (agency_id, decision_date, publish_deadline, status, published_late, published, n)
            VALUES (NEW.agency_id, NEW.decision_date, NEW.publish_deadline, NEW.status, NEW.published_late,
                    NEW.published_at IS NOT NULL, 1);
        END""",
        """CREATE TRIGGER disclosure_counts_delete AFTER DELETE ON disclosures
        WHEN OLD.phase = 'post' AND OLD.publish_deadline IS NOT NULL AND OLD.decision_date IS NOT NULL
        BEGIN
            INSERT INTO disclosure_count_deltas
                (agency_id, decision_date, publish_deadline, status, published_late, published, n)
            VALUES (OLD.agency_id, OLD.decision_date, OLD.publish_deadline, OLD.status, OLD.published_late,
                    OLD.published_at IS NOT NULL, -1);
        END""",
        """CREATE TRIGGER disclosure_counts_update AFTER UPDATE ON disclosures
        WHEN NOT (OLD.agency_id IS NEW.agency_id AND OLD.phase IS NEW.phase
                  AND OLD.decision_date IS NEW.decision_date AND OLD.publish_deadline IS NEW.publish_deadline
                  AND OLD.status IS NEW.status AND OLD.published_late IS NEW.published_late
                  AND (OLD.published_at IS NULL) = (NEW.published_at IS NULL))
        BEGIN
            INSERT INTO disclosure_count_deltas
                (agency_id, decision_date, publish_deadline, status, published_late, published, n)
            SELECT OLD.agency_id, OLD.decision_date, OLD.publish_deadline, OLD.status, OLD.published_late,
                   OLD.published_at IS NOT NULL, -1
            WHERE OLD.phase = 'post' AND OLD.publish_deadline IS NOT NULL AND OLD.decision_date IS NOT NULL;
            INSERT INTO disclosure_count_deltas
                (agency_id, decision_date, publish_deadline, status, published_late, published, n)
            SELECT NEW.agency_id, NEW.decision_date, NEW.publish_deadline, NEW.status, NEW.published_late,
                   NEW.published_at IS NOT NULL, 1
            WHERE NEW.phase = 'post' AND NEW.publish_deadline IS NOT NULL AND NEW.decision_date IS NOT NULL;
        END""",
    ],
}
DROP_TRIGGERS = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS disclosure_counts_update ON disclosures",
        "DROP TRIGGER IF EXISTS disclosure_counts_insert_delete ON disclosures",
        "DROP FUNCTION IF EXISTS disclosure_counts_track()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS disclosure_counts_update",
        "DROP TRIGGER IF EXISTS disclosure_counts_delete",
        "DROP TRIGGER IF EXISTS disclosure_counts_insert",
    ],
}


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

"""Complaint evidence (files checked by content, stored with their sha256), the contact details' erasure time, and
the acceptance event in the citizen's wording

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import backend.extensions.database

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contact_erased_at", backend.extensions.database.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "complaint_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", backend.extensions.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_complaint_evidence_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_evidence")),
    )
    with op.batch_alter_table("complaint_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_evidence_complaint_id"), ["complaint_id"], unique=False)
    # The public acceptance event told the citizen "请于…前答复", the handler's instruction: it is the agency's
    # undertaking, "将于…前答复".
    op.execute(
        "UPDATE complaint_events SET text = '将于' || substr(text, 3) "
        "WHERE kind = 'accepted' AND text LIKE '请于 % 前答复'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE complaint_events SET text = '请于' || substr(text, 3) "
        "WHERE kind = 'accepted' AND text LIKE '将于 % 前答复'"
    )
    with op.batch_alter_table("complaint_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_evidence_complaint_id"))
    op.drop_table("complaint_evidence")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_column("contact_erased_at")

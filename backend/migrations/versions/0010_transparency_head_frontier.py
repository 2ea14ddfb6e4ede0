"""transparency head keeps the tree's right edge

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 00:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty until the next append fills it (that append reads the right edge from the node table once).
    with op.batch_alter_table('transparency_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frontier', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('transparency_head', schema=None) as batch_op:
        batch_op.drop_column('frontier')

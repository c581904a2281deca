"""collectors: near-duplicate signatures and declared origin on items

Revision ID: 0005_collectors_dedup
Revises: 0004_engine
"""
from alembic import op
import sqlalchemy as sa

revision = '0005_collectors_dedup'
down_revision = '0004_engine'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minhash', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('origin', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_items_duplicate_of', ['duplicate_of'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_duplicate_of')
        batch_op.drop_column('origin')
        batch_op.drop_column('minhash')

"""drop items.simhash: near-duplicates are found with MinHash/LSH (items.minhash), never SimHash

Revision ID: 0008_collect3_drop_items_simhash
Revises: 0007_change_notify
Create Date: 2026-11-22 19:45:00

The column was created with the first schema, before the collectors chose character n-gram
MinHash with LSH banding (monitor/collectors/dedup.py) and stored its signature in
items.minhash (0005). Nothing ever wrote or read simhash: every row holds NULL, so dropping it
loses nothing. A second near-duplicate signature would have to be kept in step with the first
for no gain (a 64-bit SimHash cannot be searched by Hamming distance with a plain index either).
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_collect3_drop_items_simhash'
down_revision = '0007_change_notify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('simhash')


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('simhash', sa.BigInteger(), nullable=True))

"""people edited on the web's /org page (overrides of the org file, by person id)

Revision ID: 0009_org_people
Revises: 0008_collect3_drop_items_simhash
"""
from alembic import op
import sqlalchemy as sa
import monitor.storage.types
from sqlalchemy.dialects import postgresql

revision = '0009_org_people'
down_revision = '0008_collect3_drop_items_simhash'
branch_labels = None
depends_on = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = monitor.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('org_people',
    sa.Column('person_id', sa.String(length=100), nullable=False),
    sa.Column('data', JSONDoc, nullable=False),
    sa.Column('disabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_org_people'))
    )


def downgrade() -> None:
    op.drop_table('org_people')

"""交办/认领/退回 on the incident row: assigned_at, accepted_at, returned_reason

Revision ID: 0010_incident_assignment
Revises: 0009_org_people

The timeline (ASSIGNED / ACCEPTED / RETURNED events) is the record; these columns are what the
queue, the incident page, the API and the report read, written in the same transaction as the
events. Incidents confirmed before this revision have no such events: the columns stay NULL.
"""
from alembic import op
import sqlalchemy as sa
import monitor.storage.types

revision = '0010_incident_assignment'
down_revision = '0009_org_people'
branch_labels = None
depends_on = None

UTC = monitor.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('accepted_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('returned_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('returned_reason')
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('assigned_at')

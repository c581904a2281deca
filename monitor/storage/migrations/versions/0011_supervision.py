"""已升级: obligations.escalated_at (when the ladder first reached a leader past the deadline)

Revision ID: 0011_supervision
Revises: 0010_incident_assignment

The timeline (ESCALATED events with their roles) is the record; the engine derives this column
from it on every re-plan, like the obligation's status, so the duty queue can filter 已升级 in
one statement. 督办/催办/提醒/通报 by 政府办 are SUPERVISED timeline events: no table of their own.
Obligations planned before this revision get the column on their next re-plan; until then NULL.
"""
from alembic import op
import sqlalchemy as sa
import monitor.storage.types

revision = '0011_supervision'
down_revision = '0010_incident_assignment'
branch_labels = None
depends_on = None

UTC = monitor.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')

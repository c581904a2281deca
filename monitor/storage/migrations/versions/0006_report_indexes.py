"""indexes the monthly report reads by

Revision ID: 0006_report_indexes
Revises: 0005_collectors_dedup
Create Date: 2026-11-22 17:00:00

- incident_events (kind, incident_id): responses / escalations / pauses of a batch of incidents
- obligations (due_at): deadlines due in a month
- corrections (at): corrections made in a month
"""
from alembic import op

revision = '0006_report_indexes'
down_revision = '0005_collectors_dedup'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index('ix_incident_events_kind_incident', ['kind', 'incident_id'], unique=False)
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.create_index('ix_obligations_due_at', ['due_at'], unique=False)
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index('ix_corrections_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index('ix_corrections_at')
    with op.batch_alter_table('obligations', schema=None) as batch_op:
        batch_op.drop_index('ix_obligations_due_at')
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_events_kind_incident')

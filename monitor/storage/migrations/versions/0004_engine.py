"""engine: playbook snapshots, one timer per incident wake-up

Revision ID: 0004_engine
Revises: 0003_web_queue
"""
from alembic import op
import sqlalchemy as sa
import monitor.storage.types
from sqlalchemy.dialects import postgresql

revision = '0004_engine'
down_revision = '0003_web_queue'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('playbook_snapshots',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('jurisdiction', sa.Text(), nullable=False),
    sa.Column('body', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', monitor.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_playbook_snapshots'))
    )
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index('ux_timers_incident_wakeup', ['incident_id', 'generation', 'due_at'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ux_timers_incident_wakeup')
    op.drop_table('playbook_snapshots')

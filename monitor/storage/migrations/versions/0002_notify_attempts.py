"""notification delivery: per-attempt records and per-channel attempt counter

Revision ID: 0002_notify_attempts
Revises: 0001
Create Date: 2026-11-22 16:40:00
"""
from alembic import op
import sqlalchemy as sa
import monitor.storage.types
from sqlalchemy.dialects import postgresql

revision = '0002_notify_attempts'
down_revision = '0001'
branch_labels = None
depends_on = None

JSONDOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_outbox_incident', ['incident_id'], unique=False)
    op.create_table('notification_attempts',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('outbox_id', ID, nullable=False),
    sa.Column('message_id', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('started_at', monitor.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', monitor.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('blocked_until', monitor.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cost', sa.Integer(), server_default='0', nullable=False),
    sa.Column('detail', JSONDOC, server_default=sa.text("'{}'"), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_notification_attempts_outbox_id_outbox'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_attempts'))
    )
    with op.batch_alter_table('notification_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_notification_attempts_outbox', ['outbox_id'], unique=False)
        batch_op.create_index('ix_notification_attempts_target', ['target', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_table('notification_attempts')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_incident')
        batch_op.drop_column('channel_attempts')

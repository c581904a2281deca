"""媒体类型 (DOMAIN.md §4.4 media_type): on sources, items and imported incidents

Revision ID: 0012_media_type
Revises: 0011_supervision

sources.media_type is what the operator set (NULL: inferred from the URL and name). items.media_type
is the source's type when the item was collected; items already stored take their source's type as
inferred now (items without a source stay NULL). incidents.media_type holds the 媒体类型 of an
imported ledger row, whose incident has no items.
"""
from alembic import op
import sqlalchemy as sa

from monitor.domain import SourceKind
from monitor.domain.media import media_type_of

revision = '0012_media_type'
down_revision = '0011_supervision'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_type', sa.String(length=20), nullable=True))
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_type', sa.String(length=20), nullable=True))
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_type', sa.String(length=20), nullable=True))
    _backfill_items()


def _backfill_items() -> None:
    conn = op.get_bind()
    found = conn.execute(sa.text('SELECT id, kind, url, name FROM sources')).all()
    for source_id, kind, url, name in found:
        try:
            kind_ = SourceKind(kind)
        except ValueError:
            kind_ = SourceKind.FEED
        guess = media_type_of(None, kind_, url or '', name or '')
        conn.execute(
            sa.text('UPDATE items SET media_type = :t WHERE source_id = :s AND media_type IS NULL'),
            {'t': guess.media_type.value, 's': source_id},
        )


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('media_type')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('media_type')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('media_type')

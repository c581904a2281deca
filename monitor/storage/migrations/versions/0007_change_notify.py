"""announce timeline rows on PostgreSQL's monitor_changes channel (live updates across processes)

Revision ID: 0007_change_notify
Revises: 0006_report_indexes
Create Date: 2026-11-23 09:00:00

A statement-level AFTER INSERT trigger on incident_events sends the distinct incident ids of
the inserted rows with pg_notify('monitor_changes', '1,2,3'), in chunks of 500 ids. NOTIFY is
delivered when the transaction commits and dropped when it rolls back, which is exactly the
"after commit, never for a rolled-back change" rule of docs/contracts.md §7, for every writer
in every process. SQLite has no NOTIFY: nothing to do there (one process; the web polls).
"""
from alembic import op

revision = '0007_change_notify'
down_revision = '0006_report_indexes'
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION monitor_notify_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    FOR payload IN
        SELECT string_agg(id::text, ',' ORDER BY id)
        FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / 500 AS chunk
              FROM (SELECT DISTINCT incident_id AS id FROM new_rows) AS distinct_ids) AS numbered
        GROUP BY chunk
    LOOP
        PERFORM pg_notify('monitor_changes', payload);
    END LOOP;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER incident_events_notify AFTER INSERT ON incident_events "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION monitor_notify_changes()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS incident_events_notify ON incident_events")
    op.execute("DROP FUNCTION IF EXISTS monitor_notify_changes()")

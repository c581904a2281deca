"""Alembic environment. Migrations run through `monitor migrate` (monitor.storage.migrate),
which passes an open connection in `config.attributes["connection"]`."""

from alembic import context

from monitor.storage.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `monitor migrate`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

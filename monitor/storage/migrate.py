"""Apply Alembic migrations programmatically (`monitor migrate`; safe to run twice or concurrently)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from monitor.storage.db import Database, DatabaseError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 7_318_201  # advisory lock id: concurrent `monitor migrate` runs queue up


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    """Every revision this version knows, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def migrate(db: Database, target: str = "head") -> tuple[str | None, str | None]:
    """Move the schema to `target` (upgrade, or downgrade to an older revision); returns (before, after)."""
    known = known_revisions()
    if target != "head" and target not in known:
        raise DatabaseError(f"unknown revision {target!r}; this version knows {', '.join(known)} (the last is head)")
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
        async with conn.begin():
            if not db.is_sqlite:
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
            before = await conn.run_sync(_current)
            if before is not None and before not in known:
                raise DatabaseError(_newer_schema(before))
            downgrade = before is not None and target != "head" and known.index(target) < known.index(before)
            await conn.run_sync(_move, target, downgrade)
            after = await conn.run_sync(_current)
    return before, after


def _move(sync_conn: Any, target: str, downgrade: bool) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    (command.downgrade if downgrade else command.upgrade)(cfg, target)


def _newer_schema(current: str) -> str:
    return (
        f"the database schema is at revision {current}, which this version of monitor does not know "
        f"(its newest is {head_revision()}): a newer release migrated it. Run that release, or restore "
        "a backup taken before the upgrade (`monitor restore`)"
    )


def _current(sync_conn: Any) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def require_current_schema(db: Database) -> None:
    """Refuse to run against a database whose schema is not at the code's head revision."""
    current, head = await current_revision(db), head_revision()
    if current is not None and current not in known_revisions():
        raise DatabaseError(_newer_schema(current))
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise DatabaseError(f"the database schema is {state} but this version needs {head}; run `monitor migrate`")


async def reset_schema(db: Database) -> None:
    """Drop every table (PostgreSQL: the public schema) — for benchmark databases only."""
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            raise DatabaseError("reset_schema is for PostgreSQL benchmark databases; delete the SQLite file instead")
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))

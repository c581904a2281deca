"""Database engines: SQLite (embedded default) and PostgreSQL, behaving the same.

Use `Database.read()` for read-only work and `Database.write()` for a transaction that
writes. On SQLite `write()` starts with BEGIN IMMEDIATE, so two writers queue on the busy
timeout instead of failing half-way with "database is locked" on lock upgrade.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

Connection = AsyncConnection  # what repositories take; lets callers outside storage annotate without SQLAlchemy

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
)


class DatabaseError(RuntimeError):
    """The database could not be opened or used; the message says how to fix it."""


def connect_failure(exc: BaseException) -> DatabaseError | None:
    """`exc` as an operator's message when it means the database could not be opened at all, else None.

    SQLAlchemy raises the errors of opening a connection (a database or user that does not exist,
    a wrong password, a file SQLite cannot open) as a DBAPIError without a statement.
    """
    if not isinstance(exc, DBAPIError) or exc.statement is not None:
        return None
    if type(exc.orig).__module__.startswith("sqlite3"):
        fix = (
            "it must name a file (created when missing) that this user may read and write, in a directory it may write"
        )
    else:
        fix = "check its host, port, user, password and database name; the database must exist (createdb)"
    return DatabaseError(f"cannot open the database: {exc.orig}. database_url: {fix}")


def normalize_url(url: str) -> URL:
    """Accept plain postgresql:// and sqlite:// URLs and pick the async drivers."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseError(
            f"database_url {url!r} is not a valid URL; expected e.g. sqlite+aiosqlite:///./var/monitor.db "
            "or postgresql+asyncpg://user@host/dbname"
        ) from exc
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg"}
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    if parsed.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise DatabaseError(
            f"unsupported database driver {parsed.drivername!r}; use sqlite+aiosqlite or postgresql+asyncpg"
        )
    return parsed


class Database:
    """One engine plus transaction helpers. Create with `Database.open(url)`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @classmethod
    def open(cls, url: str, *, echo: bool = False, pool_size: int = 5) -> Database:
        parsed = normalize_url(url)
        kwargs: dict[str, Any] = {
            "echo": echo,
            "json_serializer": lambda obj: json.dumps(obj, ensure_ascii=False, default=str),
        }
        if parsed.drivername.startswith("sqlite"):
            _ensure_sqlite_dir(parsed)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        engine = create_async_engine(parsed, **kwargs)
        if parsed.drivername.startswith("sqlite"):
            _install_sqlite_hooks(engine)
        return cls(engine)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction (a consistent snapshot on both databases)."""
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed on success and rolled back on error."""
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def singleton(self, name: str) -> AsyncIterator[bool]:
        """Yield True in at most one process at a time for `name` (PostgreSQL session advisory lock).

        For jobs that several workers could start but one should run (the monthly report). The
        lock belongs to a pooled connection held for the duration, so a worker that dies releases
        it with its connection. SQLite (one process) always yields True.
        """
        if self.is_sqlite:
            yield True
            return
        async with self.engine.connect() as conn:
            key = text("SELECT pg_try_advisory_lock(hashtext(:name))")
            acquired = bool((await conn.execute(key, {"name": name})).scalar())
            await conn.commit()
            try:
                yield acquired
            finally:
                if acquired:
                    await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
                    await conn.commit()

    async def close(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    """Own SQLite's transactions: pysqlite's implicit BEGIN is unreliable (SQLAlchemy docs)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def insert_ignore(conn: AsyncConnection, table: Table, conflict_on: Sequence[str]) -> Any:
    """An INSERT that skips rows conflicting on `conflict_on` (both dialects)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict_on))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict_on))
    return insert(table)


def multirow(conn: AsyncConnection, stmt: Any, table: Table) -> Any:
    """`stmt` (an INSERT run with a list of rows) sent as multi-row INSERTs on PostgreSQL.

    asyncpg's executemany runs one INSERT per row: each pays the server's per-statement cost and
    fires statement-level triggers (the change feed's NOTIFY) once per row. SQLAlchemy sends an
    INSERT … RETURNING as multi-row VALUES pages of up to 1,000 rows ("insertmanyvalues"), so on
    PostgreSQL this adds RETURNING of the primary key; the caller may ignore the result. SQLite
    (in-process, executemany already cheap) keeps the plain statement.
    """
    if conn.dialect.name == "postgresql":
        return stmt.returning(*table.primary_key.columns)
    return stmt


async def insert_many(conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows in one executemany round trip (no-op for an empty batch)."""
    if rows:
        await conn.execute(insert(table), list(rows))

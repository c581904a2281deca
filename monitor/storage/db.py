"""Database engines: SQLite (embedded default) and PostgreSQL, behaving the same.

Use `Database.read()` for read-only work and `Database.write()` for a transaction that
writes. On SQLite `write()` starts with BEGIN IMMEDIATE, so two writers queue on the busy
timeout instead of failing half-way with "database is locked" on lock upgrade.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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


# URL query options the PostgreSQL driver (asyncpg) takes as they are, and the one SQLAlchemy's dialect reads
_ASYNCPG_OPTIONS = {
    "command_timeout": float, "statement_cache_size": int, "max_cached_statement_lifetime": float,
    "max_cacheable_statement_size": int, "timeout": float, "target_session_attrs": str,
}  # fmt: skip
_DIALECT_OPTIONS = {"prepared_statement_cache_size"}
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_SSL_FILES = ("sslrootcert", "sslcert", "sslkey")
_LIBPQ_OPTIONS = {"sslmode", "ssl", "application_name", "options", "connect_timeout", "direct_tls", *_SSL_FILES}


def pg_connect_args(url: URL) -> tuple[URL, dict[str, Any]]:
    """Split a PostgreSQL URL into the URL SQLAlchemy connects with and the keyword arguments of
    asyncpg.connect, so the libpq spellings operators copy from other tools work here too:
    sslmode (and ssl=), sslrootcert/sslcert/sslkey, application_name, options=-c name=value and
    connect_timeout. An option neither understands is refused by name (asyncpg would fail at the
    first connection with an unexpected keyword argument)."""
    query = _checked_query(url)
    args: dict[str, Any] = {}
    for key, kind in _ASYNCPG_OPTIONS.items():
        if key in query:
            args[key] = _typed(key, query[key], kind)
    if "connect_timeout" in query:
        args["timeout"] = _typed("connect_timeout", query["connect_timeout"], float)
    settings = {} if "application_name" not in query else {"application_name": query["application_name"]}
    settings |= _server_options(query.get("options", ""))
    if settings:
        args["server_settings"] = settings
    if "direct_tls" in query:
        args["direct_tls"] = query["direct_tls"].lower() in ("true", "1", "yes", "on")
    args |= _ssl_args(query)
    kept = {key: value for key, value in query.items() if key in _DIALECT_OPTIONS}
    return url.set(query=kept), args


def _checked_query(url: URL) -> dict[str, str]:
    query = dict(url.query)
    known = _LIBPQ_OPTIONS | set(_ASYNCPG_OPTIONS) | _DIALECT_OPTIONS
    for key, value in query.items():
        if key not in known:
            raise DatabaseError(
                f"database_url option {key}={value} is not understood; use {', '.join(sorted(known))} "
                "(libpq spellings such as sslmode and options=-c name=value are accepted)"
            )
        if isinstance(value, tuple):
            raise DatabaseError(f"database_url gives {key} more than once ({', '.join(value)}); keep one")
    return query  # type: ignore[return-value]  # no tuples left


def _ssl_args(query: Mapping[str, str]) -> dict[str, str]:
    """asyncpg's `ssl` (the mode, from sslmode or asyncpg's own ssl=); with certificate files, a
    `dsn` holding sslmode and the files instead, so asyncpg applies libpq's rules for them itself
    (verify-ca checks the chain, verify-full also the host name; a client certificate is presented)."""
    mode = (query.get("sslmode") or query.get("ssl") or "").lower()
    mode = {"true": "require", "false": "disable"}.get(mode, mode)
    if mode and mode not in _SSL_MODES:
        raise DatabaseError(f"database_url: sslmode={mode} is not an SSL mode; use one of {', '.join(_SSL_MODES)}")
    files = {key: query[key] for key in _SSL_FILES if key in query}
    if not files or mode == "disable":
        return {"ssl": mode} if mode else {}
    for key, path in files.items():
        if not os.access(path, os.R_OK):
            raise DatabaseError(
                f"database_url: cannot read the SSL file {key}={path}; check the path and its permissions"
            )
    return {"dsn": "postgresql://?" + urlencode({"sslmode": mode or "prefer", **files})}


def _typed(key: str, value: str, kind: type) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise DatabaseError(f"database_url: {key}={value} is not a {kind.__name__}") from None


def _server_options(options: str) -> dict[str, str]:
    """libpq's options=-c name=value -c … (or --name=value) as server settings."""
    words, found = shlex.split(options), {}
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            word, i = words[i + 1], i + 1
        elif word.startswith(("-c", "--")):
            word = word[2:]
        else:
            raise DatabaseError(f"database_url: options={options!r}: expected -c name=value, found {word!r}")
        name, sep, value = word.partition("=")
        if not sep or not name:
            raise DatabaseError(f"database_url: options={options!r}: expected -c name=value, found {word!r}")
        found[name.replace("-", "_")] = value
        i += 1
    return found


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
            parsed, connect_args = pg_connect_args(parsed)
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, connect_args=connect_args)
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

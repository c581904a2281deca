"""Backup and restore of either database, consistent while the service runs.

- SQLite: `VACUUM INTO` writes a consistent, compacted copy from one read transaction, so
  `monitor serve` keeps running (writers wait at most for the copy). Restore replaces the file
  (and drops its -wal/-shm) and is refused while an engine runner holds the database.
- PostgreSQL: `pg_dump --format=custom` (one snapshot, the service keeps running) and
  `pg_restore --clean --if-exists --single-transaction` (all or nothing). The tools connect with a
  libpq connection string made from the whole URL — its query options too (`sslmode`, asyncpg's
  `ssl`, `options`, `application_name` …), so a backup is held to the URL's TLS requirement. The
  password goes to them through PGPASSWORD, never on their command line (it would show in `ps`).

After a restore, run `monitor migrate`: a backup from an older version is upgraded in place.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from monitor.storage.db import DatabaseError, normalize_url
from monitor.storage.lock import EngineLock

PG_TOOLS_HINT = "install the PostgreSQL client tools of the server's major version (Debian: postgresql-client-15)"
_DUMP_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE public (\S+) ", re.MULTILINE)  # a line of `pg_restore --list`
_DUMP_REVISION = re.compile(r"^COPY public\.alembic_version .*\n(\S+)$", re.MULTILINE)


def backup(database_url: str, out: Path) -> Path:
    """Write a consistent backup of the database to `out` (refuses to overwrite)."""
    if out.exists():
        raise DatabaseError(f"{out} exists; choose a new file name (backups are never overwritten)")
    out.parent.mkdir(parents=True, exist_ok=True)
    url = normalize_url(database_url)
    if url.drivername.startswith("sqlite"):
        _sqlite_backup(_sqlite_path(url), out)
    else:
        try:
            _run("pg_dump", ["--format=custom", "--no-owner", "--file", str(out)], url)
        except DatabaseError:
            out.unlink(missing_ok=True)  # pg_dump creates the file before it connects: no empty "backup"
            raise
    return out


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup in `source`."""
    if not source.is_file():
        raise DatabaseError(f"backup file {source} does not exist")
    url = normalize_url(database_url)
    if url.drivername.startswith("sqlite"):
        _sqlite_restore(source, _sqlite_path(url), database_url)
    else:
        _refuse_tables_the_backup_lacks(url, source)
        args = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", str(source)]
        _run("pg_restore", args, url)


def _refuse_tables_the_backup_lacks(url: URL, source: Path) -> None:
    """`pg_restore --clean` drops only what the dump holds: tables a later migration added would stay,
    rows and all, beside the restored data, and `monitor migrate` would then fail creating them."""
    in_dump = set(_DUMP_TABLE.findall(_run("pg_restore", ["--list", str(source)], None)))
    query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    in_database = set(_run("psql", ["--no-psqlrc", "--tuples-only", "--no-align", "--command", query], url).split())
    extra = sorted(in_database - in_dump)
    if not extra:
        return
    found = _DUMP_REVISION.search(
        _run("pg_restore", ["--data-only", "--table=alembic_version", "--file=-", str(source)])
    )
    revision = found.group(1) if found else "REVISION-OF-THE-BACKUP"
    raise DatabaseError(
        f"the database has tables the backup lacks ({', '.join(extra)}): a later migration added them and a "
        f"restore would leave them beside the backup's data. First take the database down to the backup's "
        f"revision with `monitor migrate --to {revision}`, then restore again (and `monitor migrate` after); "
        "or restore into a new, empty database"
    )


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise DatabaseError(f"cannot back up or restore the SQLite database {database or '(memory)'!r}")
    return Path(database).expanduser()


def _sqlite_backup(path: Path, out: Path) -> None:
    if not path.is_file():
        raise DatabaseError(f"SQLite database {path} does not exist")
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("VACUUM INTO ?", (str(out),))
    finally:
        conn.close()


def _sqlite_restore(source: Path, target: Path, database_url: str) -> None:
    check = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{source} is not a SQLite database backup: {exc}") from exc
    finally:
        check.close()
    if ok != "ok":
        raise DatabaseError(f"{source} fails SQLite's integrity check ({ok}); use another backup")
    lock = EngineLock.for_database(database_url)
    if lock is not None:
        lock.acquire(restoring=True)  # refuses while `monitor serve` runs an engine on the file
    try:
        _refuse_open_elsewhere(target)
        temporary = target.with_name(target.name + ".restoring")
        shutil.copyfile(source, temporary)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(temporary, target)
    finally:
        if lock is not None:
            lock.release()


def _refuse_open_elsewhere(target: Path) -> None:
    """Leaving WAL mode needs the only connection to the file: a process that still has it open (a
    web-only `monitor serve`, `monitor collect` …) would go on with the replaced, deleted file."""
    if not target.is_file():
        return
    conn = sqlite3.connect(target, timeout=5, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.OperationalError as exc:
        raise DatabaseError(
            f"{target} is open in another process (e.g. a web-only `monitor serve` or `monitor collect`): {exc}. "
            "Stop every process that uses it before restoring; they would go on writing to the replaced file"
        ) from exc
    finally:
        conn.close()


# asyncpg's spellings of libpq options (the service's own driver reads the same URL)
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_SSL_BOOLEANS = {"true": "require", "false": "disable"}
# asyncpg options that only tune the service's own connections: nothing for a dump or restore
_DRIVER_ONLY = {
    "command_timeout", "statement_cache_size", "prepared_statement_cache_size", "max_cached_statement_lifetime",
    "max_cacheable_statement_size",
}  # fmt: skip


def pg_connection(database_url: str | URL) -> tuple[list[str], dict[str, str]]:
    """The command-line arguments and environment that connect a PostgreSQL client tool to the
    database of `database_url`: `--dbname` with a libpq connection string holding the host, port,
    database, user and every query option of the URL, and PGPASSWORD in the environment."""
    url = normalize_url(database_url) if isinstance(database_url, str) else database_url
    params: dict[str, str] = {"host": url.host or "localhost", "port": str(url.port or 5432)}
    params.update({"dbname": url.database or ""} | ({"user": url.username} if url.username else {}))
    for key, value in url.query.items():
        params.update(_libpq_option(key, value))
    conninfo = " ".join(f"{key}={_conninfo_value(value)}" for key, value in params.items())
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    return ["--dbname", conninfo], env


def _libpq_option(key: str, value: str | tuple[str, ...]) -> dict[str, str]:
    """One URL query option as libpq keywords (asyncpg spellings translated; unknown keys are passed
    on, so libpq refuses them by name instead of a backup quietly ignoring them)."""
    if key == "host" and isinstance(value, tuple):  # several hosts: libpq takes a comma-separated list
        return {"host": ",".join(value)}
    if isinstance(value, tuple):
        raise DatabaseError(f"database_url gives {key} more than once ({', '.join(value)}); keep one")
    if key in _DRIVER_ONLY:
        return {}
    if key == "ssl":
        mode = _SSL_BOOLEANS.get(value.lower(), value.lower())
        if mode not in _SSL_MODES:
            raise DatabaseError(
                f"database_url: ssl={value} is not an SSL mode the PostgreSQL tools know; "
                f"use one of {', '.join(sorted(_SSL_MODES))}"
            )
        return {"sslmode": mode}
    if key == "timeout":  # asyncpg's connect timeout, in seconds
        try:
            return {"connect_timeout": str(max(1, round(float(value))))}
        except ValueError:
            raise DatabaseError(f"database_url: timeout={value} is not a number of seconds") from None
    if key == "direct_tls":
        return {"sslnegotiation": "direct"} if value.lower() in ("true", "1", "yes") else {}
    return {key: value}


def _conninfo_value(value: str) -> str:
    """A value of a libpq keyword=value connection string: quoted, with \\ and ' escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _run(tool: str, args: list[str], url: URL | None = None) -> str:
    """Run a PostgreSQL client tool (connected to `url` when given); returns its standard output."""
    exe = shutil.which(tool)
    if exe is None:
        raise DatabaseError(f"{tool} not found; {PG_TOOLS_HINT}")
    conn, env = pg_connection(url) if url is not None else ([], dict(os.environ))
    done = subprocess.run([exe, *conn, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise DatabaseError(f"{tool} failed ({done.returncode}): {' | '.join(detail)}")
    return done.stdout

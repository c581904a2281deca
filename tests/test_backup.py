"""Backup while the service writes, restore into a fresh database, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from monitor.cli import main
from monitor.domain import Incident
from monitor.storage.backup import pg_connection
from monitor.storage.db import Database, DatabaseError
from monitor.storage.lock import EngineLock
from monitor.storage.migrate import require_current_schema
from monitor.storage.repo.incidents import create_incidents, incident_row
from monitor.storage.schema import incidents

from .conftest import PG_ENV, START, PgServer


async def _add(db: Database, n: int, prefix: str = "事件") -> None:
    async with db.write() as conn:
        await create_incidents(conn, [Incident(title=f"{prefix}{i}", detected_at=START) for i in range(n)], START)


async def _add_at_older_revision(db: Database, n: int, prefix: str) -> None:
    """Incidents written with only the columns every revision since 0008 has (later migrations add
    columns, e.g. 0010's assigned_at, which an older schema lacks)."""
    common = ("title", "detected_at", "status", "created_at", "updated_at")
    async with db.write() as conn:
        rows = [
            {k: v for k, v in {**incident_row(Incident(title=f"{prefix}{i}", detected_at=START)),
                               "created_at": START, "updated_at": START}.items() if k in common}
            for i in range(n)
        ]  # fmt: skip
        await conn.execute(insert(incidents), rows)


async def _count(url: str) -> int:
    db = Database.open(url)
    try:
        await require_current_schema(db)  # the restored database is usable as it is
        async with db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(incidents))).scalar_one())
    finally:
        await db.close()


async def test_sqlite_backup_while_writing_and_restore(tmp_path: Path, sqlite_template: Path, capsys):
    path = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    db = Database.open(url)
    await _add(db, 50)
    stop = asyncio.Event()

    async def keep_writing() -> int:
        batches = 0
        while not stop.is_set():
            await _add(db, 10, "写入中")
            batches += 1
            await asyncio.sleep(0)
        return batches

    writer = asyncio.create_task(keep_writing())
    backup_file = tmp_path / "backups/monitor-1.db"
    assert await asyncio.to_thread(main, ["--database-url", url, "backup", "--out", str(backup_file)]) == 0
    stop.set()
    batches = await writer
    await db.close()
    assert "backup written to" in capsys.readouterr().out
    copied = await _count(f"sqlite+aiosqlite:///{backup_file}")
    assert 50 <= copied <= 50 + 10 * batches and (copied - 50) % 10 == 0  # whole transactions only
    # restore into a fresh file, then over the live one
    fresh = tmp_path / "fresh.db"
    assert (
        await asyncio.to_thread(
            main, ["--database-url", f"sqlite+aiosqlite:///{fresh}", "restore", str(backup_file), "--yes"]
        )
        == 0
    )
    assert await _count(f"sqlite+aiosqlite:///{fresh}") == copied
    assert await asyncio.to_thread(main, ["--database-url", url, "restore", str(backup_file), "--yes"]) == 0
    assert await _count(url) == copied
    assert await asyncio.to_thread(main, ["--database-url", url, "backup", "--out", str(backup_file)]) == 2
    assert "never overwritten" in capsys.readouterr().err


def test_sqlite_restore_is_refused_under_a_running_engine(tmp_path: Path, sqlite_template: Path, capsys):
    path = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    lock = EngineLock.for_database(url)
    assert lock is not None
    lock.acquire(START)
    try:
        assert main(["--database-url", url, "restore", str(sqlite_template), "--yes"]) == 2
        assert "is in use by an engine runner" in capsys.readouterr().err
    finally:
        lock.release()
    assert main(["--database-url", url, "restore", str(sqlite_template)]) == 2
    assert "add --yes" in capsys.readouterr().err
    bad = tmp_path / "not-a-db"
    bad.write_text("hello")
    assert main(["--database-url", url, "restore", str(bad), "--yes"]) == 2
    assert "not a SQLite database backup" in capsys.readouterr().err


def test_sqlite_restore_is_refused_while_another_process_has_the_file_open(
    tmp_path: Path, sqlite_template: Path, capsys
):
    """A web-only `monitor serve` may share the file without the engine lock; replacing the file under
    it would leave it reading and writing the deleted one, so whatever it records next is lost."""
    path = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    other = sqlite3.connect(path)  # as a web node's pooled connection
    try:
        other.execute("SELECT count(*) FROM incidents").fetchone()
        assert main(["--database-url", url, "restore", str(sqlite_template), "--yes"]) == 2
        assert "open in another process" in capsys.readouterr().err
    finally:
        other.close()
    assert main(["--database-url", url, "restore", str(sqlite_template), "--yes"]) == 0


@pytest.mark.pg
async def test_postgresql_dump_and_restore_into_a_fresh_database(pg_server: PgServer | None, tmp_path: Path, capsys):
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    source = await pg_server.create(template=pg_server.template)
    url = pg_server.url_for(source)
    db = Database.open(url)
    try:
        await _add(db, 120)
    finally:
        await db.close()
    dump = tmp_path / "monitor.dump"
    assert await asyncio.to_thread(main, ["--database-url", url, "backup", "--out", str(dump)]) == 0
    target = await pg_server.create(template="template0")  # an empty database
    target_url = pg_server.url_for(target)
    assert await asyncio.to_thread(main, ["--database-url", target_url, "restore", str(dump), "--yes"]) == 0
    assert await _count(target_url) == 120
    # restoring again over the same database replaces, not appends
    assert await asyncio.to_thread(main, ["--database-url", target_url, "restore", str(dump), "--yes"]) == 0
    assert await _count(target_url) == 120
    capsys.readouterr()
    assert (
        await asyncio.to_thread(main, ["--database-url", url, "restore", str(tmp_path / "missing.dump"), "--yes"]) == 2
    )
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.pg
async def test_postgresql_restore_of_an_older_backup_over_a_newer_schema_says_how(
    pg_server: PgServer | None, tmp_path: Path, capsys
):
    """pg_restore --clean drops only what the dump holds: tables a later migration added would stay
    (with their rows) and `monitor migrate` would then fail on them, so the restore refuses first."""
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    older = "0008_collect3_drop_items_simhash"
    url = pg_server.url_for(await pg_server.create(template=pg_server.template))
    assert await asyncio.to_thread(main, ["--database-url", url, "migrate", "--to", older]) == 0
    db = Database.open(url)
    try:
        await _add_at_older_revision(db, 7, "旧")
    finally:
        await db.close()
    dump = tmp_path / "older.dump"
    assert await asyncio.to_thread(main, ["--database-url", url, "backup", "--out", str(dump)]) == 0
    target_url = pg_server.url_for(await pg_server.create(template=pg_server.template))  # at head
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["--database-url", target_url, "restore", str(dump), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "org_people" in err and f"monitor migrate --to {older}" in err, err
    # following the message works: down to the backup's revision, restore, migrate
    for command in (["migrate", "--to", older], ["restore", str(dump), "--yes"], ["migrate"]):
        assert await asyncio.to_thread(main, ["--database-url", target_url, *command]) == 0, command
    assert await _count(target_url) == 7


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


@pytest.mark.pg
@pytest.mark.parametrize("query", ["sslmode=require", "ssl=require"])
async def test_postgresql_backup_keeps_the_urls_ssl_requirement(
    pg_server: PgServer | None, tmp_path: Path, capsys, query: str
):
    """The test server has no TLS: a URL that requires it must make pg_dump refuse, not quietly
    connect in the clear (the option used to be dropped from the tools' connection)."""
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    url = _with_query(pg_server.url_for(await pg_server.create(template=pg_server.template)), query)
    out = tmp_path / "monitor.dump"
    assert await asyncio.to_thread(main, ["--database-url", url, "backup", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "pg_dump failed" in err and "SSL" in err, err
    assert not out.exists()  # no empty file that looks like a backup
    relaxed = url.replace("=require", "=disable")  # the same URL without the requirement works
    assert await asyncio.to_thread(main, ["--database-url", relaxed, "backup", "--out", str(out)]) == 0


@pytest.mark.pg
async def test_postgresql_restore_keeps_the_urls_server_options(pg_server: PgServer | None, tmp_path: Path, capsys):
    """`options=-c …` reaches the server: a read-only session makes pg_restore fail and change nothing."""
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    source = pg_server.url_for(await pg_server.create(template=pg_server.template))
    db = Database.open(source)
    try:
        await _add(db, 3)
    finally:
        await db.close()
    dump = tmp_path / "monitor.dump"
    assert await asyncio.to_thread(main, ["--database-url", source, "backup", "--out", str(dump)]) == 0
    target = pg_server.url_for(await pg_server.create(template=pg_server.template))
    read_only = _with_query(target, "options=-c%20default_transaction_read_only%3Don")
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["--database-url", read_only, "restore", str(dump), "--yes"]) == 2
    assert "read-only transaction" in capsys.readouterr().err
    assert await _count(target) == 0
    assert await asyncio.to_thread(main, ["--database-url", target, "restore", str(dump), "--yes"]) == 0
    assert await _count(target) == 3


@pytest.mark.pg
def test_the_tools_connection_carries_every_libpq_option(pg_server: PgServer | None):
    """Run psql with the connection the tools get and ask the server what it received (values with
    spaces and quotes survive; the password stays out of the command line)."""
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    url = _with_query(
        pg_server.url_for(pg_server.template),
        "options=-c%20statement_timeout%3D4321%20-c%20lock_timeout%3D1234"
        "&application_name=monitor%27s%20backup&ssl=disable&command_timeout=60",
    )
    args, env = pg_connection(url)
    query = "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
    query += "current_setting('application_name'), current_database()"
    done = subprocess.run(
        ["psql", *args, "--no-psqlrc", "--tuples-only", "--no-align", "--field-separator=|", "--command", query],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip().split("|") == ["4321ms", "1234ms", "monitor's backup", pg_server.template]
    secret = pg_server.admin_url.password
    assert not secret or all(secret not in a for a in args)


def test_a_url_option_the_tools_cannot_honour_is_refused_not_dropped():
    with pytest.raises(DatabaseError, match="ssl=maybe"):
        pg_connection("postgresql://monitor@db.internal/monitor?ssl=maybe")
    with pytest.raises(DatabaseError, match="sslmode"):
        pg_connection("postgresql://monitor@db.internal/monitor?sslmode=require&sslmode=disable")

"""Shared fixtures: a FakeClock, and migrated databases on SQLite and (when configured) PostgreSQL.

PostgreSQL cases run when MONITOR_TEST_PG_URL is set (`.ci/run` sets it) and are skipped with
the reason otherwise. Each test gets a fresh database cloned from a migrated template, so tests
are isolated and fast.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from monitor.clock import FakeClock
from monitor.storage.db import Database, normalize_url
from monitor.storage.migrate import migrate

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
PG_ENV = "MONITOR_TEST_PG_URL"
START = datetime(2026, 9, 24, 1, 0, tzinfo=UTC)  # 09:00 Asia/Shanghai


@pytest.fixture
async def play() -> AsyncIterator[Any]:
    """A feed playground served on loopback (tests/feedplay.py, a Playground); held and
    never-answering handlers are released at teardown."""
    from .feedplay import Playground, start  # feedplay imports this module's START

    playground = Playground()
    server = await start(playground)
    yield playground
    playground.release.set()
    playground.never.set()
    await server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even if an event loop is running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    run_sync(_migrate_url(f"sqlite+aiosqlite:///{path}"))
    return path


async def _migrate_url(url: str) -> None:
    db = Database.open(url)
    try:
        await migrate(db)
    finally:
        await db.close()


class PgServer:
    """Creates throw-away databases on the PostgreSQL server named by MONITOR_TEST_PG_URL."""

    def __init__(self, url: str) -> None:
        self.admin_url = normalize_url(url)
        self.prefix = f"monitor_t{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    async def execute(self, sql: str) -> None:
        import asyncpg

        u = self.admin_url
        conn = await asyncpg.connect(
            user=u.username, password=u.password, host=u.host, port=u.port or 5432, database=u.database
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{len(self.created)}" if template else self.template
        clause = f" TEMPLATE {template}" if template else ""
        await self.execute(f'CREATE DATABASE "{name}"{clause}')
        self.created.append(name)
        return name

    async def drop_all(self) -> None:
        for name in reversed(self.created):
            await self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    url = os.environ.get(PG_ENV)
    if not url:
        yield None
        return
    server = PgServer(url)
    run_sync(server.create())
    run_sync(_migrate_url(server.url_for(server.template)))
    yield server
    run_sync(server.drop_all())


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """A freshly migrated database; every storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "monitor.db"
        shutil.copyfile(sqlite_template, path)
        database = Database.open(f"sqlite+aiosqlite:///{path}")
    else:
        server: PgServer | None = request.getfixturevalue("pg_server")
        if server is None:
            pytest.skip(f"PostgreSQL case skipped: set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
        name = await server.create(template=server.template)
        database = Database.open(server.url_for(name))
    try:
        yield database
    finally:
        await database.close()
        if request.param == "postgresql":
            await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database, for tests that are not about storage differences."""
    path = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, path)
    database = Database.open(f"sqlite+aiosqlite:///{path}")
    try:
        yield database
    finally:
        await database.close()

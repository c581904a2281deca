"""Live updates across processes on PostgreSQL: the incident_events trigger, NOTIFY, LISTEN, reconnects.

Also here: concurrent `monitor migrate` runs on one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from monitor.domain import EventKind, Incident, IncidentEvent
from monitor.storage.changefeed import PgChangeFeed, asyncpg_dsn, chunks, parse_payload
from monitor.storage.db import Database
from monitor.storage.migrate import current_revision, head_revision, migrate
from monitor.storage.repo.incidents import append_events, create_incidents

from .conftest import PG_ENV, START, PgServer

WAIT = 30  # seconds: generous bounds on waits for the database; nothing here sleeps


def test_payloads_parse_and_split():
    assert parse_payload("1,2,3") == (None, frozenset({1, 2, 3}))
    assert parse_payload("abc|4,x,5") == ("abc", frozenset({4, 5}))
    assert chunks(range(1, 1201), 500)[0].count(",") == 499 and len(chunks(range(1, 1201), 500)) == 3


@pytest.fixture
async def pg(pg_server: PgServer | None) -> AsyncIterator[tuple[Database, str]]:
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    name = await pg_server.create(template=pg_server.template)
    url = pg_server.url_for(name)
    db = Database.open(url)
    try:
        yield db, url
    finally:
        await db.close()
        await pg_server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _incidents(db: Database, n: int) -> list[int]:
    async with db.write() as conn:
        return await create_incidents(conn, [Incident(title=f"事件{i}", detected_at=START) for i in range(n)], START)


async def _note(db: Database, ids: list[int], *, fail: bool = False) -> None:
    events = [IncidentEvent(i, EventKind.NOTE_ADDED, START, "test", {"text": "备注"}) for i in ids]
    with pytest.raises(RuntimeError) if fail else _nothing():
        async with db.write() as conn:
            await append_events(conn, events, START)
            if fail:
                raise RuntimeError("roll back")


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


async def test_timeline_rows_of_any_writer_reach_listeners_after_commit_only(pg):
    db, url = pg
    a, b, c = await _incidents(db, 3)
    feed = PgChangeFeed(url)
    try:
        with feed.subscribe() as sub:
            await asyncio.wait_for(feed.connected.wait(), WAIT)
            await _note(db, [a], fail=True)  # rolled back: never announced
            await _note(db, [b, c])  # committed by "another process" (a plain connection, no notify call)
            got = await asyncio.wait_for(sub.next(), WAIT)
            assert got == {b, c}
    finally:
        await feed.close()


async def test_notify_changed_reaches_other_nodes_once_and_this_node_at_once(pg):
    db, url = pg
    (iid,) = await _incidents(db, 1)
    writer, web_node = PgChangeFeed(url), PgChangeFeed(url)
    try:
        with web_node.subscribe() as remote, writer.subscribe() as local:
            await asyncio.wait_for(web_node.connected.wait(), WAIT)
            await asyncio.wait_for(writer.connected.wait(), WAIT)
            writer.notify_changed([iid])
            assert await asyncio.wait_for(local.next(), WAIT) == {iid}  # delivered in-process, no round trip
            assert await asyncio.wait_for(remote.next(), WAIT) == {iid}
            await _note(db, [iid])  # a marker after the NOTIFY: the writer's own NOTIFY must not come back
            assert await asyncio.wait_for(local.next(), WAIT) == {iid}
            assert await asyncio.wait_for(remote.next(), WAIT) == {iid}
            assert writer.received == 1 and web_node.received == 2  # the writer heard only the trigger
    finally:
        await writer.close()
        await web_node.close()


async def test_the_listener_reconnects_after_losing_its_connection(pg):
    db, url = pg
    (iid,) = await _incidents(db, 1)
    feed = PgChangeFeed(url)
    admin = await asyncpg.connect(asyncpg_dsn(url))
    try:
        with feed.subscribe() as sub:
            await asyncio.wait_for(feed.wait_sessions(1), WAIT)
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
            assert killed == 1
            await asyncio.wait_for(feed.wait_sessions(2), WAIT)
            await _note(db, [iid])
            assert await asyncio.wait_for(sub.next(), WAIT) == {iid}
    finally:
        await admin.close()
        await feed.close()


async def test_concurrent_migrations_queue_and_all_succeed(pg_server: PgServer | None):
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    name = await pg_server.create(template="template0")  # empty
    dbs = [Database.open(pg_server.url_for(name)) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(db) for db in dbs))
        head = head_revision()
        assert sorted(before is None for before, _ in results) == [False, False, True]  # one did the work
        assert all(after == head for _, after in results)
        assert await migrate(dbs[0]) == (head, head)  # and once more: nothing to do
        assert await current_revision(dbs[1]) == head
    finally:
        for db in dbs:
            await db.close()
        await pg_server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""The change feed over PostgreSQL LISTEN/NOTIFY: every process's writes reach every web node.

Two things put incident ids on the `monitor_changes` channel:

- a statement-level trigger on `incident_events` (migration 0007): every timeline row any
  process inserts — engine, collector, notifier workers, CLI imports — is announced by
  PostgreSQL itself when its transaction commits, and never when it rolls back;
- `PgChangeFeed.notify_changed(ids)`, for changes that append no timeline row. It fans out to
  this process's subscribers at once and sends `NOTIFY` with its own sender id, which its own
  listener then skips.

The listener holds one dedicated connection (not from the pool), reconnects with backoff when it
drops, and pings it so a silently dead connection is noticed. Notifications sent while it was
disconnected are not replayed: the web's polling fallback (`live_poll_s`) reads the timeline rows
it missed, so nothing is lost, only later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from typing import Any

import asyncpg

from monitor.changes import LocalChangeFeed, Subscription
from monitor.clock import Clock, SystemClock
from monitor.storage.db import normalize_url, pg_connect_args

log = logging.getLogger(__name__)

CHANNEL = "monitor_changes"
MAX_IDS_PER_NOTIFY = 500  # keeps a payload far below PostgreSQL's 8000-byte limit


def asyncpg_dsn(database_url: str) -> str:
    """The DSN asyncpg connects to (host, port, user, password, database), from a SQLAlchemy database
    URL; its query options are `asyncpg_connect_args(database_url)`."""
    url = normalize_url(database_url).set(drivername="postgresql", query={})
    return url.render_as_string(hide_password=False)


def asyncpg_connect_args(database_url: str) -> dict[str, Any]:
    """The keyword arguments of asyncpg.connect for the URL's options (sslmode, options=-c …), as the
    service's own engine uses them."""
    return pg_connect_args(normalize_url(database_url))[1]


def parse_payload(payload: str) -> tuple[str | None, frozenset[int]]:
    """`"sender|1,2"` or `"1,2"` (from the trigger) → (sender, ids); malformed parts are ignored."""
    sender, sep, body = payload.rpartition("|")
    ids = frozenset(int(part) for part in body.split(",") if part.strip().isdigit())
    return (sender if sep else None), ids


def chunks(ids: Iterable[int], size: int = MAX_IDS_PER_NOTIFY) -> list[str]:
    ordered = sorted(ids)
    return [",".join(map(str, ordered[i : i + size])) for i in range(0, len(ordered), size)]


class PgChangeFeed:
    """A `ChangeFeed` for PostgreSQL. `close()` it when the process stops."""

    def __init__(
        self, database_url: str, *, clock: Clock | None = None, retry_max_s: float = 30.0, ping_s: float = 30.0
    ) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.connect_args = asyncpg_connect_args(database_url)
        self.clock = clock or SystemClock()
        self.sender = uuid.uuid4().hex[:12]
        self.retry_max_s, self.ping_s = retry_max_s, ping_s
        self.connected = asyncio.Event()  # the listener is LISTENing (tests wait on it)
        self.received = 0  # notifications from other senders (and the trigger) handed to subscribers
        self._local = LocalChangeFeed()
        self._outgoing: set[int] = set()
        self._wake = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closed = False
        self.sessions = 0  # LISTEN sessions established so far (1 + reconnects)
        self._session_changed = asyncio.Condition()

    # --- ChangeFeed --------------------------------------------------------------------
    def notify_changed(self, incident_ids: Iterable[int]) -> None:
        ids = frozenset(int(i) for i in incident_ids)
        if not ids or self._closed:
            return
        self._local.notify_changed(ids)
        self._outgoing.update(ids)
        self._wake.set()
        self._ensure("sender", self._send_forever)

    def subscribe(self) -> Subscription:
        self._ensure("listener", self._listen_forever)
        return self._local.subscribe()

    def unsubscribe(self, subscription: Subscription) -> None:
        self._local.unsubscribe(subscription)

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    # --- internals ---------------------------------------------------------------------
    def _ensure(self, name: str, loop: Any) -> None:
        task = self._tasks.get(name)
        if (task is None or task.done()) and not self._closed:
            self._tasks[name] = asyncio.create_task(loop(), name=f"changefeed-{name}")

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        sender, ids = parse_payload(payload)
        if sender == self.sender or not ids:
            return
        self.received += 1
        self._local.notify_changed(ids)

    async def _listen_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self.dsn, **self.connect_args)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("change feed: cannot connect for LISTEN (%s); retrying in %.0f s", exc, delay)
                await self.clock.sleep(delay)
                delay = min(self.retry_max_s, delay * 2)
                continue
            delay = 0.5
            try:
                await self._listen_on(conn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("change feed: LISTEN connection lost (%s); reconnecting", exc)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)

    async def wait_sessions(self, count: int) -> None:
        """Until the listener has (re)connected `count` times in all (tests)."""
        async with self._session_changed:
            await self._session_changed.wait_for(lambda: self.sessions >= count)

    async def _listen_on(self, conn: Any) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _c: lost.set())
        await conn.add_listener(CHANNEL, self._on_notify)
        self.connected.set()
        async with self._session_changed:
            self.sessions += 1
            self._session_changed.notify_all()
        log.info(
            "change feed: listening on %s", CHANNEL, extra={"event": "changefeed.listen", "session": self.sessions}
        )
        while not lost.is_set():
            await _first(lost.wait(), self.clock.sleep(self.ping_s))
            if not lost.is_set():
                await conn.fetchval("SELECT 1", timeout=10)  # raises when the connection died silently

    async def _send_forever(self) -> None:
        conn: Any = None
        delay = 0.5
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                batch, self._outgoing = self._outgoing, set()
                try:
                    conn = (
                        conn
                        if conn is not None and not conn.is_closed()
                        else await asyncpg.connect(self.dsn, **self.connect_args)
                    )
                    for part in chunks(batch):
                        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{self.sender}|{part}")
                    delay = 0.5
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("change feed: NOTIFY failed (%s); other nodes will poll for the changes", exc)
                    conn = None
                    await self.clock.sleep(delay)
                    delay = min(self.retry_max_s, delay * 2)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)


async def _first(*aws: Any) -> None:
    """Wait until the first of these awaitables finishes; cancel the rest."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()

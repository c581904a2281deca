"""Change notifications: which incidents changed, fanned out to live views (the duty queue's SSE).

Whatever writes incidents or their timeline calls `feed.notify_changed(incident_ids)` AFTER its
transaction commits (never inside it: a rolled-back change must not be announced). Readers
`subscribe()` and receive the changed ids in batches. A subscriber that falls behind is never
blocked on and never grows without bound: pending ids coalesce into one set.

`LocalChangeFeed` is the in-process implementation (SQLite, one process). Writers in other
processes are picked up by the web's polling fallback, which reads new `incident_events` rows by
id and feeds them in here. On PostgreSQL, `monitor.storage.changefeed.PgChangeFeed` implements the
same interface over LISTEN/NOTIFY, so writes of every process reach every web node at once.

Call `notify_changed` from the event loop's thread (it wakes asyncio waiters).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType
from typing import Protocol


class Subscription:
    """One reader's view of a feed: `await next()` returns the ids changed since the last call."""

    def __init__(self, on_close: ChangeFeed | None = None) -> None:
        self._pending: set[int] = set()
        self._ready = asyncio.Event()
        self._feed = on_close
        self.closed = False

    def push(self, incident_ids: Iterable[int]) -> None:
        if self.closed:
            return
        self._pending.update(incident_ids)
        self._ready.set()

    async def next(self) -> frozenset[int]:
        """Wait for changes; returns an empty set once the subscription is closed."""
        while not self._pending and not self.closed:
            await self._ready.wait()
            self._ready.clear()
        batch, self._pending = frozenset(self._pending), set()
        return batch

    def close(self) -> None:
        self.closed = True
        self._ready.set()
        if self._feed is not None:
            self._feed.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


class ChangeFeed(Protocol):
    """Announce and observe changed incidents."""

    def notify_changed(self, incident_ids: Iterable[int]) -> None:
        """Announce (after commit) that these incidents or their timelines changed."""
        ...

    def subscribe(self) -> Subscription:
        """Start receiving announcements; close the subscription when done."""
        ...

    def unsubscribe(self, subscription: Subscription) -> None: ...

    async def close(self) -> None:
        """Release connections and background tasks (when the process stops)."""
        ...


class LocalChangeFeed:
    """In-process fan-out to every subscriber."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def notify_changed(self, incident_ids: Iterable[int]) -> None:
        ids = frozenset(int(i) for i in incident_ids)
        if not ids:
            return
        for subscription in list(self._subscribers):
            subscription.push(ids)

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    async def close(self) -> None:
        for subscription in list(self._subscribers):
            subscription.close()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

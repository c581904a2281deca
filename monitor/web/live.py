"""Live updates: changed incidents are fanned out to every open queue / incident page.

Sources of changes: `services.changes` (writers in this process call `notify_changed` after
commit) and a polling fallback that reads new `incident_events` rows (writers in other
processes, or any writer that forgot to notify). The hub loads the changed incidents once per
batch (one query, whatever the number of clients), drops those whose version did not move, and
gives each client only the incidents it may see.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator

from aiohttp import web

from monitor.changes import Subscription
from monitor.storage.repo.changes import poll_changes, start_cursor
from monitor.storage.repo.org_people import apply_overrides, overrides_revision
from monitor.storage.repo.queue import incident_versions
from monitor.web.keys import LIVE
from monitor.web.services import WebServices

log = logging.getLogger(__name__)
MAX_REMEMBERED_VERSIONS = 100_000


class LiveClient(Subscription):
    """One connected page: receives the ids of visible incidents that changed."""

    def __init__(self, scope: frozenset[str] | None) -> None:
        super().__init__()
        self.scope = scope

    def sees(self, units: frozenset[str]) -> bool:
        return self.scope is None or bool(self.scope & units)


class LiveHub:
    def __init__(self, services: WebServices) -> None:
        self.services = services
        self.clients: set[LiveClient] = set()
        self._versions: OrderedDict[int, tuple[str, int]] = OrderedDict()
        self.fanouts = 0

    def connect(self, scope: frozenset[str] | None) -> LiveClient:
        client = LiveClient(scope)
        self.clients.add(client)
        return client

    def disconnect(self, client: LiveClient) -> None:
        client.close()
        self.clients.discard(client)

    def close(self) -> None:
        for client in list(self.clients):
            self.disconnect(client)

    async def fan_out(self, incident_ids: frozenset[int]) -> None:
        async with self.services.db.read() as conn:
            versions = await incident_versions(conn, sorted(incident_ids))
        changed = [v for v in versions.values() if self._versions.get(v.id) != v.version]
        for v in changed:
            self._versions[v.id] = v.version
            self._versions.move_to_end(v.id)
        while len(self._versions) > MAX_REMEMBERED_VERSIONS:
            self._versions.popitem(last=False)
        for client in list(self.clients):
            visible = [v.id for v in changed if client.sees(v.units)]
            if visible:
                client.push(visible)
        self.fanouts += 1

    async def run_fan_out(self) -> None:
        with self.services.changes.subscribe() as subscription:
            while True:
                ids = await subscription.next()
                if not ids:
                    return
                try:
                    await self.fan_out(ids)
                except Exception:
                    log.exception("live update fan-out failed for incidents %s", sorted(ids)[:20])

    async def run_poller(self) -> None:
        """Catch changes committed by other processes: read new timeline rows every live_poll_s,
        and apply people edited on another web node (org_people) to this process's directory."""
        async with self.services.db.read() as conn:
            cursor = await start_cursor(conn)
            org_revision = await overrides_revision(conn)
        while True:
            await self.services.clock.sleep(self.services.settings.live_poll_s)
            try:
                async with self.services.db.read() as conn:
                    changed = await poll_changes(conn, cursor)
                    if await overrides_revision(conn) != org_revision:
                        org_revision = await apply_overrides(conn, self.services.org)
            except Exception:
                log.exception("polling for incident changes failed; retrying")
                continue
            if changed:
                self.services.changes.notify_changed(changed)


async def live_updates_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: run the hub's fan-out and poller for the application's lifetime."""
    hub = app[LIVE]
    tasks = [asyncio.create_task(hub.run_fan_out()), asyncio.create_task(hub.run_poller())]
    yield
    hub.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def close_clients(app: web.Application) -> None:
    """on_shutdown: end every open event stream so the server can stop."""
    if LIVE in app:
        app[LIVE].close()

"""Composition root: builds the service from settings. Nothing else opens connections."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from monitor.changes import ChangeFeed, LocalChangeFeed
from monitor.clock import Clock, SystemClock
from monitor.config import Settings, resolve_org_file, resolve_playbook_file
from monitor.domain import OrgDirectory
from monitor.domain.playbooks import Playbook
from monitor.engine.calendar import WorkCalendar
from monitor.policy import load_org
from monitor.policy.playbooks import LoadedPolicy, load_policy
from monitor.storage.db import Database
from monitor.storage.migrate import migrate, require_current_schema
from monitor.storage.repo.org_people import apply_overrides
from monitor.web.app import create_web_app

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _shipped_policy() -> LoadedPolicy:
    return load_policy(resolve_playbook_file(Settings()))


@dataclass
class Services:
    """Everything a running process shares."""

    settings: Settings
    clock: Clock
    db: Database
    org: OrgDirectory
    changes: ChangeFeed = field(default_factory=LocalChangeFeed)  # call notify_changed(ids) after commit
    # The current rules (incidents run under the snapshot taken when confirmed) and the working-day
    # calendar. open_services() loads the configured ones; the defaults are the shipped files.
    playbook: Playbook = field(default_factory=lambda: _shipped_policy().playbook)
    calendar: WorkCalendar = field(default_factory=lambda: _shipped_policy().calendar.copy())


async def open_services(settings: Settings, *, clock: Clock | None = None, auto_migrate: bool = False) -> Services:
    """Open the database (migrating it when asked, else requiring the current schema) and load the org."""
    org = load_org(resolve_org_file(settings))
    policy = load_policy(resolve_playbook_file(settings))
    db = Database.open(settings.database_url)
    try:
        if auto_migrate:
            await migrate(db)
        else:
            await require_current_schema(db)
        async with db.read() as conn:
            await apply_overrides(conn, org)  # people edited on the web's /org page
    except Exception:
        await db.close()
        raise
    return Services(
        settings=settings,
        clock=clock or SystemClock(),
        db=db,
        org=org,
        changes=change_feed(settings, db),
        playbook=policy.playbook,
        calendar=policy.calendar,
    )


def change_feed(settings: Settings, db: Database) -> ChangeFeed:
    """In-process fan-out on SQLite; LISTEN/NOTIFY on PostgreSQL, so every process's writes reach every web node."""
    if db.is_sqlite:
        return LocalChangeFeed()
    from monitor.storage.changefeed import PgChangeFeed  # asyncpg is the [postgres] extra

    return PgChangeFeed(settings.database_url, clock=SystemClock())  # connection timing is wall time


def create_app(services: Services) -> web.Application:
    """The aiohttp application; closes the database on shutdown."""
    app = create_web_app(services)

    async def _close_db(_app: web.Application) -> AsyncIterator[None]:
        yield
        await services.db.close()

    app.cleanup_ctx.append(_close_db)
    return app

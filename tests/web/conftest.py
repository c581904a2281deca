"""Fixtures for the web: a real aiohttp server on loopback over a migrated database, a FakeClock,
one account per role, and helpers to log in, post forms with CSRF tokens and create incidents."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, select, update

from monitor.app import Services
from monitor.changes import LocalChangeFeed
from monitor.clock import FakeClock
from monitor.config import load_settings
from monitor.domain import EventLevel, Incident, IncidentStatus, OpinionLevel, OrgDirectory, UserRole
from monitor.domain import commands as c
from monitor.engine.commands import execute
from monitor.policy import load_org
from monitor.storage.db import Database
from monitor.storage.repo.incidents import attach_items, create_incidents
from monitor.storage.repo.items import Evidence, insert_items, store_evidence
from monitor.storage.repo.sources import add_sources
from monitor.storage.schema import audit_log, incidents, obligations
from monitor.web.app import create_web_app
from monitor.web.auth.accounts import NewAccount, add_account
from monitor.web.auth.passwords import PasswordHasher

REPO = Path(__file__).resolve().parents[2]
ORG = load_org(REPO / "playbooks/org/demo-city.yaml")
PASSWORD = "correct-horse-42"
# A valid 新增信息源 form (tests change one field at a time).
SOURCE = {
    "name": "明湖日报",
    "url": "https://news.minghu.example/rss.xml",
    "kind": "feed",
    "media_tier": "city",
    "region_hint": "",
    "poll_min_s": "300",
    "poll_max_s": "3600",
    "expected_per_day": "20",
    "credentials_ref": "",
    "options": "{}",
    "enabled": "on",
}
ACCOUNTS = {
    UserRole.DUTY_OFFICER: NewAccount("duty", UserRole.DUTY_OFFICER, "朱敏", person_id="zhu_min"),
    UserRole.UNIT_HANDLER: NewAccount(
        "unit", UserRole.UNIT_HANDLER, "王晨阳", unit_id="housing", person_id="wang_chenyang"
    ),
    UserRole.LEADER: NewAccount("leader", UserRole.LEADER, "钱志强", person_id="qian_zhiqiang"),
    UserRole.ANALYST: NewAccount("analyst", UserRole.ANALYST, "分析员"),
    UserRole.ADMIN: NewAccount("admin", UserRole.ADMIN, "管理员"),
    UserRole.GOV_OFFICE: NewAccount("gov", UserRole.GOV_OFFICE, "蒋文博", person_id="jiang_wenbo"),
}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
CSRF_INPUT = re.compile(r'name="_csrf" value="([^"]*)"')


@dataclass
class WebEnv:
    services: Services
    hasher: PasswordHasher
    client: TestClient
    clock: FakeClock

    @property
    def db(self) -> Database:
        return self.services.db

    async def new_client(self) -> TestClient:
        """Another browser (its own cookie jar) on the same server."""
        client = TestClient(self.client.server)
        await client.start_server()
        self._extra.append(client)
        return client

    _extra: list[TestClient] = field(default_factory=list)

    async def login(self, role: UserRole, client: TestClient | None = None) -> TestClient:
        client = client or await self.new_client()
        await login(client, ACCOUNTS[role].username, PASSWORD)
        return client

    async def audit(self, action: str | None = None) -> list[Any]:
        query = select(audit_log).order_by(audit_log.c.id)
        if action:
            query = query.where(audit_log.c.action == action)
        async with self.db.read() as conn:
            return list(await conn.execute(query))


async def login(client: TestClient, username: str, password: str, next_url: str = "/queue") -> aiohttp.ClientResponse:
    page = await client.get("/login")
    token = CSRF_INPUT.search(await page.text())
    assert token, "login form has no CSRF field"
    return await client.post(
        "/login",
        data={"username": username, "password": password, "_csrf": token.group(1), "next": next_url},
        allow_redirects=False,
    )


async def csrf_of(client: TestClient, path: str = "/account") -> str:
    found = CSRF_META.search(await (await client.get(path)).text())
    assert found and found.group(1), f"no CSRF token on {path}"
    return found.group(1)


async def post_form(
    client: TestClient, path: str, data: dict[str, Any] | Sequence[tuple[str, Any]] | None = None, **kwargs: Any
) -> aiohttp.ClientResponse:
    token = await csrf_of(client)
    payload = list(data.items()) if isinstance(data, dict) else list(data or [])
    return await client.post(path, data=[*payload, ("_csrf", token)], allow_redirects=False, **kwargs)


def web_settings(**overrides: Any) -> Any:
    settings = load_settings(env={}).settings
    return dataclasses.replace(settings, session_secret="test-session-secret-0123456789abcdef", **overrides)


@pytest.fixture
async def web_env(sqlite_db: Database, clock: FakeClock) -> AsyncIterator[WebEnv]:
    async for env in make_env(sqlite_db, clock):
        yield env


@pytest.fixture
async def web_env_any(db: Database, clock: FakeClock) -> AsyncIterator[WebEnv]:
    """The same on SQLite and on PostgreSQL."""
    async for env in make_env(db, clock):
        yield env


def fresh_org() -> OrgDirectory:
    """A copy of the demo directory: people edited on /org change a directory in place."""
    return OrgDirectory.build(ORG.city, ORG.units.values(), ORG.people.values(), ORG.robots.values())


async def make_env(db: Database, clock: FakeClock, **settings: Any) -> AsyncIterator[WebEnv]:
    services = Services(
        settings=web_settings(**settings), clock=clock, db=db, org=fresh_org(), changes=LocalChangeFeed()
    )
    hasher = PasswordHasher.for_tests()
    for account in ACCOUNTS.values():
        await add_account(db, hasher, clock, ORG, account, PASSWORD, actor="test")
    app = create_web_app(services, hasher=hasher)
    client = TestClient(TestServer(app))
    await client.start_server()
    env = WebEnv(services, hasher, client, clock)
    try:
        yield env
    finally:
        for extra in env._extra:
            await extra.close()
        await client.close()


async def add_incident(
    db: Database,
    now: datetime,
    *,
    title: str = "东港化工园区爆炸",
    owner_unit: str | None = "emergency",
    co_units: Sequence[str] = (),
    region: str | None = "donggang",
    opinion_level: OpinionLevel | None = OpinionLevel.L1,
    event_level: EventLevel | None = EventLevel.II,
    status: IncidentStatus = IncidentStatus.ASSIGNED,
    due_in: timedelta | None = timedelta(hours=3),
    obligation: bool = False,
    detected_ago: timedelta = timedelta(hours=1),
) -> int:
    incident = Incident(
        title=title,
        detected_at=now - detected_ago,
        status=status,
        owner_unit=owner_unit,
        co_units=tuple(co_units),
        region=region,
        opinion_level=opinion_level,
        event_level=event_level,
        summary=f"{title}的摘要",
        item_count=1,
        source_count=1,
    )
    async with db.write() as conn:
        (incident_id,) = await create_incidents(conn, [incident], now)
        if due_in is not None:
            await conn.execute(update(incidents).where(incidents.c.id == incident_id).values(next_due_at=now + due_in))
        if obligation and due_in is not None:
            await conn.execute(
                insert(obligations).values(
                    incident_id=incident_id,
                    rule_id="GB80-AUTH-RELEASE-5H",
                    action="authoritative_release",
                    clock="natural_hours",
                    t0=now - timedelta(hours=2),
                    due_at=now + due_in,
                    status="open",
                    created_at=now,
                    updated_at=now,
                )
            )
    return incident_id


async def confirmed_incident(env: WebEnv, **kwargs: Any) -> int:
    """An incident opened as detected and confirmed through the clock engine, so its obligations
    are planned (II级/L1 detected an hour ago: the 5-hour release is due in 4 hours)."""
    incident = await add_incident(env.db, env.clock.now(), status=IncidentStatus.DETECTED, due_in=None, **kwargs)
    await execute(env.services, c.Confirm(incident_id=incident, actor="system", at=env.clock.now()))
    return incident


async def run_command(env: WebEnv, command: type[c.Command], incident: int, actor: str, **values: Any) -> None:
    """Execute a command directly through the engine (setting the scene for a web action)."""
    await execute(env.services, command(incident_id=incident, actor=actor, at=env.clock.now(), **values))


async def add_item_with_evidence(
    db: Database,
    now: datetime,
    incident_id: int,
    *,
    body: bytes,
    n: int = 1,
    classification: dict[str, Any] | None = None,
) -> str:
    """An item of a registered source, parsed from `body` (kept as evidence), attached to the incident."""
    import hashlib

    sha = hashlib.sha256(body).hexdigest()
    from monitor.domain import Source

    async with db.write() as conn:
        ids = await add_sources(conn, [Source(name="明湖日报", url=f"https://news.minghu.example/rss{n}.xml")], now)
        source_id = next(iter(ids.values()))
        await store_evidence(
            conn,
            [
                Evidence(
                    sha,
                    f"https://news.minghu.example/{n}",
                    now,
                    body,
                    content_type="application/rss+xml",
                    encoding="utf-8",
                )
            ],
        )
        keys = await insert_items(
            conn,
            [
                {
                    "dedup_key": f"key-{incident_id}-{n}",
                    "url": f"https://news.minghu.example/a/{n}.html",
                    "title": f"化工园区爆炸现场报道{n}",
                    "text": "东港化工园区发生爆炸，已造成人员受伤。",
                    "fetched_at": now,
                    "published_at": now - timedelta(minutes=30),
                    "created_at": now,
                    "raw_sha256": sha,
                    "source_id": source_id,
                    "media_tier": "city",
                    "media_type": "print",
                    "relevant": True,
                    "event_type": "work_safety",
                    "department": "emergency",
                    "classification": classification,
                    "classified_at": now,
                }
            ],
        )
        item_id = next(iter(keys.values()))[0]
        await attach_items(conn, incident_id, [item_id], now, {"why": "same event"})
    return sha


async def free_item(env: WebEnv, n: int = 1, **columns: Any) -> int:
    """A collected item in no incident, judged 非政务 by the classifier unless `columns` say otherwise."""
    now = env.clock.now()
    row = {
        "dedup_key": f"free-{n}",
        "url": f"https://bbs.minghu.example/t/{n}",
        "title": f"滨河花园小区连续三天停水，物业不理{n}",
        "text": "城南滨河花园小区连续三天停水，居民多次反映无人处理。",
        "fetched_at": now - timedelta(hours=1),
        "published_at": now - timedelta(hours=2),
        "created_at": now,
        "media_tier": "self_media",
        "relevant": False,
        "relevance_score": 0.3,
        "event_type": "not_gov",
        "opinion_level": "L4",
        "department": "water",
        "region": "chengnan",
        "classified_at": now - timedelta(hours=1),
        **columns,
    }
    async with env.db.write() as conn:
        stored = await insert_items(conn, [row])
    return stored[row["dedup_key"]][0]

"""Helpers shared by the notification tests: settings, outbox rows as the engine writes them, lookups."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from monitor.clock import Clock
from monitor.config import Settings, load_settings
from monitor.domain import EventLevel, Incident, IncidentStatus, OrgDirectory
from monitor.notifications.outbox import Notifier
from monitor.notifications.service import Channels, build_channels, create_notifier
from monitor.policy import load_org
from monitor.storage.db import Database
from monitor.storage.repo.incidents import create_incidents, list_events
from monitor.storage.repo.outbox import insert_rows
from monitor.storage.schema import notification_attempts, outbox

REPO = Path(__file__).resolve().parent.parent
ORG = load_org(REPO / "playbooks" / "org" / "demo-city.yaml")


async def until_parked(clock: Any, count: int = 1) -> None:
    """Until `count` tasks wait in clock.sleep() (no real time passes; no bound in turns or seconds:
    a loop's database thread may take a while on a loaded machine, and the test's timeout bounds it)."""
    await clock.until_sleepers(count)


def make_settings(**overrides: Any) -> Settings:
    base = load_settings(env={}).settings
    defaults = {"public_url": "https://yuqing.minghu.gov.example", "notify_console": False, "notify_quiet_hours": ""}
    return dataclasses.replace(base, **{**defaults, **overrides})


async def add_incident(db: Database, now: datetime, title: str = "东港化工园区爆炸") -> int:
    incident = Incident(
        title=title,
        status=IncidentStatus.ASSIGNED,
        detected_at=now - timedelta(hours=4),
        event_level=EventLevel.II,
        owner_unit="emergency",
    )
    async with db.write() as conn:
        return (await create_incidents(conn, [incident], now))[0]


def alert_row(
    now: datetime,
    incident_id: int | None,
    person_id: str | None,
    *,
    step: str = "warn-1h",
    kind: str = "deadline_warning",
    urgent: bool = True,
    channel: str | None = None,
    due_in: timedelta = timedelta(hours=1),
    title: str = "东港化工园区爆炸",
    owner_unit: str = "emergency",
    event_level: str = "II",
) -> dict[str, Any]:
    """An outbox row exactly as docs/contracts.md §3 says the engine writes it."""
    person = ORG.people.get(person_id) if person_id else None
    return {
        "idempotency_key": f"{incident_id}:7:{step}:0:{person_id}",
        "incident_id": incident_id,
        "obligation_id": None,
        "kind": kind,
        "urgent": urgent,
        "recipient": person_id,
        "channel": channel,
        "next_attempt_at": now,
        "created_at": now,
        "payload": {
            "template": kind,
            "text": f"【预警】{title}：5小时内发布权威信息，剩余1小时",
            "incident": {
                "id": incident_id,
                "title": title,
                "event_level": event_level,
                "opinion_level": "L1",
                "owner_unit": owner_unit,
                "owner_unit_name": ORG.units[owner_unit].name,
                "region": "donggang",
            },
            "rule": {"id": "GB80-AUTH-RELEASE-5H", "title": "5小时内发布权威信息", "source": "国办发〔2016〕80号"},
            "due_at": (now + due_in).isoformat(),
            "step": step,
            "role": "liaison",
            "person": {"id": person_id, "name": person.name if person else ""},
        },
    }


async def enqueue(db: Database, *rows: dict[str, Any]) -> None:
    async with db.write() as conn:
        await insert_rows(conn, list(rows))


async def outbox_rows(db: Database) -> list[Any]:
    async with db.read() as conn:
        return list((await conn.execute(select(outbox).order_by(outbox.c.id))).all())


async def attempt_rows(db: Database) -> list[Any]:
    async with db.read() as conn:
        query = select(notification_attempts).order_by(notification_attempts.c.id)
        return list((await conn.execute(query)).all())


async def timeline(db: Database, incident_id: int) -> list[Any]:
    async with db.read() as conn:
        return await list_events(conn, incident_id)


@asynccontextmanager
async def notifier(
    db: Database,
    clock: Clock,
    settings: Settings,
    env: dict[str, str] | None = None,
    *,
    org: OrgDirectory = ORG,
    write: Callable[[str], None] | None = None,
    worker: str = "w1",
    seed: int = 7,
) -> AsyncIterator[tuple[Notifier, Channels]]:
    rng = random.Random(seed)
    built = build_channels(settings, org, env or {}, clock, rng, write or (lambda _line: None))
    try:
        yield create_notifier(db, clock, settings, built, rng=rng, worker=worker), built
    finally:
        await built.close()


REPORT_TITLE = "明湖市政务舆情回应情况月报（2026年10月）"
REPORT_URL = "https://yuqing.minghu.gov.example/reports/2026-10"


def report_row(now: datetime, person_id: str, files: list[dict[str, str]], *, channel: str | None = None) -> dict:
    """A `kind='report'` outbox row exactly as the monthly job writes it (docs/contracts.md §3)."""
    person = ORG.people[person_id]
    return {
        "idempotency_key": f"report:2026-10:{person_id}",
        "incident_id": None,
        "obligation_id": None,
        "kind": "report",
        "urgent": False,
        "recipient": person_id,
        "channel": channel,
        "next_attempt_at": now,
        "created_at": now,
        "payload": {
            "template": "report",
            "text": f"【月报】{REPORT_TITLE}已生成（数据截至 2026-11-01 08:00）：回应率 50.0%。查看：{REPORT_URL}",
            "report": {"month": "2026-10", "title": REPORT_TITLE, "cutoff": "2026-11-01T08:00:00+08:00",
                       "url": REPORT_URL, "files": files, "summary": {"incidents": 5}},
            "person": {"id": person_id, "name": person.name},
        },
    }  # fmt: skip


def report_files(data_dir: Path, sizes: dict[str, int]) -> list[dict[str, str]]:
    """Write report files of these sizes under data_dir/reports/2026-10 and describe them as the job does."""
    types = {
        "html": "text/html; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    folder = data_dir / "reports" / "2026-10"
    folder.mkdir(parents=True, exist_ok=True)
    described = []
    for fmt, size in sizes.items():
        name = f"report-2026-10.{fmt}"
        (folder / name).write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
        described.append({"name": name, "path": f"reports/2026-10/{name}", "format": fmt, "content_type": types[fmt]})
    return described

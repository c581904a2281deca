"""Helpers shared by the engine tests: services on a test database, incidents, outbox reads."""

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from monitor.clock import FakeClock
from monitor.config import Settings
from monitor.domain import EventLevel, Incident, OpinionLevel, OrgDirectory
from monitor.domain.playbooks import Playbook
from monitor.engine.calendar import WorkCalendar
from monitor.policy import load_org
from monitor.policy.playbooks import load_policy
from monitor.storage.db import Database
from monitor.storage.repo.incidents import create_incidents
from monitor.storage.schema import outbox

REPO = Path(__file__).resolve().parent.parent
POLICY = load_policy(REPO / "playbooks" / "rules.yaml")
ORG = load_org(REPO / "playbooks" / "org" / "demo-city.yaml")


@dataclass
class Svc:
    db: Database
    clock: FakeClock
    org: OrgDirectory = ORG
    playbook: Playbook = POLICY.playbook
    calendar: WorkCalendar = POLICY.calendar
    settings: Settings = field(default_factory=Settings)


async def new_incident(svc: Svc, level="II", opinion="L1", **kw) -> int:
    incident = Incident(
        title=kw.pop("title", "东港化工园区爆炸"),
        detected_at=kw.pop("detected_at", svc.clock.now()),
        event_level=EventLevel(level) if level else None,
        opinion_level=OpinionLevel(opinion) if opinion else None,
        owner_unit=kw.pop("owner_unit", "emergency"),
        **kw,
    )
    async with svc.db.write() as conn:
        (iid,) = await create_incidents(conn, [incident], svc.clock.now())
    return iid


async def outbox_keys(db: Database) -> list[str]:
    async with db.read() as conn:
        return list((await conn.execute(select(outbox.c.idempotency_key).order_by(outbox.c.id))).scalars())

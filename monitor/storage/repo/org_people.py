"""People edited on the web's /org page: stored overrides of the org file, by person id.

The org file stays the base (units, towns, robots and the people it lists). A row here replaces
the file's person with the same id, or adds a person the file does not have; a disabled row takes
the person out of the directory (no alerts, no roles) and keeps the data, so they can be enabled
again. Every process applies the rows when it opens its services; the web applies them again
after each edit and whenever its live poller sees the revision change (other web nodes' edits);
worker processes run `follow_overrides` (started by the runtime) to do the same.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.clock import Clock, sleep_or_stop
from monitor.domain import ChannelKind, OrgDirectory, Person, Role, RoleAssignment
from monitor.storage.db import Database
from monitor.storage.schema import org_people

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PersonOverride:
    person: Person
    disabled: bool
    updated_at: datetime
    updated_by: str


def person_data(person: Person) -> dict[str, Any]:
    """A person as stored (and as recorded in the audit log): no secrets live on a person."""
    return {
        "name": person.name,
        "title": person.title,
        "mobile": person.mobile,
        "email": person.email,
        "slack_user": person.slack_user,
        "roles": [{"role": a.role.value, "unit": a.unit} for a in person.roles],
        "channels": [c.value for c in person.channels],
        "quiet_hours": person.quiet_hours,
    }


ROLE_VALUES = {r.value for r in Role}
CHANNEL_VALUES = {c.value for c in ChannelKind}


def person_from_data(person_id: str, data: dict[str, Any]) -> Person:
    roles = tuple(
        RoleAssignment(Role(r["role"]), str(r["unit"])) for r in data.get("roles") or () if r.get("role") in ROLE_VALUES
    )
    channels = tuple(ChannelKind(c) for c in data.get("channels") or () if c in CHANNEL_VALUES)
    return Person(
        id=person_id,
        name=str(data.get("name") or person_id),
        title=str(data.get("title") or ""),
        mobile=data.get("mobile") or None,
        email=data.get("email") or None,
        slack_user=data.get("slack_user") or None,
        roles=roles,
        channels=channels or (ChannelKind.EMAIL,),
        quiet_hours=data.get("quiet_hours"),
    )


async def list_overrides(conn: AsyncConnection) -> list[PersonOverride]:
    rows = await conn.execute(select(org_people).order_by(org_people.c.person_id))
    return [PersonOverride(person_from_data(r.person_id, r.data), r.disabled, r.updated_at, r.updated_by) for r in rows]


async def get_override(conn: AsyncConnection, person_id: str) -> PersonOverride | None:
    r = (await conn.execute(select(org_people).where(org_people.c.person_id == person_id))).first()
    return PersonOverride(person_from_data(r.person_id, r.data), r.disabled, r.updated_at, r.updated_by) if r else None


async def save_override(conn: AsyncConnection, person: Person, *, disabled: bool, now: datetime, actor: str) -> None:
    values = {"data": person_data(person), "disabled": disabled, "updated_at": now, "updated_by": actor}
    found = await conn.execute(update(org_people).where(org_people.c.person_id == person.id).values(**values))
    if found.rowcount == 0:
        await conn.execute(insert(org_people).values(person_id=person.id, **values))


async def overrides_revision(conn: AsyncConnection) -> tuple[int, datetime | None]:
    """Changes when any row is added or edited (rows are never deleted)."""
    row = (await conn.execute(select(func.count(), func.max(org_people.c.updated_at)))).one()
    return int(row[0]), row[1]


def effective_people(
    current: Iterable[Person], overrides: Sequence[PersonOverride], unit_ids: Iterable[str]
) -> list[Person]:
    """`current` with the overrides applied (replaced in place, added at the end, disabled left out).

    Applying the same rows again gives the same directory, so the web may re-apply them to a
    directory that already has them. A role naming a unit the org file no longer has is dropped
    with a warning rather than stopping the service.
    """
    units = set(unit_ids)
    by_id = {o.person.id: o for o in overrides}
    people: list[Person] = []
    for person in current:
        override = by_id.pop(person.id, None)
        if override is None:
            people.append(person)
        elif not override.disabled:
            people.append(_known_units(override.person, units))
    people.extend(_known_units(o.person, units) for o in by_id.values() if not o.disabled)
    return people


def _known_units(person: Person, units: set[str]) -> Person:
    kept = tuple(a for a in person.roles if a.unit in units)
    if len(kept) == len(person.roles):
        return person
    dropped = sorted({a.unit for a in person.roles} - units)
    log.warning("person %s (edited on the web): roles in unknown units %s are ignored", person.id, dropped)
    return Person(
        person.id, person.name, person.title, person.mobile, person.email, person.slack_user,
        kept, person.channels, person.quiet_hours,
    )  # fmt: skip


async def apply_overrides(conn: AsyncConnection, org: OrgDirectory) -> tuple[int, datetime | None]:
    """Apply the stored rows to `org` in place; returns the revision applied."""
    revision = await overrides_revision(conn)
    if revision[0]:
        org.replace_people(effective_people(list(org.people.values()), await list_overrides(conn), org.units))
    return revision


async def follow_overrides(
    db: Database, clock: Clock, org: OrgDirectory, stop: asyncio.Event, interval_s: float
) -> None:
    """Until `stop`: apply rows other processes write (a cheap revision check every interval_s).

    Worker processes run this so that people edited on a web node reach their engine and notifier
    without a restart; errors are logged and retried, never fatal.
    """
    async with db.read() as conn:
        revision = await overrides_revision(conn)
    while not stop.is_set():
        await sleep_or_stop(clock, interval_s, stop)
        if stop.is_set():
            return
        try:
            async with db.read() as conn:
                if await overrides_revision(conn) != revision:
                    revision = await apply_overrides(conn, org)
                    log.info("org directory: people edited on the web applied (%d rows)", revision[0])
        except Exception:
            log.exception("reading people edited on the web failed; retrying in %.0f s", interval_s)

"""The audit log: who did what to which object, with the values before and after (append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.db import insert_many
from monitor.storage.schema import audit_log


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str  # e.g. login.success, incident.add_note, source.update
    target_type: str  # user | incident | source | saved_view | session
    target_id: str | None = None
    before: Any = None
    after: Any = None
    ip: str | None = None
    request_id: str | None = None


async def append_audit(conn: AsyncConnection, entries: Sequence[AuditEntry]) -> None:
    await insert_many(
        conn,
        audit_log,
        [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "before": e.before,
                "after": e.after,
                "ip": e.ip,
                "request_id": e.request_id,
            }
            for e in entries
        ],
    )


async def list_audit(
    conn: AsyncConnection, *, target_type: str | None = None, target_id: str | None = None, limit: int = 200
) -> list[AuditEntry]:
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if target_type is not None:
        query = query.where(audit_log.c.target_type == target_type)
    if target_id is not None:
        query = query.where(audit_log.c.target_id == target_id)
    return [
        AuditEntry(r.at, r.actor, r.action, r.target_type, r.target_id, r.before, r.after, r.ip, r.request_id)
        for r in await conn.execute(query)
    ]

"""Heartbeats of long-running loops (docs/contracts.md §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.schema import heartbeats


async def beat(conn: AsyncConnection, component: str, instance: str, at: datetime, info: dict[str, Any]) -> None:
    """Upsert this loop's heartbeat (one statement)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(heartbeats).values(component=component, instance=instance, at=at, info=info)
    stmt = stmt.on_conflict_do_update(index_elements=["component", "instance"], set_={"at": at, "info": info})
    await conn.execute(stmt)


async def list_heartbeats(conn: AsyncConnection) -> list[Any]:
    return list(await conn.execute(select(heartbeats).order_by(heartbeats.c.component, heartbeats.c.instance)))

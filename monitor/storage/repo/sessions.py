"""Server-side web sessions (the cookie carries a random key; only its HMAC is stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.repo.users import UserRecord, user_from_row
from monitor.storage.schema import users, web_sessions


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id_hash: str
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


async def create_session(
    conn: AsyncConnection, record: SessionRecord, *, ip: str | None, user_agent: str | None
) -> None:
    await conn.execute(
        insert(web_sessions).values(
            id_hash=record.id_hash,
            user_id=record.user_id,
            csrf_token=record.csrf_token,
            created_at=record.created_at,
            last_seen_at=record.last_seen_at,
            expires_at=record.expires_at,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )


async def load_session(conn: AsyncConnection, id_hash: str) -> tuple[SessionRecord, UserRecord] | None:
    """The session and its user in one query."""
    s = web_sessions
    query = (
        select(s.c.id_hash, s.c.csrf_token, s.c.created_at, s.c.last_seen_at, s.c.expires_at, users)
        .join(users, users.c.id == s.c.user_id)
        .where(s.c.id_hash == id_hash)
    )
    row: Any = (await conn.execute(query)).first()
    if row is None:
        return None
    record = SessionRecord(row.id_hash, row.id, row.csrf_token, row.created_at, row.last_seen_at, row.expires_at)
    return record, user_from_row(row)


async def touch_session(conn: AsyncConnection, id_hash: str, now: datetime) -> None:
    await conn.execute(update(web_sessions).where(web_sessions.c.id_hash == id_hash).values(last_seen_at=now))


async def delete_session(conn: AsyncConnection, id_hash: str) -> None:
    await conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash))


async def delete_user_sessions(conn: AsyncConnection, user_id: int) -> int:
    result = await conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
    return int(result.rowcount or 0)


async def purge_expired_sessions(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
    return int(result.rowcount or 0)

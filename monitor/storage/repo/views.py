"""Saved views of the duty queue: a named set of filters per user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.schema import saved_views


@dataclass(frozen=True, slots=True)
class SavedView:
    id: int
    user_id: int
    name: str
    query: dict[str, Any]
    created_at: datetime


def _view(row: Any) -> SavedView:
    return SavedView(row.id, row.user_id, row.name, dict(row.query or {}), row.created_at)


async def list_views(conn: AsyncConnection, user_id: int) -> list[SavedView]:
    query = select(saved_views).where(saved_views.c.user_id == user_id).order_by(saved_views.c.name)
    return [_view(r) for r in await conn.execute(query)]


async def get_view(conn: AsyncConnection, user_id: int, view_id: int) -> SavedView | None:
    query = select(saved_views).where(saved_views.c.id == view_id, saved_views.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return _view(row) if row else None


async def view_named(conn: AsyncConnection, user_id: int, name: str) -> SavedView | None:
    query = select(saved_views).where(saved_views.c.user_id == user_id, saved_views.c.name == name)
    row = (await conn.execute(query)).first()
    return _view(row) if row else None


async def save_view(conn: AsyncConnection, user_id: int, name: str, query: dict[str, Any], now: datetime) -> int:
    """Create a view, or replace the filters of the user's view with the same name."""
    existing = await view_named(conn, user_id, name)
    if existing is not None:
        await conn.execute(delete(saved_views).where(saved_views.c.id == existing.id))
    result = await conn.execute(
        insert(saved_views).values(user_id=user_id, name=name, query=query, created_at=now).returning(saved_views.c.id)
    )
    return int(result.scalar_one())


async def delete_view(conn: AsyncConnection, user_id: int, view_id: int) -> bool:
    result = await conn.execute(
        delete(saved_views).where(saved_views.c.id == view_id, saved_views.c.user_id == user_id)
    )
    return bool(result.rowcount)

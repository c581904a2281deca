"""Web accounts: users, their lock-out counters and API tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import UserRole
from monitor.storage.schema import users


class UserExists(ValueError):
    """A user with that username already exists."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    display_name: str
    role: UserRole
    unit_id: str | None
    person_id: str | None
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    password_hash: str
    has_api_token: bool

    def public(self) -> dict[str, Any]:
        """The fields safe to show and to record in the audit log (no hashes)."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "unit_id": self.unit_id,
            "person_id": self.person_id,
            "disabled": self.disabled,
            "failed_logins": self.failed_logins,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
        }


def user_from_row(row: Any) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=UserRole(row.role),
        unit_id=row.unit_id,
        person_id=row.person_id,
        disabled=row.disabled,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        password_hash=row.password_hash,
        has_api_token=row.api_token_hash is not None,
    )


async def get_user_by_name(conn: AsyncConnection, username: str) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.username == username))).first()
    return user_from_row(row) if row else None


async def get_user(conn: AsyncConnection, user_id: int) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    return user_from_row(row) if row else None


async def user_by_token_hash(conn: AsyncConnection, token_hash: str) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.api_token_hash == token_hash))).first()
    return user_from_row(row) if row else None


async def list_users(conn: AsyncConnection) -> list[UserRecord]:
    return [user_from_row(r) for r in await conn.execute(select(users).order_by(users.c.username))]


async def create_user(
    conn: AsyncConnection,
    *,
    username: str,
    display_name: str,
    password_hash: str,
    role: UserRole,
    now: datetime,
    unit_id: str | None = None,
    person_id: str | None = None,
) -> int:
    if await get_user_by_name(conn, username) is not None:
        raise UserExists(username)
    result = await conn.execute(
        insert(users)
        .values(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            role=role.value,
            unit_id=unit_id,
            person_id=person_id,
            created_at=now,
            updated_at=now,
        )
        .returning(users.c.id)
    )
    return int(result.scalar_one())


async def update_user(conn: AsyncConnection, user_id: int, changes: Mapping[str, Any], now: datetime) -> None:
    """Change columns of one user (password_hash, disabled, failed_logins, locked_until, api_token_hash …)."""
    await conn.execute(update(users).where(users.c.id == user_id).values(**changes, updated_at=now))

"""Account administration shared by `monitor users` and the demo: every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.clock import Clock
from monitor.domain import OrgDirectory, UserRole
from monitor.storage.db import Database
from monitor.storage.repo.audit import AuditEntry, append_audit
from monitor.storage.repo.sessions import delete_user_sessions
from monitor.storage.repo.users import UserExists, UserRecord, create_user, get_user_by_name, list_users, update_user
from monitor.web.auth.passwords import PasswordHasher, password_problem
from monitor.web.auth.sessions import new_api_token


class AccountError(ValueError):
    """An account change cannot be made; the message (English, for operators) says why and how to fix it."""


@dataclass(frozen=True)
class NewAccount:
    username: str
    role: UserRole
    display_name: str = ""
    unit_id: str | None = None
    person_id: str | None = None


def check_new_account(account: NewAccount, org: OrgDirectory) -> None:
    if not account.username or len(account.username) > 100 or not account.username.isprintable():
        raise AccountError(f"username {account.username!r} is not valid: use 1–100 printable characters")
    if account.username.lower() == "system":
        raise AccountError("username 'system' is reserved for the service's own actions; choose another")
    if account.unit_id is not None and account.unit_id not in org.units:
        raise AccountError(f"unit {account.unit_id!r} is not in the org directory; see the unit ids on the /org page")
    if account.person_id is not None and account.person_id not in org.people:
        raise AccountError(f"person {account.person_id!r} is not in the org directory")
    if account.role == UserRole.UNIT_HANDLER and account.unit_id is None:
        raise AccountError("a unit_handler sees only their unit's incidents: give --unit UNIT_ID")


async def add_account(
    db: Database,
    hasher: PasswordHasher,
    clock: Clock,
    org: OrgDirectory,
    account: NewAccount,
    password: str,
    *,
    actor: str,
) -> int:
    check_new_account(account, org)
    _check_password(password, account.username)
    now = clock.now()
    async with db.write() as conn:
        try:
            user_id = await create_user(
                conn,
                username=account.username,
                display_name=account.display_name or account.username,
                password_hash=hasher.hash(password),
                role=account.role,
                now=now,
                unit_id=account.unit_id,
                person_id=account.person_id,
            )
        except UserExists:
            raise AccountError(f"user {account.username!r} already exists; use `monitor users passwd`") from None
        created = await _get(conn, account.username)
        await append_audit(conn, [AuditEntry(now, actor, "user.create", "user", str(user_id), None, created.public())])
    return user_id


def _check_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise AccountError(f"password rejected: {problem}")


async def _get(conn: Any, username: str) -> UserRecord:
    user = await get_user_by_name(conn, username)
    if user is None:
        raise AccountError(f"no user named {username!r}; `monitor users list` shows them")
    return user


async def change_account(
    db: Database,
    clock: Clock,
    username: str,
    action: str,
    changes: dict[str, object],
    *,
    actor: str,
    end_sessions: bool = False,
) -> None:
    """Apply `changes` to a user's row, with an audit row holding the values before and after."""
    now = clock.now()
    async with db.write() as conn:
        before = await _get(conn, username)
        await update_user(conn, before.id, changes, now)
        if end_sessions:
            await delete_user_sessions(conn, before.id)
        after = await _get(conn, username)
        await append_audit(
            conn, [AuditEntry(now, actor, action, "user", str(before.id), before.public(), after.public())]
        )


async def set_password(
    db: Database, hasher: PasswordHasher, clock: Clock, username: str, password: str, *, actor: str
) -> None:
    _check_password(password, username)
    changes = {"password_hash": hasher.hash(password), "failed_logins": 0, "locked_until": None}
    await change_account(db, clock, username, "user.password", changes, actor=actor, end_sessions=True)


async def issue_token(db: Database, clock: Clock, username: str, *, actor: str) -> str:
    token, digest = new_api_token()
    await change_account(db, clock, username, "user.api_token", {"api_token_hash": digest}, actor=actor)
    return token


async def all_accounts(db: Database) -> list[UserRecord]:
    async with db.read() as conn:
        return await list_users(conn)

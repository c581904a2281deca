"""`monitor users add|passwd|disable|enable|unlock|token|list`: web accounts.

Passwords are never taken from a flag (they would show in the process list and shell history):
they are prompted for twice on a terminal, or read as one line from standard input.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from monitor.app import open_services
from monitor.cli.common import CliError, Context
from monitor.domain import UserRole
from monitor.storage.db import DatabaseError
from monitor.web.auth.accounts import (
    AccountError,
    NewAccount,
    add_account,
    all_accounts,
    change_account,
    issue_token,
    set_password,
)
from monitor.web.auth.passwords import PasswordHasher

ACTOR = "cli"


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("users", help="manage web accounts")
    users = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users.add_parser("add", help="create an account (password from a prompt or stdin)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in UserRole], help="web role")
    add.add_argument("--name", default="", help="display name, e.g. 王晓明")
    add.add_argument("--unit", help="unit id from the org directory (required for unit_handler)")
    add.add_argument("--person", help="person id from the org directory (links roles and units)")
    for name, text in (
        ("passwd", "set a new password (ends the user's sessions, clears a lock-out)"),
        ("disable", "disable an account (ends its sessions)"),
        ("enable", "enable a disabled account"),
        ("unlock", "clear a login lock-out"),
        ("token", "issue a new API token (printed once; replaces the old one)"),
    ):
        users.add_parser(name, help=text).add_argument("username")
    users.add_parser("list", help="list accounts")
    parser.set_defaults(handler=handle)


def read_password(prompt_twice: bool = True) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CliError(
                "no password on standard input; pipe one line, e.g. `printf '%s\\n' \"$PW\" | monitor users …`"
            )
        return line
    first = getpass.getpass("新密码 / new password: ")
    if prompt_twice and getpass.getpass("再次输入 / repeat: ") != first:
        raise CliError("the two passwords differ; nothing was changed")
    return first


def handle(ctx: Context) -> int:
    return asyncio.run(_run(ctx))


async def _run(ctx: Context) -> int:
    args = ctx.args
    password = read_password() if args.users_command in ("add", "passwd") else ""
    try:
        services = await open_services(ctx.settings)
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    try:
        await _dispatch(services, args, password)
    except AccountError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await services.db.close()
    return 0


async def _dispatch(services: Any, args: argparse.Namespace, password: str) -> None:
    db, clock, command = services.db, services.clock, args.users_command
    if command == "add":
        account = NewAccount(args.username, UserRole(args.role), args.name, args.unit, args.person)
        await add_account(db, PasswordHasher(), clock, services.org, account, password, actor=ACTOR)
        print(f"created {args.username} ({UserRole(args.role).label})")
    elif command == "passwd":
        await set_password(db, PasswordHasher(), clock, args.username, password, actor=ACTOR)
        print(f"password changed for {args.username}; their sessions were ended")
    elif command in ("disable", "enable"):
        disabled = command == "disable"
        await change_account(
            db, clock, args.username, f"user.{command}", {"disabled": disabled}, actor=ACTOR, end_sessions=disabled
        )
        print(f"{args.username} {command}d")
    elif command == "unlock":
        await change_account(
            db, clock, args.username, "user.unlock", {"failed_logins": 0, "locked_until": None}, actor=ACTOR
        )
        print(f"{args.username} unlocked")
    elif command == "token":
        print(await issue_token(db, clock, args.username, actor=ACTOR))
    else:
        for user in await all_accounts(db):
            state = "disabled" if user.disabled else "locked" if user.locked_until else "active"
            print(f"{user.username}\t{user.role.value}\t{user.unit_id or '-'}\t{state}\t{user.display_name}")

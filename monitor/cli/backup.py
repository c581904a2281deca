"""`monitor backup` and `monitor restore`: a consistent copy of either database, and putting one back."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from monitor.cli.common import CliError, Context
from monitor.storage.backup import backup, restore
from monitor.storage.db import DatabaseError
from monitor.storage.lock import EngineLockError


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "backup", help="write a consistent backup while the service runs (SQLite VACUUM INTO / pg_dump)"
    )
    parser.add_argument("--out", required=True, type=Path, help="backup file to create (never overwritten)")
    parser.set_defaults(handler=handle_backup)
    parser = sub.add_parser("restore", help="replace the database with a backup (then run `monitor migrate`)")
    parser.add_argument("file", type=Path, help="a file written by `monitor backup`")
    parser.add_argument("--yes", action="store_true", help="confirm: the database's current contents are replaced")
    parser.set_defaults(handler=handle_restore)


def handle_backup(ctx: Context) -> int:
    try:
        out = backup(ctx.settings.database_url, ctx.args.out)
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    print(f"backup written to {out} ({out.stat().st_size:,} bytes)")
    return 0


def handle_restore(ctx: Context) -> int:
    if not ctx.args.yes:
        raise CliError("restore replaces everything in the database; add --yes to confirm")
    try:
        restore(ctx.settings.database_url, ctx.args.file)
    except (DatabaseError, EngineLockError) as exc:
        raise CliError(str(exc)) from exc
    print(f"database restored from {ctx.args.file}; run `monitor migrate` if the backup is from an older version")
    return 0

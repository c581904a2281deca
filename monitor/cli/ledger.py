"""`monitor import-ledger FILE --mapping M`: import an existing ledger as historical incidents."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from monitor.cli.common import CliError, Context
from monitor.cli.report import cutoff_from
from monitor.config import Settings, resolve_org_file, resolve_playbook_file
from monitor.ledger.importer import ImportResult, import_ledger
from monitor.ledger.mapping import load_mapping
from monitor.ledger.plan import ImportRules
from monitor.ledger.read import LedgerFileError
from monitor.policy import load_org
from monitor.policy.playbooks import load_policy
from monitor.storage.db import Database, DatabaseError
from monitor.storage.migrate import require_current_schema

SHOWN_ERRORS = 50


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "import-ledger",
        help="import an existing 舆情台账 or 留言 export (CSV/XLSX) as historical incidents with their responses",
    )
    parser.add_argument("file", type=Path, help="the ledger: .csv or .xlsx")
    parser.add_argument(
        "--mapping", type=Path, required=True, help="mapping YAML, e.g. playbooks/import/message-board.yaml"
    )
    parser.add_argument("--rejects", type=Path, help="write rows that cannot be imported (with the reason) to this CSV")
    parser.add_argument("--dry-run", action="store_true", help="read and check everything, write nothing")
    parser.add_argument("--now", help="the import time, ISO 8601 (default: now); deadlines are judged at this time")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    mapping = load_mapping(ctx.args.mapping)
    now = cutoff_from(ctx.args.now)
    rules = import_rules(ctx.settings)

    async def run() -> ImportResult:
        db = Database.open(ctx.settings.database_url)
        try:
            await require_current_schema(db)
            return await import_ledger(
                db, ctx.args.file, mapping, now, rules, dry_run=ctx.args.dry_run, rejects=ctx.args.rejects
            )
        finally:
            await db.close()

    try:
        result = asyncio.run(run())
    except (LedgerFileError, DatabaseError) as exc:
        raise CliError(str(exc)) from exc
    _print(result, ctx.args.dry_run, ctx.args.rejects)
    return 1 if result.errors else 0


def import_rules(settings: Settings) -> ImportRules:
    """The deployment's current rules, calendar and org directory (what the engine plans new incidents under)."""
    policy = load_policy(resolve_playbook_file(settings))
    return ImportRules(policy.playbook, policy.calendar, load_org(resolve_org_file(settings)))


def _print(result: ImportResult, dry_run: bool, rejects: Path | None) -> None:
    verb = "可导入" if dry_run else "已导入"
    print(
        f"读取 {result.rows} 行：{verb} {result.imported} 条（其中已答复 {result.responded} 条，"
        f"含仅有日期的时间 {result.date_only} 条），此前已导入而跳过 {result.already} 条，"
        f"无法导入 {len(result.errors)} 行。"
    )
    if result.live:
        print(
            f"其中 {result.live} 条导入时仍在回应时限内，已交由时限引擎按规则提醒和督办；"
            "已超过的时限只计入报告，不再提醒。"
        )
    if result.first_id is not None:
        print(f"新事件编号 {result.first_id}–{result.last_id}。")
    for error in result.errors[:SHOWN_ERRORS]:
        ident = f"（编号 {error.ledger_id}）" if error.ledger_id else ""
        print(f"  第 {error.row} 行{ident}：{error.reason}")
    if len(result.errors) > SHOWN_ERRORS:
        print(
            f"  ……另有 {len(result.errors) - SHOWN_ERRORS} 行"
            + (f"，见 {rejects}" if rejects else "；用 --rejects FILE 导出全部")
        )
    elif rejects and result.errors:
        print(f"无法导入的行已写入 {rejects}，修改后可再次导入（已导入的不会重复）。")

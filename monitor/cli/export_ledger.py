"""`monitor export-ledger --from DATE --to DATE --out FILE`: the 舆情回应台账 as CSV or XLSX."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from monitor.cli.common import CliError, Context
from monitor.cli.report import _unknown_unit, cutoff_from
from monitor.config import resolve_org_file
from monitor.domain import OrgDirectory
from monitor.policy import load_org
from monitor.reports.ledger_export import FORMATS, DateRange, LedgerExport, LedgerRangeError, export_ledger
from monitor.reports.service import names_from_org, rule_titles
from monitor.storage.db import Database, DatabaseError
from monitor.storage.migrate import require_current_schema
from monitor.storage.repo import reports as repo


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "export-ledger",
        help="export the 舆情回应台账: one row per incident detected in a range of days (CSV or XLSX)",
        description=(
            "Write the 舆情回应台账: one row per incident detected (监测发现) from --from to --to, both days "
            "included, in Asia/Shanghai, as the data stood at --now; incidents judged not 政务舆情 and those "
            "merged into another are left out (and counted). CSV is UTF-8 with BOM (opens in Excel); XLSX "
            "has Beijing times and a 说明 sheet."
        ),
    )
    parser.add_argument("--from", dest="first", required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, metavar="DATE", help="last day (included), YYYY-MM-DD")
    parser.add_argument("--format", choices=FORMATS, help="csv or xlsx (default: from the --out suffix)")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="the file to write (replaced)")
    parser.add_argument("--unit", help="only incidents whose owning unit is this unit id")
    parser.add_argument("--now", help="data cut-off, ISO 8601 (no offset = Asia/Shanghai); default: the current time")
    parser.set_defaults(handler=handle)


def output_format(out: Path, fmt: str | None) -> str:
    suffix = out.suffix.lower().lstrip(".")
    if fmt is None:
        if suffix not in FORMATS:
            raise CliError(f"--out {out}: name the file .csv or .xlsx, or give --format csv|xlsx")
        return suffix
    if suffix in FORMATS and suffix != fmt:
        raise CliError(f"--format {fmt} but --out {out} ends in .{suffix}; make them agree")
    return fmt


def handle(ctx: Context) -> int:
    args = ctx.args
    now = cutoff_from(args.now)
    if args.out.is_dir():
        raise CliError(f"--out {args.out} is a directory; give a file name, e.g. {args.out / 'ledger.xlsx'}")
    fmt = output_format(args.out, args.format)
    try:
        dates = DateRange.parse(args.first, args.last)
    except LedgerRangeError as exc:
        raise CliError(str(exc)) from None
    org = load_org(resolve_org_file(ctx.settings))
    try:
        result = asyncio.run(_export(ctx, org, dates, fmt, now))
    except (LedgerRangeError, DatabaseError) as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    print(result.scope())
    print(result.path)
    return 0


async def _export(ctx: Context, org: OrgDirectory, dates: DateRange, fmt: str, now: Any) -> LedgerExport:
    args = ctx.args
    db = Database.open(ctx.settings.database_url)
    try:
        await require_current_schema(db)
        unit_name = None
        if args.unit:
            unit_name = _unit_name(args.unit, org)
            if unit_name is None:
                async with db.read() as conn:
                    if not await repo.unit_in_data(conn, args.unit):
                        raise CliError(_unknown_unit(args.unit, org))
        names = names_from_org(org, rule_titles(ctx.settings))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        return await export_ledger(db, dates, now, names, fmt, args.out, unit=args.unit, unit_name=unit_name)
    finally:
        await db.close()


def _unit_name(unit: str, org: OrgDirectory) -> str | None:
    found = org.units.get(unit)
    return found.name if found else None

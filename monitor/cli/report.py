"""`monitor report`: the monthly response-effectiveness report as HTML, CSV, XLSX or JSON."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.cli.common import CliError, Context
from monitor.clock import SystemClock, parse_instant
from monitor.config import resolve_org_file
from monitor.domain import OrgDirectory
from monitor.domain.evaluation import subside_rule
from monitor.policy import load_org
from monitor.reports.build import Period, PeriodError
from monitor.reports.job import parse_formats, report_dir, run_scheduled
from monitor.reports.render.files import write_report
from monitor.reports.service import generate, names_from_org, rule_titles
from monitor.storage.db import Database, DatabaseError
from monitor.storage.migrate import require_current_schema
from monitor.storage.repo import reports as repo


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="write the monthly response-effectiveness report (HTML, CSV, XLSX, JSON)",
        description="Monthly 政务舆情回应 report. Times are Asia/Shanghai; the data cut-off is --now (default: now).",
    )
    parser.add_argument("--month", help="the month to report on, YYYY-MM (default: last month)")
    parser.add_argument("--unit", help="only incidents whose owning unit is this unit id")
    parser.add_argument(
        "--format", dest="formats", default="html", help="comma-separated: html, csv, xlsx, json (default: html)"
    )
    parser.add_argument("--out", type=Path, help="output directory (default: <data_dir>/reports/YYYY-MM)")
    parser.add_argument("--now", help="data cut-off, ISO 8601 (no offset = Asia/Shanghai); default: the current time")
    parser.add_argument("--top", type=int, help="number of 重点舆情 to analyse (default: setting report_top_incidents)")
    parser.add_argument(
        "--scheduled",
        action="store_true",
        help="generate the latest scheduled monthly report and queue it for report_recipients (idempotent; for cron)",
    )
    parser.set_defaults(handler=handle)


def cutoff_from(text: str | None) -> datetime:
    if not text:
        return SystemClock().now()
    try:
        return parse_instant(text)
    except ValueError:
        raise CliError(f"--now {text!r} is not an ISO 8601 time; write e.g. 2026-11-01T08:00") from None


def handle(ctx: Context) -> int:
    now = cutoff_from(ctx.args.now)
    org = load_org(resolve_org_file(ctx.settings))
    try:
        return asyncio.run(_scheduled(ctx, org, now) if ctx.args.scheduled else _monthly(ctx, org, now))
    except (PeriodError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc


async def _open(ctx: Context) -> Database:
    db = Database.open(ctx.settings.database_url)
    try:
        await require_current_schema(db)
    except Exception:
        await db.close()
        raise
    return db


async def _monthly(ctx: Context, org: OrgDirectory, now: datetime) -> int:
    args = ctx.args
    period = Period.parse(args.month) if args.month else Period.containing(now).previous()
    formats = parse_formats(args.formats)
    db = await _open(ctx)
    try:
        if args.unit and args.unit not in org.units:
            async with db.read() as conn:
                if not await repo.unit_in_data(conn, args.unit):
                    raise CliError(_unknown_unit(args.unit, org))
        top = args.top if args.top is not None else ctx.settings.report_top_incidents
        names = names_from_org(org, rule_titles(ctx.settings))
        subside = subside_rule(ctx.settings)
        report = await generate(db, period, now, names, unit=args.unit, top_n=top, subside=subside)
    finally:
        await db.close()
    out = args.out or report_dir(ctx.settings, period.key)
    for path in write_report(report, out, formats):
        print(path)
    return 0


def _unknown_unit(unit: str, org: OrgDirectory) -> str:
    found = org.find_unit(unit)
    if found is not None:
        return f"--unit {unit!r}: use the unit id {found.id!r} ({found.name})"
    return f"--unit {unit!r} is not a unit id of the org directory and owns no incident; see `monitor check-playbooks`"


async def _scheduled(ctx: Context, org: OrgDirectory, now: datetime) -> int:
    db = await _open(ctx)
    try:
        result = await run_scheduled(db, ctx.settings, org, now)
    finally:
        await db.close()
    print(f"monthly report {result.run.period.key} (cut-off {result.run.cutoff.isoformat()}):")
    for path in result.files:
        print(f"  {path}")
    print(
        f"queued for: {', '.join(result.queued) or 'nobody new'}; already queued: {', '.join(result.already) or 'none'}"
    )
    return 0

"""The monthly job: generate last month's report on the 1st and queue it for each recipient.

Idempotent per month: the files are rewritten identically (same cut-off) and the outbox rows
(`kind='report'`, key `report:YYYY-MM:person`) are inserted once. Call `run_scheduled` from a
worker loop or cron (`monitor report --scheduled`); the notifier delivers the rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.clock import to_local
from monitor.config import Settings
from monitor.domain import OrgDirectory
from monitor.domain.evaluation import subside_rule
from monitor.reports.build import Report
from monitor.reports.render.files import FORMATS, write_report
from monitor.reports.schedule import Recipient, ScheduledRun, parse_recipients, scheduled_run
from monitor.reports.service import generate, names_from_org, rule_titles
from monitor.storage.db import Database
from monitor.storage.repo import reports as repo

log = logging.getLogger(__name__)
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class JobResult:
    run: ScheduledRun
    files: list[Path] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)  # person ids newly queued
    already: list[str] = field(default_factory=list)  # person ids queued by an earlier run


def report_dir(settings: Settings, month: str) -> Path:
    return Path(settings.data_dir) / "reports" / month


def parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"report formats {text!r}: use a comma-separated list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(formats))


def check_recipients(recipients: list[Recipient], org: OrgDirectory) -> None:
    unknown = [r.person for r in recipients if r.person not in org.people]
    if unknown:
        raise ValueError(
            f"report_recipients names {', '.join(unknown)}, not in the org directory; "
            f"use person ids from {org.city}'s org file"
        )


async def run_scheduled(db: Database, settings: Settings, org: OrgDirectory, now: datetime) -> JobResult:
    """Make sure the latest scheduled report exists on disk and is queued for every recipient."""
    recipients = parse_recipients(settings.report_recipients)
    check_recipients(recipients, org)
    run = scheduled_run(now, settings.report_hour)
    result = JobResult(run)
    names = names_from_org(org, rule_titles(settings))
    report = await generate(
        db, run.period, run.cutoff, names, top_n=settings.report_top_incidents, subside=subside_rule(settings)
    )
    result.files = write_report(report, report_dir(settings, run.period.key), parse_formats(settings.report_formats))
    keys = {r.idempotency_key(run.period): r for r in recipients}
    async with db.write() as conn:
        existing = await repo.existing_outbox_keys(conn, list(keys))
        rows = [_row(report, r, result.files, settings, org, now) for k, r in keys.items() if k not in existing]
        await repo.queue_deliveries(conn, rows)
    result.queued = [r["recipient"] for r in rows]
    result.already = [keys[k].person for k in existing]
    log.info("monthly report %s: %d files, queued for %s", run.period.key, len(result.files), result.queued or "nobody")
    return result


async def scheduled_done(db: Database, settings: Settings, run: ScheduledRun) -> bool:
    """True when this run's files exist and every recipient is queued (a restart need not redo it)."""
    folder, base = report_dir(settings, run.period.key), f"report-{run.period.key}"
    for fmt in parse_formats(settings.report_formats):
        found = any(folder.glob(f"{base}-*.csv")) if fmt == "csv" else (folder / f"{base}.{fmt}").exists()
        if not found:
            return False
    keys = [r.idempotency_key(run.period) for r in parse_recipients(settings.report_recipients)]
    async with db.read() as conn:
        existing = await repo.existing_outbox_keys(conn, keys)
    return len(existing) == len(keys)


def _row(
    report: Report, r: Recipient, files: list[Path], settings: Settings, org: OrgDirectory, now: datetime
) -> dict[str, Any]:
    return {
        "idempotency_key": r.idempotency_key(report.period),
        "kind": "report",
        "urgent": False,
        "recipient": r.person,
        "channel": r.channel.value if r.channel else None,
        "payload": report_payload(report, files, settings, org.people[r.person].name, r.person),
        "status": "pending",
        "next_attempt_at": now,
        "created_at": now,
    }


def _file(path: Path, data_dir: Path) -> dict[str, str]:
    fmt = path.suffix.lstrip(".")
    relative = str(path.relative_to(data_dir)) if path.is_relative_to(data_dir) else str(path)
    return {"name": path.name, "path": relative, "format": fmt, "content_type": CONTENT_TYPES.get(fmt, "")}


def report_payload(report: Report, files: list[Path], settings: Settings, name: str, person: str) -> dict[str, Any]:
    """The outbox payload of a `report` row (docs/contracts.md §3)."""
    s = report.summary
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    url = f"{base}/reports/{report.period.key}"
    rate = "—" if s.response_rate is None else f"{s.response_rate:.1%}"
    timely = "—" if s.timeliness is None else f"{s.timeliness:.1%}"
    data_dir = Path(settings.data_dir)
    text = (
        f"【月报】{report.title}已生成（数据截至 {to_local(report.cutoff):%Y-%m-%d %H:%M}）：舆情 {s.incidents} 起，"
        f"回应率 {rate}，回应及时率 {timely}，超期未履行 {s.tally.breached} 项。"
        f"附件：{'、'.join(p.name for p in files)}。查看：{url}"
    )
    return {
        "template": "report",
        "text": text,
        "report": {
            "month": report.period.key,
            "title": report.title,
            "cutoff": to_local(report.cutoff).isoformat(),
            "url": url,
            "files": [_file(p, data_dir) for p in files],
            "summary": {
                "incidents": s.incidents,
                "response_rate": s.response_rate,
                "timeliness_rate": s.timeliness,
                "breached": s.tally.breached,
            },
        },
        "person": {"id": person, "name": name},
    }

"""`monitor bench report`: the monthly report (HTML + XLSX) of a month with 100,000 incidents.

The data are generated deterministically (incidents over 30 units, responses with a realistic
spread of delays, 48 h / 5 h / 24 h deadlines, escalations, pauses, re-grades, corrections) and
inserted in batches; only the report — reading the month, building it, writing HTML and XLSX —
is timed. Peak RSS before and after the report shows what the report itself adds.
"""

from __future__ import annotations

import os
import random
import resource
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.bench import BenchOptions, BenchResult, peak_rss_mb
from monitor.clock import SHANGHAI, Stopwatch
from monitor.reports.build import Names, Period
from monitor.reports.render.files import write_report
from monitor.reports.service import generate
from monitor.storage.db import Database, insert_many
from monitor.storage.migrate import migrate
from monitor.storage.schema import corrections, incident_events, incidents, obligations

MONTH = Period(2026, 10)
CUTOFF = datetime(2026, 11, 1, 8, tzinfo=SHANGHAI)
BATCH = 5000
UNITS = tuple(f"unit{i:02d}" for i in range(30))
REGIONS = ("chengdong", "chengxi", "chengnan", "chengbei", "nanshan", "beihu", "xiling", "donggang")
TYPES = ("livelihood", "policy_misread", "traffic_accident", "pollution", "public_health", "other_gov")
LEVELS = ((None, 0.92), ("IV", 0.05), ("III", 0.02), ("II", 0.008), ("I", 0.002))


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    x, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if x < total:
            return value
    return weighted[-1][0]


class Month:
    """Rows for one month of incidents, generated batch by batch (never all held at once)."""

    def __init__(self, period: Period, n: int, first_id: int, seed: int) -> None:
        self.period, self.n, self.first_id = period, n, first_id
        self.rng = random.Random(seed)
        self.seconds = int((period.end - period.start).total_seconds())

    def batches(self) -> Iterator[dict[str, list[dict[str, Any]]]]:
        for start in range(0, self.n, BATCH):
            rows: dict[str, list[dict[str, Any]]] = {
                "incidents": [],
                "events": [],
                "obligations": [],
                "corrections": [],
            }
            for i in range(self.first_id + start, self.first_id + min(self.n, start + BATCH)):
                self._incident(i, rows)
            yield rows

    def _incident(self, i: int, rows: dict[str, list[dict[str, Any]]]) -> None:
        rng = self.rng
        detected = self.period.start + timedelta(seconds=rng.randrange(self.seconds))
        level = _pick(rng, LEVELS)
        unit = UNITS[min(len(UNITS) - 1, int(rng.expovariate(1 / 6)))]
        requires = rng.random() < 0.9
        responded = detected + timedelta(hours=rng.lognormvariate(2.5, 1.0)) if rng.random() < 0.92 else None
        rows["incidents"].append({
            "id": i, "title": f"明湖市第{i}号政务舆情", "status": "closed" if responded else "handling",
            "event_type": rng.choice(TYPES), "event_level": level,
            "opinion_level": rng.choice(("L1", "L2", "L3", "L4")),
            "requires_response": requires, "owner_unit": unit, "region": rng.choice(REGIONS),
            "item_count": rng.randint(1, 40), "detected_at": detected, "created_at": detected, "updated_at": detected,
        })  # fmt: skip
        seq = self._events(i, detected, responded, rows)
        rules = (("GB80-AUTH-RELEASE-5H", 5), ("GB61-PRESSCONF-24H", 24)) if level in ("I", "II") else ()
        for rule, hours in rules or (("GB61-RESPOND-48H", 48),):
            seq = self._obligation(i, rule, detected, hours, responded, seq, rows)
        if rng.random() < 0.02:
            old = rng.choice(UNITS)
            at = detected + timedelta(hours=1)
            correction = {"field": "department", "old_value": old, "new_value": unit, "actor": "li_ming", "at": at}
            rows["corrections"].append({"incident_id": i, **correction})

    def _events(self, i: int, detected: datetime, responded: datetime | None, rows: dict[str, list[Any]]) -> int:
        rng, events = self.rng, rows["events"]
        events.append(_event(i, 1, "detected", detected, {"title": f"明湖市第{i}号政务舆情"}))
        events.append(_event(i, 2, "confirmed", detected, {"event_level": None, "opinion_level": "L3"}))
        seq = 2
        if rng.random() < 0.01:
            seq += 1
            events.append(_event(i, seq, "regraded", detected + timedelta(hours=2),
                                 {"event_level": "III", "opinion_level": "L2", "reason": "影响扩大"}))  # fmt: skip
        if responded is not None:
            seq += 1
            payload = {
                "kind": "website_reply",
                "url": f"https://gov.example/{i}",
                "published_at": responded.isoformat(),
            }
            events.append(_event(i, seq, "response_recorded", responded, payload))
        return seq

    def _obligation(
        self, i: int, rule: str, t0: datetime, hours: int, responded: datetime | None, seq: int,
        rows: dict[str, list[Any]],
    ) -> int:  # fmt: skip
        due = t0 + timedelta(hours=hours)
        paused = responded is None and self.rng.random() < 0.01
        if paused:
            seq += 1
            until = due + timedelta(hours=24)
            request = {"rule": rule, "until": until.isoformat(), "reason": "等待上级答复口径"}
            rows["events"].append(_event(i, seq, "pause_requested", t0 + timedelta(hours=1), request))
            rows["events"].append(_event(i, seq + 1, "pause_approved", t0 + timedelta(hours=2),
                                         {"rule": rule, "until": until.isoformat(), "request_seq": seq}))  # fmt: skip
            seq, due = seq + 1, until
        if responded is not None:
            status = "met" if responded <= due else "late"
        else:
            status = "breached" if due <= CUTOFF else ("paused" if paused else "open")
        if status in ("late", "breached"):
            for step, kind, after in (("breach", "deadline_breach", 0), ("supervise", "supervision", 24)):
                seq += 1
                payload = {"rule": rule, "instance": 0, "step": step, "kind": kind, "roles": ["liaison"],
                           "people": ["zhao_lei"]}  # fmt: skip
                rows["events"].append(_event(i, seq, "escalated", due + timedelta(hours=after), payload))
        rows["obligations"].append({
            "incident_id": i, "rule_id": rule, "instance": 0, "action": "first_response", "clock": "natural_hours",
            "t0": t0, "due_at": due, "status": status, "met_at": responded if status in ("met", "late") else None,
            "created_at": t0, "updated_at": t0,
        })  # fmt: skip
        return seq


def _event(i: int, seq: int, kind: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "incident_id": i,
        "seq": seq,
        "kind": kind,
        "at": at,
        "recorded_at": at,
        "actor": "system",
        "payload": payload,
    }


async def _fill(db: Database, month: Month) -> None:
    for rows in month.batches():
        async with db.write() as conn:
            await insert_many(conn, incidents, rows["incidents"])
            await insert_many(conn, incident_events, rows["events"])
            await insert_many(conn, obligations, rows["obligations"])
            await insert_many(conn, corrections, rows["corrections"])


async def run(options: BenchOptions) -> BenchResult:
    n = options.n or 100_000
    with tempfile.TemporaryDirectory() as tmp:
        url = options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        db = Database.open(url)
        try:
            await migrate(db)
            watch = Stopwatch()
            await _fill(db, Month(MONTH, n, 1, 20261001))
            await _fill(db, Month(MONTH.previous(), n // 5, n + 1, 20260901))
            fill_s = watch.restart()
            return await _measure(db, n, Path(tmp), fill_s)
        finally:
            await db.close()


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the workbook writer)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def _measure(db: Database, n: int, out: Path, fill_s: float) -> BenchResult:
    rss_before = peak_rss_mb()
    cpu_before = _cpu_s()
    watch = Stopwatch()
    names = Names(units={u: f"明湖市第{u[4:]}局" for u in UNITS}, city="明湖市")
    report = await generate(db, MONTH, CUTOFF, names)
    build_s = watch.restart()
    paths = write_report(report, out / "report", ["html", "xlsx"])
    write_s = watch.restart()
    result = BenchResult("report")
    label = f"{n:,} incidents in {MONTH.key} + {n // 5:,} in {MONTH.previous().key} ({db.dialect})"
    result.figures[f"report, {label}: read + build"] = f"{build_s:.1f} s"
    result.figures["report: write HTML + XLSX"] = f"{write_s:.1f} s"
    result.figures["report: total (HTML + XLSX)"] = f"{build_s + write_s:.1f} s"
    result.figures["report: CPU time (all processes; independent of other load)"] = f"{_cpu_s() - cpu_before:.1f} s"
    result.figures["report: peak RSS before → after the report"] = f"{rss_before:,.0f} → {peak_rss_mb():,.0f} MiB"
    sizes = ", ".join(f"{p.suffix[1:]} {p.stat().st_size / 1e6:.1f} MB" for p in paths)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    result.notes.append(f"generated the data in {fill_s:.0f} s (not timed); files: {sizes}; load average {load}")
    c = report.contract
    result.notes.append(f"month figures: {c['incidents']:,} incidents, {c['obligations']['due']:,} deadlines due")
    return result

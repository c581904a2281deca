"""The audit watchdog (a dead man's switch): alerts duty officers when the machinery itself fails.

Checks, every `audit_interval_s`:
- timers overdue: wake-ups not processed minutes after they fell due (the engine is stuck or down);
- the engine's heartbeat is stale (no engine loop is ticking);
- outbox rows stuck: pending or claimed long after they were due (the notifier is down);
- the working-day calendar runs out soon (deadlines after that cannot be computed);
- sources failing or silent (contract §4).
Each finding becomes one system alert per check and hour (recipient NULL = all duty officers),
written to the outbox with an idempotency key, and an ERROR log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.clock import SHANGHAI, sleep_or_stop
from monitor.domain.playbooks import AlertKind
from monitor.engine.plan.text import local_time
from monitor.engine.runner import EngineServices
from monitor.storage.repo.engine import add_outbox, audit_counts, beat

log = logging.getLogger(__name__)

TIMER_GRACE = timedelta(minutes=2)
OUTBOX_GRACE = timedelta(minutes=10)
HEARTBEAT_STALE = timedelta(minutes=3)
CALENDAR_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class Finding:
    check: str  # stable id, part of the idempotency key
    text: str  # zh-CN, for duty officers
    detail: str  # English, for logs


def findings(counts: dict[str, Any], now: datetime, calendar_until: datetime, engine_expected: bool) -> list[Finding]:
    """Pure: what is wrong, given the counts the database returned."""
    out: list[Finding] = []
    n, oldest = counts["overdue_timers"]
    if n:
        out.append(
            Finding(
                "timers",
                f"【系统告警】时限引擎积压：{n} 个提醒定时器已过期未处理"
                f"（最早 {local_time(oldest)}），请检查引擎进程。",
                f"{n} timers overdue since {oldest.isoformat()}",
            )
        )
    beat_at = counts["heartbeats"].get("engine")
    if engine_expected and (beat_at is None or now - beat_at > HEARTBEAT_STALE):
        since = f"（最后心跳 {local_time(beat_at)}）" if beat_at else "（从未运行）"
        out.append(
            Finding(
                "engine-heartbeat",
                f"【系统告警】时限引擎已停止运行{since}，提醒与督办不会发出，请立即处理。",
                f"engine heartbeat stale: {beat_at}",
            )
        )
    n, oldest = counts["stuck_outbox"]
    if n:
        out.append(
            Finding(
                "outbox",
                f"【系统告警】{n} 条通知滞留未发出（最早应于 {local_time(oldest)} 发送），请检查通知服务。",
                f"{n} outbox rows stuck since {oldest.isoformat()}",
            )
        )
    if calendar_until - now < CALENDAR_WARNING:
        day = (calendar_until - timedelta(seconds=1)).astimezone(SHANGHAI).date()
        out.append(
            Finding(
                "calendar",
                f"【系统告警】工作日历数据截至 {day}，之后的工作日时限将无法计算。"
                "请补充下一年度放假安排（playbooks/calendar/holidays.yaml）。",
                f"calendar data ends {day}",
            )
        )
    bad = counts["unhealthy_sources"]
    if bad:
        names = "、".join(f"{name}（{'失败' if health == 'failing' else '静默'}）" for name, health in bad[:10])
        out.append(
            Finding(
                "sources", f"【系统告警】{len(bad)} 个信息源异常：{names}。", f"{len(bad)} sources failing or silent"
            )
        )
    return out


def alert_row(finding: Finding, now: datetime) -> dict[str, Any]:
    bucket = now.astimezone(SHANGHAI).strftime("%Y%m%d%H")
    payload = {"template": AlertKind.SYSTEM_ALERT.value, "text": finding.text, "incident": None, "rule": None,
               "due_at": None, "step": f"audit-{finding.check}", "role": "duty_officer", "person": None}  # fmt: skip
    return {
        "idempotency_key": f"system:-:audit-{finding.check}:{bucket}:*",
        "incident_id": None,
        "obligation_id": None,
        "kind": AlertKind.SYSTEM_ALERT.value,
        "urgent": True,
        "recipient": None,
        "channel": None,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


class Auditor:
    def __init__(self, services: EngineServices, *, engine_expected: bool = True, instance: str = "audit") -> None:
        self.services, self.engine_expected, self.instance = services, engine_expected, instance

    async def check(self) -> list[Finding]:
        now = self.services.clock.now()
        calendar_until = datetime.combine(
            self.services.calendar.covered_until() + timedelta(days=1), datetime.min.time(), SHANGHAI
        )
        async with self.services.db.write() as conn:
            counts = await audit_counts(conn, now - TIMER_GRACE, now - OUTBOX_GRACE)
            found = findings(counts, now, calendar_until, self.engine_expected)
            await add_outbox(conn, [alert_row(f, now) for f in found])
            await beat(conn, "audit", self.instance, now, {"findings": [f.check for f in found]})
        for f in found:
            log.error("audit: %s", f.detail)
        return found

    async def run(
        self,
        stop: asyncio.Event,
        *,
        interval_s: float = 60.0,
        on_check: Callable[[list[Finding]], None] | None = None,
    ) -> None:
        while not stop.is_set():
            try:
                found = await self.check()
                if on_check is not None:
                    on_check(found)
            except Exception:
                log.exception("audit check failed")
            await sleep_or_stop(self.services.clock, interval_s, stop)

"""What the notifier moves around: alerts read from outbox payloads, destinations, messages, errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from monitor.clock import parse_instant
from monitor.domain import ChannelKind, Person, SupervisionLevel
from monitor.storage.repo.outbox import OutboxRow

KIND_LABELS = {
    "deadline_warning": "预警",
    "deadline_breach": "超期",
    "escalation": "升级督办",
    "supervision": "督办",
    "system_alert": "系统告警",
    "returned": "退回待改派",
    "supervised": "政府办督查",
    "report": "报告",
    "test": "测试",
}


class DeliveryError(Exception):
    """A send did not go through. The message is safe to store and log (no secrets)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        channel_wide: bool = False,
        retry_after: float | None = None,
        blocked_for: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent  # retrying this channel for this recipient will not help
        self.channel_wide = channel_wide  # configuration or credentials broken: tell the duty officers
        self.retry_after = retry_after  # the service asked us to wait this many seconds
        self.blocked_for = blocked_for  # the service blocks the whole target (robot) this long

    @property
    def rate_limited(self) -> bool:
        return self.blocked_for is not None


@dataclass(frozen=True)
class ReportFile:
    """A file of a monthly report (outbox payload `report.files`): `path` is relative to data_dir."""

    name: str
    path: str
    format: str
    content_type: str


@dataclass(frozen=True)
class ReportLink:
    """The monthly report a `report` row delivers (docs/contracts.md §3)."""

    month: str
    title: str
    url: str
    files: tuple[ReportFile, ...] = ()

    @classmethod
    def from_payload(cls, report: Mapping[str, Any] | None) -> ReportLink | None:
        if not report:
            return None
        files = tuple(
            ReportFile(str(f.get("name") or ""), str(f.get("path") or ""), str(f.get("format") or ""),
                       str(f.get("content_type") or ""))
            for f in report.get("files") or ()
        )  # fmt: skip
        return cls(str(report.get("month") or ""), str(report.get("title") or ""), str(report.get("url") or ""), files)


SUPERVISION_LEVEL_LABELS = {level.value: level.label for level in SupervisionLevel}


def _supervision(value: Any) -> Mapping[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    return {str(k): str(v) for k, v in value.items() if v is not None}


DEADLINE_KINDS = frozenset({"deadline_warning", "deadline_breach", "escalation", "supervision"})
MAJOR_LEVELS = frozenset({"I", "II"})  # 特别重大, 重大 (DOMAIN.md): their deadline alerts are never held


def never_held(kind: str, urgent: bool, event_level: object) -> bool:
    """Whether quiet rules must let this row through at once: the engine marks I–II deadline alerts
    and breaches `urgent`, and the notifier checks the payload too, so a row written without the
    flag (an older engine, a hand-made row) cannot be held back."""
    return urgent or kind == "deadline_breach" or (kind in DEADLINE_KINDS and event_level in MAJOR_LEVELS)


@dataclass(frozen=True)
class Alert:
    """One outbox row's payload in the shape the renderers need (docs/contracts.md §3)."""

    outbox_id: int
    key: str
    kind: str
    urgent: bool
    text: str
    incident_id: int | None = None
    incident_title: str = ""
    event_level: str | None = None
    opinion_level: str | None = None
    owner_unit_name: str = ""
    rule_id: str | None = None
    rule_title: str = ""
    rule_source: str = ""
    due_at: datetime | None = None
    step: str = ""
    role: str = ""
    person_id: str | None = None
    person_name: str = ""
    instruction: str = ""  # the engine's 处置要求 (breaches, escalations, supervision)
    report: ReportLink | None = None  # kind "report": the monthly report, its files and page
    returned_reason: str = ""  # kind "returned": why the owning unit returned the incident
    supervision: Mapping[str, str] | None = None  # kind "supervised": level, reason, by (政府办督查)

    @property
    def label(self) -> str:
        level = SUPERVISION_LEVEL_LABELS.get((self.supervision or {}).get("level", ""))
        return level or KIND_LABELS.get(self.kind, "提醒")

    @classmethod
    def from_row(cls, row: OutboxRow) -> Alert:
        p: Mapping[str, Any] = row.payload or {}
        incident, rule, person = p.get("incident") or {}, p.get("rule") or {}, p.get("person") or {}
        due = p.get("due_at")
        return cls(
            outbox_id=row.id,
            key=row.idempotency_key,
            kind=row.kind,
            urgent=never_held(row.kind, row.urgent, incident.get("event_level")),
            text=str(p.get("text") or ""),
            incident_id=row.incident_id or incident.get("id"),
            incident_title=str(incident.get("title") or ""),
            event_level=incident.get("event_level"),
            opinion_level=incident.get("opinion_level"),
            owner_unit_name=str(incident.get("owner_unit_name") or incident.get("owner_unit") or ""),
            rule_id=rule.get("id"),
            rule_title=str(rule.get("title") or ""),
            rule_source=str(rule.get("source") or ""),
            due_at=parse_instant(due) if isinstance(due, str) and due else None,
            step=str(p.get("step") or ""),
            role=str(p.get("role") or ""),
            person_id=row.recipient or person.get("id"),
            person_name=str(person.get("name") or ""),
            instruction=str(p.get("instruction") or ""),
            report=ReportLink.from_payload(p.get("report")) if row.kind == "report" else None,
            returned_reason=str(p.get("returned_reason") or ""),
            supervision=_supervision(p.get("supervision")),
        )

    @property
    def alert_key(self) -> str:
        """The key without its per-person suffix: rows of one alert to many people share it."""
        suffix = f":{self.person_id}"
        return self.key[: -len(suffix)] if self.person_id and self.key.endswith(suffix) else self.key


@dataclass(frozen=True)
class Destination:
    """Where one message goes: a channel and an address on it."""

    channel: ChannelKind
    target: str  # stable key: rate limits and digests are per target (e.g. dingtalk:emergency-dingtalk)
    address: str  # Slack user id, e-mail address, robot id, webhook URL label, "console"
    label: str = ""  # what people call it (robot's group name, person's name)


@dataclass
class Message:
    """One send: one alert, or several merged (same alert to many people, or a digest)."""

    message_id: str
    destination: Destination
    alerts: list[Alert]
    rows: list[OutboxRow]
    people: list[Person] = field(default_factory=list)
    digest: bool = False
    resend: bool = False  # a previous send of this message may have arrived (crash before recording)

    @property
    def mobiles(self) -> list[str]:
        return sorted({p.mobile for p in self.people if p.mobile})

    @property
    def urgent(self) -> bool:
        return any(a.urgent for a in self.alerts)


@dataclass(frozen=True)
class Sent:
    """Proof of delivery: a reference the channel returned (Slack ts, SMTP reply …)."""

    ref: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    """A delivery channel. `send` raises DeliveryError; `find_sent` answers "did it arrive?" if it can."""

    kind: ChannelKind
    max_bytes: int  # longest text (UTF-8 bytes) one message may carry; digests are split to fit
    rate_limit: RateLimit | None  # per-target budget (group robots), None = unlimited

    def cost(self, message: Message) -> int:
        """Requests this message uses from the target's budget."""
        ...

    async def send(self, message: Message, now: datetime) -> Sent: ...

    async def find_sent(self, message: Message, since: datetime) -> Sent | None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class RateLimit:
    """A per-target message budget (group robots)."""

    per_window: int
    window: timedelta
    block: timedelta  # how long the service blocks a target that goes over


def chunk(items: Sequence[Any], sizes: Sequence[int], limit: int) -> list[list[Any]]:
    """Split items into consecutive groups whose summed sizes stay within `limit` (one item may exceed it)."""
    groups: list[list[Any]] = []
    current: list[Any] = []
    used = 0
    for item, size in zip(items, sizes, strict=True):
        if current and used + size > limit:
            groups.append(current)
            current, used = [], 0
        current.append(item)
        used += size
    if current:
        groups.append(current)
    return groups

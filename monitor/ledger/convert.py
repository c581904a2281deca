"""One ledger row → an imported incident with its response and deadline, or a reason it cannot be (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from monitor.domain import (
    EventKind,
    EventLevel,
    EventType,
    Incident,
    IncidentEvent,
    IncidentStatus,
    MediaType,
    OpinionLevel,
)
from monitor.domain.commitments import ResponseChannel
from monitor.domain.ledger import ImportedIncident
from monitor.ledger.model import ColumnSpec, DateOnly, LedgerMapping, RowError
from monitor.ledger.plan import ImportRules, plan_imported

IMPORT_ACTOR = "ledger-import"
TITLE_FROM_TEXT = 40  # characters of the text used as title when the title is empty
E = TypeVar("E", bound=StrEnum)


class RowProblem(ValueError):
    """A row cannot be imported; the message (zh-CN) says which column and why."""


def external_ref(mapping: LedgerMapping, ledger_id: str) -> str:
    return f"import:{mapping.name}:{ledger_id}"


def field_text(mapping: LedgerMapping, row: Mapping[str, Any], name: str) -> str:
    spec = mapping.columns.get(name)
    if spec is None:
        return ""
    raw = row.get(spec.column)
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # spreadsheet ids read as 25582.0
    return spec.pick(str(raw))


def parse_time(
    mapping: LedgerMapping, row: Mapping[str, Any], name: str, date_only: DateOnly
) -> tuple[datetime | None, bool]:
    """(instant, was date-only) of a time column; (None, False) when empty."""
    spec = mapping.columns.get(name)
    raw = row.get(spec.column) if spec else None
    zone = ZoneInfo(mapping.timezone)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, False
    if isinstance(raw, datetime):
        return (raw if raw.tzinfo else raw.replace(tzinfo=zone)), False
    if isinstance(raw, date):
        return _day(raw, date_only, zone), True
    text = str(raw).strip()
    for fmt in mapping.time_formats:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone), False
        except ValueError:
            continue
    for fmt in mapping.date_formats:
        try:
            return _day(datetime.strptime(text, fmt).replace(tzinfo=zone).date(), date_only, zone), True
        except ValueError:
            continue
    try:  # ISO 8601 is read by every mapping: the rejects file writes times so when the mapping's formats cannot
        return datetime.strptime(text, ISO_TIME).replace(tzinfo=zone), False
    except ValueError:
        pass
    assert spec is not None
    formats = "、".join(mapping.time_formats + mapping.date_formats)
    raise RowProblem(
        f"{spec.column} 列的时间 {text!r} 无法识别；支持的格式：{formats}（可在映射文件 time_formats 中增加）"
    )


ISO_TIME, ISO_DATE = "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"


def written_as(mapping: LedgerMapping, value: Any) -> str:
    """A cell of the ledger as text the mapping reads back as the same value (for the rejects file):
    an Excel time in the first of the mapping's formats that keeps it exactly (else ISO 8601, which
    every mapping reads), a date in its date format, a whole number without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(ZoneInfo(mapping.timezone)) if value.tzinfo else value
        return _first_exact(mapping, local.replace(tzinfo=None), mapping.time_formats, ISO_TIME, False)
    if isinstance(value, date):
        return _first_exact(mapping, datetime.combine(value, time(0)), mapping.date_formats, ISO_DATE, True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _first_exact(mapping: LedgerMapping, value: datetime, formats: tuple[str, ...], iso: str, day: bool) -> str:
    probe = ColumnSpec("probe")
    for fmt in formats:
        text = value.strftime(fmt)
        try:
            back, date_only = parse_time(replace(mapping, columns={"probe": probe}), {"probe": text}, "probe",
                                         DateOnly.START_OF_DAY)  # fmt: skip
        except RowProblem:
            continue
        if back is not None and back.replace(tzinfo=None) == value and date_only == day:
            return text
    return value.strftime(iso)


def _day(day: date, how: DateOnly, zone: ZoneInfo) -> datetime:
    at = {DateOnly.START_OF_DAY: time(0, 0), DateOnly.NOON: time(12, 0), DateOnly.END_OF_DAY: time(23, 59, 59)}[how]
    return datetime.combine(day, at, tzinfo=zone)


def _enum(mapping: LedgerMapping, row: Mapping[str, Any], name: str, kind: type[E], default: E | None) -> E | None:
    text = field_text(mapping, row, name)
    if not text:
        return default
    try:
        return kind(text)
    except ValueError:
        label = getattr(kind, "from_label", None)
        if label is not None:
            try:
                return cast(E, label(text))
            except ValueError:
                pass
        allowed = "、".join(m.label if isinstance(m, ResponseChannel) else m.value for m in kind)
        raise RowProblem(f"{mapping.columns[name].column} 列的值 {text!r} 不是有效的取值；可用：{allowed}") from None


def _media_type(mapping: LedgerMapping, row: Mapping[str, Any]) -> MediaType | None:
    """媒体类型 by its zh-CN label (微博, 12345 …) or value; empty: the mapping's default."""
    text = field_text(mapping, row, "media_type")
    if not text:
        return mapping.defaults.media_type
    try:
        return MediaType.from_text(text)
    except ValueError:
        allowed = "、".join(m.label for m in MediaType)
        column = mapping.columns["media_type"].column
        raise RowProblem(f"{column} 列的媒体类型 {text!r} 无法识别；可用：{allowed}（或留空）") from None


def convert_row(
    mapping: LedgerMapping, number: int, row: Mapping[str, Any], now: datetime, rules: ImportRules
) -> ImportedIncident | RowError:
    """Row `number` (header = 1) as an imported incident planned under `rules` at the import
    time `now`, or the reason it cannot be imported."""
    ledger_id = field_text(mapping, row, "id")
    try:
        incident, events = _convert(mapping, row, ledger_id, now)
    except RowProblem as problem:
        return RowError(number, str(problem), ledger_id)
    confirmed, *rest = events
    events = (confirmed, _snapshot_event(incident, rules), *rest)
    plan = plan_imported(incident, events, rules, now)
    return ImportedIncident(number, incident, events + plan.events, plan.obligations, plan.live)


def _snapshot_event(incident: Incident, rules: ImportRules) -> IncidentEvent:
    """As the engine records when it confirms: the rules the incident runs under from now on."""
    p = rules.playbook
    payload = {"digest": p.digest, "jurisdiction": p.jurisdiction, "files": [list(f) for f in p.files]}
    return IncidentEvent(0, EventKind.PLAYBOOK_SNAPSHOT, incident.detected_at, IMPORT_ACTOR, payload)


def _convert(
    mapping: LedgerMapping, row: Mapping[str, Any], ledger_id: str, now: datetime
) -> tuple[Incident, tuple[IncidentEvent, ...]]:
    if not ledger_id:
        raise RowProblem(f"缺少编号（{mapping.columns['id'].column} 列为空），无法防止重复导入")
    received, received_day = parse_time(mapping, row, "received_at", mapping.received_date_only)
    if received is None:
        raise RowProblem(f"缺少收到时间（{mapping.columns['received_at'].column} 列为空）")
    responded, responded_day = parse_time(mapping, row, "response_at", mapping.response_date_only)
    response_text = field_text(mapping, row, "response_text")
    if responded is None and response_text:
        raise RowProblem(f"有答复内容但缺少答复时间（{mapping.columns['response_at'].column} 列为空）")
    if responded is not None and responded < received:
        raise RowProblem(f"答复时间 {responded:%Y-%m-%d %H:%M} 早于收到时间 {received:%Y-%m-%d %H:%M}，请核对")
    occurred, published = _origin(mapping, row, received)
    text = field_text(mapping, row, "text")
    title = field_text(mapping, row, "title") or text[:TITLE_FROM_TEXT]
    if not title:
        raise RowProblem("标题和正文都为空")
    d = mapping.defaults
    owner = field_text(mapping, row, "owner_unit") or d.owner_unit
    workflow = _workflow(mapping, row, owner, received, now)
    closed = responded is not None and responded <= now
    incident = Incident(
        title=title,
        summary=text,
        detected_at=received,
        occurred_at=occurred,
        first_published_at=published or received,
        status=IncidentStatus.CLOSED if closed else workflow.status,
        closed_at=responded if closed else None,
        event_type=_enum(mapping, row, "event_type", EventType, d.event_type),
        event_level=_enum(mapping, row, "event_level", EventLevel, d.event_level),
        opinion_level=_enum(mapping, row, "opinion_level", OpinionLevel, d.opinion_level),
        requires_response=d.requires_response,
        owner_unit=owner,
        region=field_text(mapping, row, "region") or d.region,
        media_type=_media_type(mapping, row),
        external_ref=external_ref(mapping, ledger_id),
        tags=("import",),
        assigned_at=workflow.assigned_at,
        accepted_at=workflow.accepted_at,
        returned_reason=workflow.returned_reason,
    )
    confirmed, *rest = _events(mapping, incident, ledger_id, responded, response_text,
                               field_text(mapping, row, "response_url"), received_day, responded_day, now,
                               _response_details(mapping, row))  # fmt: skip
    return incident, (confirmed, *workflow.events, *rest)


@dataclass(frozen=True)
class _Workflow:
    """交办 / 认领 / 退回 as the ledger records them: the incident's fields, status and events."""

    status: IncidentStatus = IncidentStatus.HANDLING  # a ledger without these columns: being handled
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    returned_reason: str | None = None
    events: tuple[IncidentEvent, ...] = ()


def _workflow(
    mapping: LedgerMapping, row: Mapping[str, Any], owner: str | None, received: datetime, now: datetime
) -> _Workflow:
    """交办时间 ≥ 收到时间, 认领时间 ≥ 交办时间 (or 收到时间), neither after the import, and an owning
    unit for any of them. A date alone is the earliest instant of that day the steps allow (so a
    deadline counted from it can only be stricter). The ledger keeps one 交办: a row that says the
    unit both 认领'd and 退回'd it is contradictory and is rejected, naming both columns."""
    assigned = _step_time(mapping, row, "assigned_at", "交办时间", received, "收到时间", now)
    accepted = _step_time(mapping, row, "accepted_at", "认领时间", assigned or received,
                          "交办时间" if assigned else "收到时间", now)  # fmt: skip
    reason = field_text(mapping, row, "returned_reason") or None
    for value, what in ((assigned, "交办时间"), (accepted, "认领时间"), (reason, "退回理由")):
        if value is not None and owner is None:
            unit = _column(mapping, "owner_unit")
            raise RowProblem(f"有{what}但没有责任单位（{unit}），请填写责任单位或在映射文件 defaults 中指定")
    if accepted is not None and reason is not None:
        both = f"{_column(mapping, 'accepted_at')}、{_column(mapping, 'returned_reason')}"
        raise RowProblem(
            f"同时填写了认领时间和退回理由（{both}）：台账一行只记录当前的交办；"
            "单位已认领的请清空退回理由（可写入正文），仍待改派的请清空认领时间"
        )
    events = [IncidentEvent(0, EventKind.ASSIGNED, assigned, IMPORT_ACTOR, {"unit": owner})] if assigned else []
    if accepted is not None:
        payload = {"unit": owner, "note": "历史台账导入", "on_behalf": True}
        events.append(IncidentEvent(0, EventKind.ACCEPTED, accepted, IMPORT_ACTOR, payload))
    if reason is not None:  # the ledger has no 退回 time: at the 交办 (the earliest it can have been)
        payload = {"unit": owner, "reason": reason, "on_behalf": True}
        events.append(IncidentEvent(0, EventKind.RETURNED, assigned or received, IMPORT_ACTOR, payload))
    status = IncidentStatus.HANDLING
    if assigned is not None and accepted is None:
        status = IncidentStatus.REASSIGNED if reason is not None else IncidentStatus.ASSIGNED
    elif reason is not None and accepted is None:
        status = IncidentStatus.REASSIGNED
    return _Workflow(status, assigned, accepted, reason, tuple(events))


def _column(mapping: LedgerMapping, name: str) -> str:
    spec = mapping.columns.get(name)
    return f"{spec.column} 列" if spec else f"映射文件未指定 {name} 列"


def _step_time(
    mapping: LedgerMapping, row: Mapping[str, Any], name: str, what: str, after: datetime, after_what: str,
    now: datetime,
) -> datetime | None:  # fmt: skip
    at, day = parse_time(mapping, row, name, DateOnly.START_OF_DAY)
    if at is None:
        return None
    if day and at.date() == after.astimezone(at.tzinfo).date() and at < after:
        at = after  # the day alone: not before the step it follows
    if at < after:
        raise RowProblem(f"{what} {_local(at, mapping)} 早于{after_what} {_local(after, mapping)}，请核对")
    if at > now:
        raise RowProblem(f"{what} {_local(at, mapping)} 晚于导入时间 {_local(now, mapping)}，请核对")
    return at


def _local(at: datetime, mapping: LedgerMapping) -> str:
    return f"{at.astimezone(ZoneInfo(mapping.timezone)):%Y-%m-%d %H:%M}"


def _response_details(mapping: LedgerMapping, row: Mapping[str, Any]) -> dict[str, Any]:
    """发布人 and 发布渠道 of the response, when the ledger has them (DOMAIN.md §4.4 responses[])."""
    spokesperson = field_text(mapping, row, "response_spokesperson")[:100]
    channel = _enum(mapping, row, "response_channel", ResponseChannel, None)
    return {
        **({"spokesperson": spokesperson} if spokesperson else {}),
        **({"channel": channel.value} if channel else {}),
    }


def _origin(
    mapping: LedgerMapping, row: Mapping[str, Any], received: datetime
) -> tuple[datetime | None, datetime | None]:
    """(事发时间, 原帖发布时间) when the ledger has them; a date alone counts from 00:00, which can only
    make a deadline counted from them stricter, never laxer."""
    occurred, _ = parse_time(mapping, row, "occurred_at", DateOnly.START_OF_DAY)
    if occurred is not None and occurred > received:
        raise RowProblem(f"事发时间 {occurred:%Y-%m-%d %H:%M} 晚于收到时间 {received:%Y-%m-%d %H:%M}，请核对")
    published, _ = parse_time(mapping, row, "published_at", DateOnly.START_OF_DAY)
    return occurred, published


def _events(
    mapping: LedgerMapping, incident: Incident, ledger_id: str, responded: datetime | None, reply: str, url: str,
    received_day: bool, responded_day: bool, now: datetime, details: Mapping[str, Any],
) -> tuple[IncidentEvent, ...]:  # fmt: skip
    source = f"{mapping.name}:{ledger_id}"
    levels = {
        "event_level": incident.event_level and incident.event_level.value,
        "opinion_level": incident.opinion_level and incident.opinion_level.value,
        "requires_response": incident.requires_response,
        "source": f"import:{source}",
        "date_only": received_day,
        "imported_at": now.isoformat(),  # deadlines passed by then are historical: never alerted on
    }
    events = [IncidentEvent(0, EventKind.CONFIRMED, incident.detected_at, IMPORT_ACTOR, levels)]
    if responded is not None and responded <= now:
        response = {
            "kind": mapping.defaults.response_kind.value,
            "published_at": responded.isoformat(),
            "url": url or None,
            "document": f"台账 {source}",
            "approved_by": IMPORT_ACTOR,
            "summary": reply[:500],
            "date_only": responded_day,
            **details,
        }
        events.append(IncidentEvent(0, EventKind.RESPONSE_RECORDED, responded, IMPORT_ACTOR, response))
        events.append(IncidentEvent(0, EventKind.CLOSED, responded, IMPORT_ACTOR, {"reason": "历史台账导入：已答复"}))
    return tuple(events)

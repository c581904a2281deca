"""The mapping of a ledger file onto incidents, and what reading a row can produce (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from monitor.domain import EventLevel, EventType, MediaType, OpinionLevel, ResponseKind


class DateOnly(StrEnum):
    """How a date without a time of day is read."""

    START_OF_DAY = "start_of_day"  # 00:00:00
    END_OF_DAY = "end_of_day"  # 23:59:59
    NOON = "noon"  # 12:00:00


FIELDS = (
    "id", "title", "text", "received_at", "response_text", "response_at", "response_url",
    "owner_unit", "region", "event_type", "event_level", "opinion_level",
    "occurred_at",  # 事发时间: t0 of the emergency clocks (5 h release, 24 h press conference) when known
    "published_at",  # 原帖发布时间: t0 of rules counted from the earliest publication
    "media_type",  # 媒体类型 (网站/论坛/…/信箱, or its value): kept on the incident, shown in the ledger and report
    "assigned_at",  # 交办时间: the 交办 to the owning unit (ASSIGNED)
    "accepted_at",  # 认领时间: its 认领 (ACCEPTED); t0 of local rules counted from 认领
    "returned_reason",  # 退回理由: the unit returned it (RETURNED); without a 认领, it waits for 改派
    "response_spokesperson",  # 发布人/新闻发言人 of the response
    "response_channel",  # 发布渠道 (政府网站、政务微博… or the ResponseChannel value)
)  # fmt: skip
REQUIRED_FIELDS = ("id", "received_at")


@dataclass(frozen=True)
class ColumnSpec:
    """Where a field comes from: a column, optionally split ("a|b" → "a") and mapped (name → id)."""

    column: str
    split: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)

    def pick(self, raw: str) -> str:
        value = raw.split(self.split, 1)[0].strip() if self.split else raw.strip()
        return self.values.get(value, value)


@dataclass(frozen=True)
class Defaults:
    owner_unit: str | None = None
    region: str | None = None
    event_type: EventType | None = None
    event_level: EventLevel | None = None
    opinion_level: OpinionLevel | None = None
    requires_response: bool = True
    response_kind: ResponseKind = ResponseKind.WEBSITE_REPLY
    media_type: MediaType | None = None  # e.g. 信箱 for a 留言板 export


@dataclass(frozen=True)
class LedgerMapping:
    name: str  # part of every external_ref: import:<name>:<id>
    columns: Mapping[str, ColumnSpec]  # field -> where it comes from
    time_formats: tuple[str, ...]  # strptime formats with a time of day
    date_formats: tuple[str, ...]  # strptime formats of a date alone
    received_date_only: DateOnly = DateOnly.START_OF_DAY
    response_date_only: DateOnly = DateOnly.END_OF_DAY
    timezone: str = "Asia/Shanghai"
    defaults: Defaults = field(default_factory=Defaults)
    encoding: str = "auto"  # auto: UTF-8 (with or without BOM), else GB18030
    delimiter: str = ","
    sheet: str | None = None  # XLSX: the sheet to read (default: the first)
    description: str = ""

    def column_names(self) -> list[str]:
        return [spec.column for spec in self.columns.values()]


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be imported, and why (zh-CN, names the column and the fix)."""

    row: int  # header = row 1
    reason: str
    ledger_id: str = ""

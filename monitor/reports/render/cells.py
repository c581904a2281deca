"""How one cell is written as text (HTML and CSV share this, so their figures agree)."""

from __future__ import annotations

from datetime import datetime

from monitor.clock import to_local
from monitor.reports.build import Kind
from monitor.reports.build.model import Cell, Column

DASH = "—"


def cell_text(value: Cell, kind: Kind, *, grouping: bool = False) -> str:
    """The cell as people read it: 1,234 / 87.5% / 12.3 / 2026-10-01 08:00 (Asia/Shanghai)."""
    if value is None:
        return DASH if kind in (Kind.PCT, Kind.HOURS) else ""
    if kind == Kind.ID:
        return str(value)
    if kind == Kind.INT and isinstance(value, int):
        return f"{value:,}" if grouping else str(value)
    if kind == Kind.PCT and isinstance(value, float | int):
        return f"{value * 100:.1f}%"
    if kind == Kind.HOURS and isinstance(value, float | int):
        return f"{value:.1f}"
    if kind == Kind.TIME and isinstance(value, datetime):
        return local_minute(value)
    return str(value)


def column_header(column: Column) -> str:
    """A column's header in a file: times say they are Beijing time (CSV and XLSX alike)."""
    return f"{column.header}（北京时间）" if column.kind == Kind.TIME else column.header


def local_minute(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def excel_time(value: datetime) -> datetime:
    """Excel has no time zones: the Asia/Shanghai wall time, naive (the header says 北京时间)."""
    return to_local(value).replace(tzinfo=None, second=0, microsecond=0)

"""The report as an XLSX workbook: a 说明 sheet, then one sheet per table.

Headers are Chinese; counts, rates, hours and times carry Excel number formats; times are the
Asia/Shanghai wall time. Written with XlsxWriter in constant-memory mode (rows streamed to the
file as they are written, one shared format object per kind): several times faster than
openpyxl's write-only mode for a month's long lists, in bounded memory. Strings are always
written as text (never turned into formulas or links). The file is byte-for-byte reproducible:
document properties and zip entry times are the report's cut-off, never the moment it was written.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from monitor.clock import to_local
from monitor.reports.build import Kind, Report, Table
from monitor.reports.build.model import Column
from monitor.reports.render.cells import column_header, excel_time, local_minute

FORMATS = {Kind.ID: "0", Kind.INT: "#,##0", Kind.PCT: "0.0%", Kind.HOURS: "0.0", Kind.TIME: "yyyy-mm-dd hh:mm"}
WIDTHS = {Kind.ID: 9, Kind.INT: 10, Kind.PCT: 10, Kind.HOURS: 12, Kind.TIME: 17}
HEADER_FILL = "#DCE6F1"
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_OPTIONS = {
    "constant_memory": True,
    "strings_to_numbers": False,
    "strings_to_formulas": False,  # a title starting with "=" stays text
    "strings_to_urls": False,  # evidence URLs stay text (and no 65,530-links-per-sheet limit)
    "in_memory": False,
}
Writer = Callable[[Worksheet, int, int, Any], Any]


def write_xlsx(report: Report, path: Path) -> None:
    buffer = io.BytesIO()
    workbook, formats = start_workbook(buffer, report.title, report.cutoff)
    _notes_sheet(workbook, report, formats)
    used: set[str] = {"说明"}
    for table in report.tables():
        _table_sheet(workbook, table, _sheet_name(table.title, used), formats)
    workbook.close()
    path.write_bytes(_fixed_zip_times(buffer.getvalue(), report))


def start_workbook(target: Any, title: str, created: datetime) -> tuple[xlsxwriter.Workbook, _Formats]:
    """A workbook written to `target` (a path or a binary buffer) in constant memory, strings kept as
    text, with its shared formats; `created` (the data cut-off) is its creation time."""
    workbook = xlsxwriter.Workbook(target, _OPTIONS)
    when = created.astimezone(UTC).replace(tzinfo=None)  # core properties are naive UTC
    workbook.set_properties({"title": title, "author": "minghu-monitor", "created": when})
    return workbook, _Formats(workbook)


class _Formats:
    """One format object per use, shared by every cell (XlsxWriter writes each format once)."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.number = {kind: workbook.add_format({"num_format": fmt}) for kind, fmt in FORMATS.items()}
        self.header = workbook.add_format({"bold": True, "bg_color": HEADER_FILL, "pattern": 1})
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", title)[:31]
    name, n = base, 2
    while name in used:
        suffix = f"({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _notes_sheet(workbook: xlsxwriter.Workbook, report: Report, formats: _Formats) -> None:
    rows = [("统计周期", report.period.label), ("数据截至", f"{local_minute(report.cutoff)}（北京时间）")]
    rows += [("责任单位", report.unit_name)] if report.unit_name else []
    notes_sheet(workbook, formats, report.title, rows, report.definitions)


def notes_sheet(
    workbook: xlsxwriter.Workbook,
    formats: _Formats,
    title: str,
    facts: Sequence[tuple[str, str]],
    definitions: Sequence[str],
    *,
    name: str = "说明",
) -> None:
    """A 说明 sheet: the title, label/value facts, a blank row, then the numbered 统计口径."""
    ws = workbook.add_worksheet(name)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 110)
    ws.write_string(0, 0, title, formats.title)
    for r, (label, value) in enumerate(facts, 1):
        ws.write_string(r, 0, label)
        ws.write_string(r, 1, value)
    r = len(facts) + 2  # a blank row, then the definitions
    ws.write_string(r, 0, "统计口径")
    for i, line in enumerate(definitions, 1):
        ws.write_string(r + i, 0, str(i))
        ws.write_string(r + i, 1, line, formats.wrap)


def _table_sheet(workbook: xlsxwriter.Workbook, table: Table, name: str, formats: _Formats) -> None:
    sheet = ListSheet(workbook, formats, name, table.columns, long_list=table.long_list)
    for row in table.rows:
        sheet.append(row)


class ListSheet:
    """A sheet of rows appended one after another (each row goes to the file as the next one
    starts): a bold, filled, frozen header row (times marked 北京时间), widths by column kind unless
    `widths` (column key -> width) says otherwise, cells written as their column's kind."""

    def __init__(
        self,
        workbook: xlsxwriter.Workbook,
        formats: _Formats,
        name: str,
        columns: Sequence[Column],
        *,
        long_list: bool = False,
        widths: Mapping[str, float] | None = None,
    ) -> None:
        self.ws = workbook.add_worksheet(name)
        self.ws.freeze_panes(1, 0)
        for i, column in enumerate(columns):
            default = WIDTHS.get(column.kind, max(8, min(40, 2 * len(column.header) + 4)))
            self.ws.set_column(i, i, (widths or {}).get(column.key, default))
            self.ws.write_string(0, i, column_header(column), formats.header)
        self.writers = [_writer(column.kind, formats, long_list) for column in columns]
        self.rows = 0

    def append(self, row: Sequence[Any]) -> None:
        self.rows += 1
        for c, value in enumerate(row):
            if value is not None:
                self.writers[c](self.ws, self.rows, c, value)


def _writer(kind: Kind, formats: _Formats, long_list: bool) -> Writer:
    """How the cells of a column are written. Long lists keep hours to the tenth they are shown with."""
    if kind == Kind.TEXT:
        return lambda ws, r, c, v: ws.write_string(r, c, str(v))
    number = formats.number[kind]
    if kind == Kind.TIME:
        return lambda ws, r, c, v: _time(ws, r, c, v, number)
    if kind == Kind.HOURS and long_list:
        return lambda ws, r, c, v: ws.write_number(r, c, round(v, 1), number)
    return lambda ws, r, c, v: _number(ws, r, c, v, number)


def _time(ws: Worksheet, r: int, c: int, value: Any, number: Format) -> Any:
    if isinstance(value, datetime):
        return ws.write_datetime(r, c, excel_time(value), number)
    return ws.write_string(r, c, str(value))


def _number(ws: Worksheet, r: int, c: int, value: Any, number: Format) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ws.write_number(r, c, value, number)
    return ws.write_string(r, c, str(value))


def _fixed_zip_times(data: bytes, report: Report) -> bytes:
    stamp = to_local(report.cutoff).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()

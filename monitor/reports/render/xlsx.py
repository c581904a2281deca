"""The report as an XLSX workbook: a 说明 sheet, then one sheet per table (openpyxl, write-only).

Headers are Chinese; counts, rates, hours and times carry Excel number formats; times are the
Asia/Shanghai wall time. The file is byte-for-byte reproducible: document properties and zip
entry times are the report's cut-off, never the moment it was written.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.writer.excel import ExcelWriter

from monitor.clock import to_local
from monitor.reports.build import Kind, Report, Table
from monitor.reports.render.cells import excel_time, local_minute

FORMATS = {Kind.ID: "0", Kind.INT: "#,##0", Kind.PCT: "0.0%", Kind.HOURS: "0.0", Kind.TIME: "yyyy-mm-dd hh:mm"}
WIDTHS = {Kind.ID: 9, Kind.INT: 10, Kind.PCT: 10, Kind.HOURS: 12, Kind.TIME: 17}
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
WRAP = Alignment(wrap_text=True, vertical="top")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def write_xlsx(report: Report, path: Path) -> None:
    workbook = Workbook(write_only=True)
    when = report.cutoff.astimezone(UTC).replace(tzinfo=None)  # core properties are naive UTC
    workbook.properties.created = workbook.properties.modified = when
    workbook.properties.creator = "minghu-monitor"
    workbook.properties.title = report.title
    _notes_sheet(workbook, report)
    used: set[str] = {"说明"}
    for table in report.tables():
        _table_sheet(workbook, table, _sheet_name(table.title, used))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()  # not workbook.save(): that stamps "modified" with the wall clock
    path.write_bytes(_fixed_zip_times(buffer.getvalue(), report))


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", title)[:31]
    name, n = base, 2
    while name in used:
        suffix = f"({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _notes_sheet(workbook: Workbook, report: Report) -> None:
    ws: WriteOnlyWorksheet = workbook.create_sheet("说明")
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 110
    bold = WriteOnlyCell(ws, value=report.title)
    bold.font = Font(bold=True, size=14)
    ws.append([bold])
    ws.append(["统计周期", report.period.label])
    ws.append(["数据截至", f"{local_minute(report.cutoff)}（北京时间）"])
    if report.unit_name:
        ws.append(["责任单位", report.unit_name])
    ws.append([])
    ws.append(["统计口径"])
    for i, line in enumerate(report.definitions, 1):
        cell = WriteOnlyCell(ws, value=line)
        cell.alignment = WRAP
        ws.append([f"{i}", cell])


def _table_sheet(workbook: Workbook, table: Table, name: str) -> None:
    ws: WriteOnlyWorksheet = workbook.create_sheet(name)
    ws.freeze_panes = "A2"
    for i, column in enumerate(table.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(
            column.kind, max(8, min(40, 2 * len(column.header) + 4))
        )
    header = []
    for column in table.columns:
        text = f"{column.header}（北京时间）" if column.kind == Kind.TIME else column.header
        cell = WriteOnlyCell(ws, value=text)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        header.append(cell)
    ws.append(header)
    kinds = [c.kind for c in table.columns]
    convert = _plain if table.long_list else _styled
    for row in table.rows:
        ws.append([convert(ws, value, kind) for value, kind in zip(row, kinds, strict=True)])


def _styled(ws: WriteOnlyWorksheet, value: Any, kind: Kind) -> Any:
    if value is None or kind == Kind.TEXT:
        return value
    cell = WriteOnlyCell(ws, value=excel_time(value) if kind == Kind.TIME else value)
    cell.number_format = FORMATS[kind]
    return cell


def _plain(ws: WriteOnlyWorksheet, value: Any, kind: Kind) -> Any:
    """Long lists (thousands of rows): plain values are several times cheaper to write than styled cells.
    Hours are rounded to the tenth shown elsewhere; times get openpyxl's date format."""
    if value is None or kind in (Kind.TEXT, Kind.ID, Kind.INT):
        return value
    if kind == Kind.HOURS:
        return round(value, 1)
    if kind == Kind.TIME:
        return excel_time(value)
    return _styled(ws, value, kind)


def _fixed_zip_times(data: bytes, report: Report) -> bytes:
    stamp = to_local(report.cutoff).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()

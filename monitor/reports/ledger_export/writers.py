"""The ledger as a file, written row by row: CSV (UTF-8 with BOM, for Excel on Chinese Windows)
or XLSX (real Beijing times, frozen header, a 说明 sheet). Both reuse the monthly report's cell
rules (`csv_text`: text Excel would run as a formula stays text; XLSX: strings never become
formulas or links), so the two exports agree with the report's files."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from monitor.reports.build.model import Cell, Column
from monitor.reports.render.cells import column_header
from monitor.reports.render.files import csv_text
from monitor.reports.render.xlsx import ListSheet, notes_sheet, start_workbook

FORMATS = ("csv", "xlsx")
SHEET = "舆情回应台账"
WIDTHS = {  # column key -> width (characters); the rest by kind
    "external_ref": 16, "title": 40, "source": 16, "source_url": 36, "category": 10, "event_level": 14,
    "opinion_level": 14, "region": 12, "owner_unit": 16, "lead_unit": 16, "co_units": 20, "reassignments": 30,
    "deadlines": 30, "first_response_kind": 14, "first_response_link": 36, "responses": 50, "reports": 40,
    "supervision": 40, "gov_supervision": 40, "status": 10, "process": 60, "summary": 60,
}  # fmt: skip
RULE_WIDTH = 36


class LedgerWriter(Protocol):
    def append(self, rows: Sequence[Sequence[Cell]]) -> None: ...

    def finish(self, title: str, facts: Sequence[tuple[str, str]], definitions: Sequence[str]) -> None: ...

    def abort(self) -> None: ...


class CsvLedger:
    """One header row, then one row per incident (the 说明 goes to the command's output and the page)."""

    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self.handle: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow([column_header(c) for c in self.columns])

    def append(self, rows: Sequence[Sequence[Cell]]) -> None:
        kinds = [c.kind for c in self.columns]
        self.writer.writerows([csv_text(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows)

    def finish(self, title: str, facts: Sequence[tuple[str, str]], definitions: Sequence[str]) -> None:
        self.handle.close()

    def abort(self) -> None:
        self.handle.close()


class XlsxLedger:
    """The 台账 sheet first (what opens), streamed in constant memory; the 说明 sheet after it,
    written at the end, when the counts are known."""

    def __init__(self, path: Path, columns: Sequence[Column], title: str, cutoff: datetime) -> None:
        self.workbook, self.formats = start_workbook(str(path), title, cutoff)
        widths = {c.key: WIDTHS.get(c.key, RULE_WIDTH if c.key.startswith("rule:") else 0) for c in columns}
        self.sheet = ListSheet(
            self.workbook, self.formats, SHEET, columns, widths={k: w for k, w in widths.items() if w}
        )
        self.sheet.ws.freeze_panes(1, 3)  # the header row, and 编号 / 外部编号 / 标题 while scrolling right
        self.sheet.ws.autofilter(0, 0, 0, len(columns) - 1)

    def append(self, rows: Sequence[Sequence[Cell]]) -> None:
        for row in rows:
            self.sheet.append(row)

    def finish(self, title: str, facts: Sequence[tuple[str, str]], definitions: Sequence[str]) -> None:
        if self.sheet.rows:  # the filter's range: the header and every row
            self.sheet.ws.autofilter(0, 0, self.sheet.rows, len(self.sheet.writers) - 1)
        notes_sheet(self.workbook, self.formats, title, facts, definitions)
        self.workbook.close()

    def abort(self) -> None:
        self.workbook.fileclosed = True  # nothing to save: the partial file is removed by the caller


def open_writer(fmt: str, path: Path, columns: Sequence[Column], title: str, cutoff: datetime) -> LedgerWriter:
    if fmt == "csv":
        return CsvLedger(path, columns)
    if fmt == "xlsx":
        return XlsxLedger(path, columns, title, cutoff)
    raise ValueError(f"unknown ledger format {fmt!r}; use csv or xlsx")

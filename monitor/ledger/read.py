"""Rows of a ledger file (CSV or XLSX) as (row number, {column: value}); header = row 1."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any

from monitor.ledger.model import LedgerMapping

Row = tuple[int, dict[str, Any]]
_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')  # quoted text, [$-804]/[Red], escaped characters


class LedgerFileError(ValueError):
    """The file as a whole cannot be read (wrong type, encoding, missing columns)."""


def read_rows(path: Path, mapping: LedgerMapping) -> Iterator[Row]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise LedgerFileError(f"{path}: no such file")
    if suffix == ".csv":
        return _csv_rows(path, mapping)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, mapping)
    raise LedgerFileError(f"{path}: unsupported file type {suffix or '(none)'}; export the ledger as .csv or .xlsx")


def _decode(path: Path, encoding: str) -> str:
    data = path.read_bytes()
    candidates = ("utf-8-sig", "gb18030") if encoding == "auto" else (encoding,)
    for candidate in candidates:
        try:
            return data.decode(candidate).removeprefix("\ufeff")  # a BOM is no part of the first column's name
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise LedgerFileError(f"mapping format.encoding {encoding!r} is not a known encoding") from None
    raise LedgerFileError(f"{path}: not readable as {' or '.join(candidates)}; save it as UTF-8 or set format.encoding")


def _check_header(path: Path, header: list[str], mapping: LedgerMapping) -> None:
    missing = [c for c in mapping.column_names() if c not in header]
    if missing:
        raise LedgerFileError(
            f"{path}: columns {', '.join(missing)} named by mapping {mapping.name!r} are not in the file "
            f"(its header: {', '.join(header) or 'empty'}); fix the mapping's columns or the file's header"
        )


def _csv_rows(path: Path, mapping: LedgerMapping) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(_decode(path, mapping.encoding), newline=""), delimiter=mapping.delimiter)
    header = [h.strip() for h in next(reader, [])]
    _check_header(path, header, mapping)
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        yield number, dict(zip(header, values, strict=False))


def _xlsx_rows(path: Path, mapping: LedgerMapping) -> Iterator[Row]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        if mapping.sheet and mapping.sheet not in workbook.sheetnames:
            raise LedgerFileError(f"{path}: no sheet {mapping.sheet!r}; sheets: {', '.join(workbook.sheetnames)}")
        sheet = workbook[mapping.sheet] if mapping.sheet else workbook.worksheets[0]
        rows = sheet.iter_rows()
        header = ["" if c.value is None else str(c.value).strip() for c in next(rows, ())]
        _check_header(path, header, mapping)
        for number, cells in enumerate(rows, start=2):
            values = [_cell_value(c) for c in cells]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield number, dict(zip(header, values, strict=False))
    finally:
        workbook.close()


def _cell_value(cell: Any) -> Any:
    """The cell's value; a date typed into Excel (a date format without hours or seconds) as a `date`,
    so that the mapping's date_only rule applies to it as to the text "2017/5/16" (openpyxl would
    give midnight, and a reply dated that day would count as given at 00:00)."""
    value = cell.value
    if isinstance(value, datetime) and value.time() == time(0) and _date_only(cell.number_format):
        return value.date()
    return value


def _date_only(number_format: str | None) -> bool:
    shown = _LITERALS.sub("", (number_format or "").split(";")[0]).lower()
    return "h" not in shown and "s" not in shown

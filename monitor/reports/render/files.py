"""Write a report to files: HTML, CSV (one file per table), XLSX, JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.clock import to_local
from monitor.reports.build import Kind, Report, Table
from monitor.reports.render.cells import cell_text, column_header
from monitor.reports.render.html import DEFAULT_LIST_LIMIT, render_document
from monitor.reports.render.xlsx import write_xlsx

FORMATS = ("html", "csv", "xlsx", "json")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what Excel (and LibreOffice) read as a formula in a CSV


def base_name(report: Report) -> str:
    """report-2026-10 or report-2026-10-<unit id> (ASCII: safe in mail attachments and URLs)."""
    unit = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in report.unit or "")
    return f"report-{report.period.key}" + (f"-{unit}" if unit else "")


def write_report(
    report: Report, out_dir: Path, formats: Sequence[str], *, list_limit: int = DEFAULT_LIST_LIMIT
) -> list[Path]:
    """Write the requested formats into `out_dir`; returns the files written, in the order asked.

    All in this process, one after the other. (Writing a big workbook in a second process was
    tried: with XlsxWriter the workbook of a 100,000-incident month takes ~1.3 s, less than a
    spawned process needs to start and import, so it cost CPU and saved no time.)
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format {unknown[0]!r}; use one of {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / base_name(report)
    return [path for fmt in formats for path in _write(report, fmt, base, list_limit)]


def _write(report: Report, fmt: str, base: Path, list_limit: int) -> list[Path]:
    if fmt == "csv":
        return write_csv(report, base.parent, base.name)
    path = base.with_suffix(f".{fmt}")
    if fmt == "html":
        path.write_text(render_document(report, list_limit=list_limit), encoding="utf-8")
    elif fmt == "xlsx":
        write_xlsx(report, path)
    else:
        path.write_text(json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [path]


def write_csv(report: Report, out_dir: Path, base: str) -> list[Path]:
    """One UTF-8 (with BOM, so Excel reads the Chinese) CSV per table: <base>-<table key>.csv."""
    paths = []
    for table in report.tables():
        path = out_dir / f"{base}-{table.key}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([column_header(c) for c in table.columns])
            for row in table.rows:
                writer.writerow([csv_text(v, c.kind) for v, c in zip(row, table.columns, strict=True)])
        paths.append(path)
    return paths


def csv_text(value: Any, kind: Kind) -> str:
    """The cell as the CSV writes it: as people read it, and text that Excel would run as a formula
    (a title from the web starting with = + - @) behind an apostrophe, so it stays text."""
    text = cell_text(value, kind)
    return "'" + text if kind == Kind.TEXT and text.startswith(FORMULA_STARTS) else text


def _json_value(value: Any) -> Any:
    return to_local(value).isoformat() if isinstance(value, datetime) else value


def table_json(table: Table) -> dict[str, Any]:
    return {
        "title": table.title,
        "columns": [{"key": c.key, "header": c.header, "kind": c.kind.value} for c in table.columns],
        "rows": [[_json_value(v) for v in row] for row in table.rows],
    }


def report_json(report: Report) -> dict[str, Any]:
    """The contract (stable keys) plus every table, and the 统计口径 text."""
    return {
        **report.contract,
        "title": report.title,
        "definitions": list(report.definitions),
        "tables": {t.key: table_json(t) for t in report.tables()},
    }

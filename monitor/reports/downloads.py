"""A report as one downloadable file (the web's download links): the same bytes `monitor report` writes."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from monitor.reports.build import Report
from monitor.reports.render.files import base_name, report_json, write_csv
from monitor.reports.render.html import render_document
from monitor.reports.render.xlsx import write_xlsx


@dataclass(frozen=True)
class Download:
    label: str  # zh-CN link text
    content_type: str


DOWNLOADS = {
    "xlsx": Download("Excel（XLSX）", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": Download("CSV（每表一个文件，ZIP 打包）", "application/zip"),
    "json": Download("JSON（数据接口格式）", "application/json"),
    "html": Download("网页（HTML，可打印）", "text/html"),
}


def render_download(report: Report, fmt: str) -> tuple[str, bytes]:
    """(file name, content) of `report` as `fmt` (a key of DOWNLOADS). CPU-bound: call in a thread."""
    base = base_name(report)
    if fmt == "json":
        text = json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
        return f"{base}.json", text.encode("utf-8")
    if fmt == "html":
        return f"{base}.html", render_document(report).encode("utf-8")
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        if fmt == "xlsx":
            path = Path(tmp) / f"{base}.xlsx"
            write_xlsx(report, path)
            return path.name, path.read_bytes()
        if fmt == "csv":
            return f"{base}-csv.zip", _zip(write_csv(report, Path(tmp), base))
    raise ValueError(f"unknown download format {fmt!r}; use one of {', '.join(DOWNLOADS)}")


def _zip(paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            info = zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0))  # reproducible bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()

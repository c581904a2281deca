"""Rows of a ledger file (CSV or XLSX) as (row number, {column: value}); header = row 1."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
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


UTF8_BOM = b"\xef\xbb\xbf"
GB_CODECS = ("gb18030", "gbk", "gb2312")
SAMPLE = 200_000  # characters looked at to tell gibberish
PRIVATE_USE = range(0xE000, 0xF900)  # no text has these; Big5 bytes read as GB18030 give many (的 → U+E1E6 …)
# what a GB18030 reading of a file is more likely to be, tried in this order (each must decode without error)
LIKELY_ENCODINGS = (("big5", "Big5 (traditional Chinese)"), ("big5hkscs", "Big5-HKSCS (traditional Chinese)"),
                    ("shift_jis", "Shift_JIS (Japanese)"))  # fmt: skip


def _decode(path: Path, mapping: LedgerMapping) -> str:
    """The file's text. A UTF-8 byte order mark is decisive whatever the mapping says (Excel's
    "CSV UTF-8" and the rejects file have one); GB18030 text that is really Big5 stops with a
    message naming Big5, instead of importing gibberish."""
    data, encoding = path.read_bytes(), mapping.encoding
    if data.startswith(UTF8_BOM):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "gb18030") if encoding == "auto" else (encoding,)
    for candidate in candidates:
        try:
            text = data.decode(candidate).removeprefix("\ufeff")  # a BOM is no part of the first column's name
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise LedgerFileError(f"mapping format.encoding {encoding!r} is not a known encoding") from None
        if codecs.lookup(candidate).name in GB_CODECS:
            _check_not_garbled(path, data, text, mapping)
        return text
    raise LedgerFileError(
        f"{path}: not readable as {' or '.join(candidates)}; save it as UTF-8, or set the file's encoding in "
        f"mapping {mapping.name!r} (format: {{encoding: big5}}, gb18030, utf-16 …)"
    )


def _check_not_garbled(path: Path, data: bytes, text: str, mapping: LedgerMapping) -> None:
    """Big5 (and Shift_JIS) bytes are nearly always valid GB18030, so such a file decodes without error
    into gibberish. Tell by the private-use characters Big5 yields, by Chinese text almost none of which
    is common simplified Chinese (GB2312), or by the mapping's Chinese column names appearing in the
    first line only in another reading; then name the encoding that reads the file."""
    wide = Counter(ch for ch in text[:SAMPLE] if ord(ch) > 0x7F)
    private = sum(n for ch, n in wide.items() if ord(ch) in PRIVATE_USE)
    rare = sum(n for ch, n in wide.items() if not _is_gb2312(ch))
    wide_n = wide.total()
    garbled = (private >= 2 and private * 50 >= wide_n) or (wide_n >= 20 and rare * 10 >= wide_n * 9)
    for encoding, label in LIKELY_ENCODINGS:
        try:
            other = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ord(ch) in PRIVATE_USE for ch in other):
            continue
        if garbled or (_names_columns(other, mapping) and not _names_columns(text, mapping)):
            line = _first_chinese_line(other)
            raise LedgerFileError(
                f"{path}: the file looks like {label}, not GB18030 — read as {encoding} a line says "
                f"{_line(other, line)!r}. Set `format: {{encoding: {encoding}}}` in mapping {mapping.name!r} "
                "(or save the file as UTF-8) and import it again"
            )
    if garbled:
        raise LedgerFileError(
            f"{path}: read as GB18030 the text is garbled, e.g. {_line(text, _first_chinese_line(text))!r}; save the "
            f"file as UTF-8, or set its encoding in mapping {mapping.name!r} (format: {{encoding: …}})"
        )


def _is_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _first_chinese_line(text: str) -> int:
    lines = text.splitlines()
    return next((i for i, line in enumerate(lines) if not line.isascii()), 0)


def _line(text: str, index: int) -> str:
    lines = text.splitlines() or [""]
    return lines[min(index, len(lines) - 1)][:60]


def _names_columns(text: str, mapping: LedgerMapping) -> bool:
    first = text.split("\n", 1)[0]
    names = [n for n in mapping.column_names() if not n.isascii()]
    return bool(names) and all(n in first for n in names)


def _check_header(path: Path, header: list[str], mapping: LedgerMapping) -> None:
    missing = [c for c in mapping.column_names() if c not in header]
    if missing:
        raise LedgerFileError(
            f"{path}: columns {', '.join(missing)} named by mapping {mapping.name!r} are not in the file "
            f"(its header: {', '.join(header) or 'empty'}); fix the mapping's columns or the file's header"
        )


def _csv_rows(path: Path, mapping: LedgerMapping) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(_decode(path, mapping), newline=""), delimiter=mapping.delimiter)
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

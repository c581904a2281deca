"""``monitor classify``: classify a JSON Lines file, one document per line.

Input lines are ``{"id", "title", "text"}`` with optional ``source``, ``published_at`` (ISO 8601)
and ``media_tier`` (central | provincial | city | county | self_media). Each output line is the
input object with the classifier's fields added (``relevant``, ``relevance_score``,
``event_type``, ``facts``, ``event_level``, ``opinion_level``, ``unit``, ``co_units``, ``why`` …
plus ``unit_ids`` / ``co_unit_ids``, the org directory's unit ids). A line that cannot be read
is reported with its number and the reason, copied to the rejects file when one is given, and
skipped: it never stops the run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from classifiers import Doc
from monitor.classify.service import ItemClassifier
from monitor.clock import parse_instant
from monitor.domain import MediaTier

_TIERS = ", ".join(t.value for t in MediaTier)


class LineError(ValueError):
    """One input line is unusable; the message says what to fix."""


@dataclass
class FileReport:
    lines: int = 0
    classified: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def parse_line(raw: bytes | str) -> tuple[Doc, dict[str, Any]]:
    """The document of one input line and the input object (echoed in the output)."""
    # Without its line ending: an error at the end of the line is reported at its column there.
    line = _decode(raw).rstrip("\r\n")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise LineError('expected a JSON object such as {"id": "1", "title": "…", "text": "…"}')
    doc_id = _doc_id(obj.get("id"))
    # null reads as absent: exports of database rows write a missing title as null.
    title, text = ("" if obj.get(name) is None else obj[name] for name in ("title", "text"))
    for name, value in (("title", title), ("text", text)):
        if not isinstance(value, str):
            raise LineError(f'"{name}" must be a string, got {_json_kind(value)}')
    if not (title.strip() or text.strip()):
        raise LineError('"title" and "text" are both empty; nothing to classify')
    tier = obj.get("media_tier")
    if tier is not None and tier not in {t.value for t in MediaTier}:
        raise LineError(f'"media_tier" {tier!r} is not one of {_TIERS}')
    published = obj.get("published_at")
    published_at = None
    if published is not None:
        try:
            published_at = parse_instant(str(published))
        except ValueError:
            raise LineError(
                f'"published_at" {published!r} is not an ISO 8601 time, e.g. 2026-09-24T08:30:00+08:00'
            ) from None
    return Doc(doc_id, title, text, media_tier=tier, published_at=published_at), obj


def _doc_id(value: object) -> str:
    if value is None or value == "":
        raise LineError('"id" is missing; give every line an id')
    if isinstance(value, bool) or not isinstance(value, str | int):
        shown = json.dumps(value, ensure_ascii=False)
        raise LineError(f'"id" must be a string or a whole number, got {shown[:60]}')
    return str(value)


def _json_kind(value: object) -> str:
    """What a JSON value is, in JSON's terms (an array, not a list)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "an array" if isinstance(value, list) else "an object"


def _decode(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    if b"\x00" in raw:  # UTF-16 (Windows "Unicode"): NUL bytes everywhere, valid UTF-8 or not
        raise LineError("not UTF-8: it looks like UTF-16 (NUL bytes); save the file as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
        try:
            raw.decode("gb18030")
        except UnicodeDecodeError:
            raise LineError(f"{where}; save the file as UTF-8") from None
        raise LineError(
            f"{where}; it looks like GB18030/GBK: save the file as UTF-8 (iconv -f GB18030 -t UTF-8 IN > OUT)"
        ) from None


def _numbered(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


async def classify_file(
    source: Iterable[bytes],
    sink: IO[str],
    classifier: ItemClassifier,
    *,
    batch: int = 500,
    on_reject: Callable[[int, str, bytes], None] | None = None,
) -> FileReport:
    """Stream the lines of ``source`` (bytes, UTF-8) to ``sink`` in batches;
    ``on_reject(number, reason, raw line)`` is called for every line that cannot be used.
    With a worker pool, up to one batch per worker is in flight; output keeps the input order."""
    report = FileReport()
    window = max(1, classifier.classifier.workers)
    pending: list[tuple[list[Doc], list[dict[str, Any]]]] = []
    docs: list[Doc] = []
    objects: list[dict[str, Any]] = []
    for number, line in _numbered(source):
        report.lines += 1
        try:
            doc, obj = parse_line(line)
        except LineError as exc:
            report.rejected.append((number, str(exc)))
            if on_reject:
                on_reject(number, str(exc), line)
            continue
        docs.append(doc)
        objects.append(obj)
        if len(docs) >= batch:
            pending.append((docs, objects))
            docs, objects = [], []
        if len(pending) >= window:
            report.classified += await _flush(pending, sink, classifier)
    if docs:
        pending.append((docs, objects))
    report.classified += await _flush(pending, sink, classifier)
    return report


async def _flush(
    pending: list[tuple[list[Doc], list[dict[str, Any]]]], sink: IO[str], classifier: ItemClassifier
) -> int:
    results = await asyncio.gather(*(classifier.classify_raw(docs) for docs, _ in pending))
    written = 0
    for (_, objects), batch_results in zip(pending, results, strict=True):
        for obj, result in zip(objects, batch_results, strict=True):
            sink.write(json.dumps({**obj, **result, "id": obj["id"]}, ensure_ascii=False) + "\n")
            written += 1
    pending.clear()
    return written

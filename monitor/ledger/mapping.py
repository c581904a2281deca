"""Read a ledger mapping file (YAML); every error names the file, line, key and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.domain import EventLevel, EventType, MediaType, OpinionLevel, ResponseKind
from monitor.domain.enums import media_type_choices
from monitor.ledger.model import FIELDS, REQUIRED_FIELDS, ColumnSpec, DateOnly, Defaults, LedgerMapping
from monitor.policy.yamlfile import PolicyError, Section, load_yaml

TOP_KEYS = ("name", "description", "format", "timezone", "time_formats", "date_formats", "date_only", "columns",
            "defaults", "ignore")  # fmt: skip
DEFAULT_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")


def load_mapping(path: Path | str) -> LedgerMapping:
    root = load_yaml(path).root().only(*TOP_KEYS)
    name = root.text("name")
    if not name.replace("-", "").replace("_", "").isalnum() or not name.isascii():
        raise root.error("name", f"{name!r} is not a plain name", "use letters, digits, - and _ (e.g. message-board)")
    timezone = root.text("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise root.error("timezone", f"unknown time zone {timezone!r}", "use e.g. Asia/Shanghai") from None
    fmt = root.section("format", required=False)
    date_only = root.section("date_only", required=False)
    return LedgerMapping(
        name=name,
        description=root.text("description", ""),
        columns=_columns(root),
        time_formats=_formats(root, "time_formats", DEFAULT_TIME_FORMATS),
        date_formats=_formats(root, "date_formats", DEFAULT_DATE_FORMATS),
        received_date_only=date_only.enum("received", DateOnly, DateOnly.START_OF_DAY)
        if date_only
        else DateOnly.START_OF_DAY,
        response_date_only=date_only.enum("response", DateOnly, DateOnly.END_OF_DAY)
        if date_only
        else DateOnly.END_OF_DAY,
        timezone=timezone,
        defaults=_defaults(root.section("defaults", required=False)),
        encoding=fmt.text("encoding", "auto") if fmt else "auto",
        delimiter=fmt.text("delimiter", ",") if fmt else ",",
        sheet=fmt.text("sheet", None) if fmt else None,
    )


def _formats(root: Section, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    formats = root.strings(key, default)
    for i, f in enumerate(formats):
        if "%" not in f:
            raise root.doc.error(
                (*root.path, key, i), f"{f!r} is not a strptime format", "write e.g. %Y/%m/%d %H:%M:%S"
            )
    return formats


def _columns(root: Section) -> dict[str, ColumnSpec]:
    section = root.section("columns")
    assert section is not None
    section.only(*FIELDS)
    for required in REQUIRED_FIELDS:
        if required not in section:
            raise section.error(None, f"missing required key '{required}'", f"add `{required}: <column name>`")
    return {key: _column(section, key) for key in section.data}


def _column(section: Section, key: str) -> ColumnSpec:
    raw: Any = section.data[key]
    if isinstance(raw, str | int):
        return ColumnSpec(str(raw))
    spec = section.section(key)
    assert spec is not None
    spec.only("column", "split", "values")
    values = spec.map_values("values", lambda k, v: str(v))
    return ColumnSpec(spec.text("column"), spec.text("split", None), values)


def _defaults(section: Section | None) -> Defaults:
    if section is None:
        return Defaults()
    section.only(
        "owner_unit", "region", "event_type", "event_level", "opinion_level", "requires_response", "response_kind",
        "media_type",
    )  # fmt: skip
    return Defaults(
        owner_unit=section.text("owner_unit", None),
        region=section.text("region", None),
        event_type=section.enum("event_type", EventType, None),
        event_level=section.enum("event_level", EventLevel, None),
        opinion_level=section.enum("opinion_level", OpinionLevel, None),
        requires_response=section.get("requires_response", bool, True),
        response_kind=section.enum("response_kind", ResponseKind, ResponseKind.WEBSITE_REPLY),
        media_type=_media_type(section),
    )


def _media_type(section: Section) -> MediaType | None:
    raw = section.get("media_type", (str, int), None)
    if raw is None:
        return None
    try:
        return MediaType.from_text(str(raw))
    except ValueError:
        raise section.error(
            "media_type", f"{raw!r} is not a media type（媒体类型无效）", f"use one of {media_type_choices()}"
        ) from None


__all__ = ["PolicyError", "load_mapping"]

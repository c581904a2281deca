"""Server-side validation of action input (HTML forms and JSON alike).

Errors are zh-CN, keyed by field name, and the raw input is kept so the page can be shown
again exactly as the person filled it in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from monitor.clock import parse_instant
from monitor.domain import EventLevel, OpinionLevel, OrgDirectory, ReportKind, ResponseKind
from monitor.web.actions.specs import ActionSpec, FieldSpec
from monitor.web.labels import REPORT_KIND_LABELS

Choice = tuple[str, str]


@dataclass(frozen=True)
class UploadedDocument:
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class FormContext:
    """What validation needs to know about the incident the action is for."""

    incident_id: int
    org: OrgDirectory
    now: datetime
    items: tuple[Choice, ...] = ()  # (item id, title)
    rules: tuple[Choice, ...] = ()  # (rule id, label)
    pause_requests: tuple[Choice, ...] = ()  # (timeline seq, label)


@dataclass(frozen=True)
class ValidCommand:
    spec: ActionSpec
    values: dict[str, Any]  # keyword arguments of the domain command


@dataclass
class FormResult:
    raw: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    command: ValidCommand | None = None


def choices(name: str, ctx: FormContext) -> list[Choice]:
    if name == "event_level":
        return [(lvl.value, f"{lvl.value}级（{lvl.label}）") for lvl in EventLevel]
    if name == "opinion_level":
        return [(lvl.value, f"{lvl.label}（{lvl.color}）") for lvl in OpinionLevel]
    if name == "response_kind":
        return [(k.value, k.label) for k in ResponseKind]
    if name == "report_kind":
        return [(k.value, REPORT_KIND_LABELS[k]) for k in ReportKind]
    if name == "report_channel":
        return [("phone", "电话"), ("written", "书面")]
    if name == "unit":
        return [(u.id, u.name) for u in ctx.org.units.values()]
    table = {"item": ctx.items, "rule": ctx.rules, "pause_request": ctx.pause_requests}
    return list(table[name])


def validate(spec: ActionSpec, data: Mapping[str, Any], ctx: FormContext) -> FormResult:
    """Check every field of `spec` in `data`; returns the command or the errors per field."""
    result = FormResult(raw={f.name: _raw(data, f) for f in spec.fields})
    values: dict[str, Any] = {}
    for spec_field in spec.fields:
        value, error = _clean(spec_field, result.raw[spec_field.name], ctx)
        if error:
            result.errors[spec_field.name] = f"「{spec_field.label}」{error}"
        else:
            values[spec_field.name] = value
    if not result.errors:
        _cross_checks(spec, values, ctx, result.errors)
    if not result.errors:
        result.command = ValidCommand(spec, values)
    return result


def _raw(data: Mapping[str, Any], spec_field: FieldSpec) -> Any:
    if spec_field.kind == "multi":
        getall = getattr(data, "getall", None)
        value = getall(spec_field.name, []) if getall else data.get(spec_field.name, [])
        return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]
    value = data.get(spec_field.name)
    if spec_field.kind == "file":
        return value if hasattr(value, "file") or isinstance(value, UploadedDocument) else None
    return "" if value is None else str(value).strip() if not isinstance(value, bool) else str(value)


def _clean(spec_field: FieldSpec, raw: Any, ctx: FormContext) -> tuple[Any, str | None]:
    if raw in ("", None, []):
        return None, "为必填项" if spec_field.required else None
    if spec_field.kind == "file":
        return _document(raw)
    if spec_field.kind == "multi":
        allowed = {v for v, _ in choices(spec_field.choices or "", ctx)}
        unknown = [v for v in raw if v not in allowed]
        return ([int(v) if v.isdigit() else v for v in raw], None) if not unknown else (None, "包含无效的选项")
    if len(raw) > spec_field.max_length:
        return None, f"不能超过 {spec_field.max_length} 个字符（当前 {len(raw)} 个）"
    cleaner = _CLEANERS.get(spec_field.kind)
    return cleaner(spec_field, raw, ctx) if cleaner else (raw, None)


def _choice(spec_field: FieldSpec, raw: str, ctx: FormContext) -> tuple[Any, str | None]:
    allowed = dict(choices(spec_field.choices or "", ctx))
    if raw not in allowed:
        return None, "不是可选的值，请从列表中选择"
    return (int(raw) if spec_field.choices == "pause_request" else raw), None


def _int(spec_field: FieldSpec, raw: str, ctx: FormContext) -> tuple[Any, str | None]:
    digits = raw.lstrip("#")
    if not digits.isdigit() or int(digits) <= 0:
        return None, "应为正整数，例如 12"
    return int(digits), None


def _url(spec_field: FieldSpec, raw: str, ctx: FormContext) -> tuple[Any, str | None]:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None, "应为以 http:// 或 https:// 开头的完整网址"
    return raw, None


def _datetime(spec_field: FieldSpec, raw: str, ctx: FormContext) -> tuple[Any, str | None]:
    try:
        value = parse_instant(raw)
    except ValueError:
        return None, "不是有效的时间，请按 2026-09-24 14:30 的格式填写（北京时间）"
    if spec_field.future is True and value <= ctx.now:
        return None, "应晚于当前时间"
    if spec_field.future is False and value > ctx.now:
        return None, "不能晚于当前时间"
    return value, None


_CLEANERS = {"choice": _choice, "int": _int, "url": _url, "datetime": _datetime}


def _document(raw: Any) -> tuple[Any, str | None]:
    if isinstance(raw, UploadedDocument):
        return (raw, None) if raw.data else (None, "是空文件")
    data = raw.file.read()
    if not data:
        return None, "是空文件"
    return UploadedDocument(
        str(raw.filename or "document"), str(raw.content_type or "application/octet-stream"), data
    ), None


def _cross_checks(spec: ActionSpec, values: dict[str, Any], ctx: FormContext, errors: dict[str, str]) -> None:
    if spec.command == "RecordResponse" and not values.get("url") and not values.get("document"):
        errors["url"] = "「回应链接」与「回应文件」至少提供一项：回应须有证据"
    if spec.command == "Regrade" and not values.get("event_level") and not values.get("opinion_level"):
        errors["event_level"] = "「突发事件级别」与「舆情级别」至少选择一项"
    if spec.command == "Merge" and values.get("into_id") == ctx.incident_id:
        errors["into_id"] = "「目标事件编号」不能是本事件"
    if spec.command == "Split" and len(values.get("item_ids") or ()) >= len(ctx.items):
        errors["item_ids"] = "「要拆出的稿件」不能是全部稿件，至少保留一条在本事件中"

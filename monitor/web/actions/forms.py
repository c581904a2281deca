"""Server-side validation of action input (HTML forms and JSON alike).

Errors are zh-CN, keyed by field name, and the raw input is kept so the page can be shown
again exactly as the person filled it in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from monitor.clock import parse_instant
from monitor.domain import (
    EventLevel,
    EventType,
    OpinionLevel,
    OrgDirectory,
    ReportKind,
    ResponseKind,
    SupervisionLevel,
)
from monitor.domain.commands import ReportChannel
from monitor.domain.commitments import Commitment, ResponseChannel, RumorAgency
from monitor.domain.evaluation import Satisfaction
from monitor.web.actions.documents import ACCEPTED_TEXT, UploadedDocument, sniff
from monitor.web.actions.specs import ActionSpec, FieldSpec
from monitor.web.labels import REPORT_KIND_LABELS

Choice = tuple[str, str]
NO_EVENT_LEVEL = "none"  # Regrade: "not a 突发事件" (clears the event level)
_TYPED_CHOICES: dict[str, Any] = {
    "event_level": EventLevel,
    "opinion_level": OpinionLevel,
    "event_type": EventType,
    "response_kind": ResponseKind,
    "report_kind": ReportKind,
    "satisfaction": Satisfaction,
    "supervision_level": SupervisionLevel,
    "response_channel": ResponseChannel,
    "rumor_agency": RumorAgency,
}

__all__ = [
    "FormContext",
    "FormResult",
    "PauseRequest",
    "UploadedDocument",
    "ValidCommand",
    "choices",
    "fixed_choices",
    "validate",
]


@dataclass(frozen=True)
class PauseRequest:
    seq: int  # timeline seq of the PAUSE_REQUESTED event
    requester: str
    label: str


@dataclass(frozen=True)
class FormContext:
    """What validation needs to know about the incident the action is for, and who is acting."""

    incident_id: int
    org: OrgDirectory
    now: datetime
    actor: str = ""
    max_document_bytes: int = 20 * 1024 * 1024
    items: tuple[Choice, ...] = ()  # (item id, title)
    rules: tuple[Choice, ...] = ()  # (rule id, label): rules with unmet obligations
    manual_rules: tuple[Choice, ...] = ()  # rules an operator may attach
    extendable_rules: tuple[Choice, ...] = ()  # unmet obligations whose rule allows one extension
    pause_requests: tuple[PauseRequest, ...] = ()  # not yet approved or rejected
    open_commitments: tuple[Choice, ...] = ()  # (number, label): commitments not yet fulfilled


@dataclass(frozen=True)
class ValidCommand:
    spec: ActionSpec
    values: dict[str, Any]  # keyword arguments of the domain command


@dataclass
class FormResult:
    raw: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    command: ValidCommand | None = None


_FIXED_CHOICES: dict[str, list[Choice]] = {
    "event_level": [
        *((lvl.value, f"{lvl.value}级（{lvl.label}）") for lvl in EventLevel),
        (NO_EVENT_LEVEL, "非突发事件（清除级别）"),
    ],
    "opinion_level": [(lvl.value, f"{lvl.label}（{lvl.color}）") for lvl in OpinionLevel],
    "event_type": [(t.value, t.label) for t in EventType],
    "response_kind": [(k.value, k.label) for k in ResponseKind],
    "report_kind": [(k.value, REPORT_KIND_LABELS[k]) for k in ReportKind],
    "report_channel": [(ReportChannel.PHONE, "电话"), (ReportChannel.WRITTEN, "书面")],
    "requires_response": [("yes", "需要回应"), ("no", "无需回应")],
    "satisfaction": [(s.value, s.label) for s in Satisfaction],
    "supervision_level": [(lvl.value, lvl.label) for lvl in SupervisionLevel],
    "response_channel": [(ch.value, ch.label) for ch in ResponseChannel],
    "rumor_agency": [(a.value, a.label) for a in RumorAgency],
}


def fixed_choices(name: str | None) -> list[Choice] | None:
    """The choices that do not depend on the incident (enums), or None."""
    return _FIXED_CHOICES.get(name or "")


def choices(name: str, ctx: FormContext) -> list[Choice]:
    if name in _FIXED_CHOICES:
        return _FIXED_CHOICES[name]
    if name == "unit":
        return [(u.id, u.name) for u in ctx.org.units.values()]
    if name == "region":  # 属地: townships and subdistricts
        return [(u.id, u.name) for u in ctx.org.localities()]
    if name.startswith("pause_request"):
        others_only = name == "pause_request_to_approve"
        return [(str(p.seq), p.label) for p in ctx.pause_requests if not (others_only and p.requester == ctx.actor)]
    table = {
        "item": ctx.items,
        "rule": ctx.rules,
        "manual_rule": ctx.manual_rules,
        "extendable_rule": ctx.extendable_rules,
        "open_commitment": ctx.open_commitments,
    }
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
        result.command = ValidCommand(spec, _command_kwargs(values))
    return result


def _command_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """Validated values as the command's keyword arguments (absent optional fields keep their defaults)."""
    kwargs = {k: v for k, v in values.items() if v is not None}
    if kwargs.get("event_level") == NO_EVENT_LEVEL:
        del kwargs["event_level"]
        kwargs["clear_event_level"] = True
    if "requires_response" in kwargs:
        kwargs["requires_response"] = kwargs["requires_response"] == "yes"
    if "#" in str(kwargs.get("rule_id") or ""):  # one obligation of a rule with several: PRJ-COMMITMENT#2
        rule_id, instance = str(kwargs["rule_id"]).rsplit("#", 1)
        kwargs["rule_id"], kwargs["instance"] = rule_id, int(instance)
    if "item_ids" in kwargs:
        kwargs["item_ids"] = tuple(kwargs["item_ids"])
    return kwargs


def _raw(data: Mapping[str, Any], spec_field: FieldSpec) -> Any:
    if spec_field.kind == "multi":
        getall = getattr(data, "getall", None)
        value = getall(spec_field.name, []) if getall else data.get(spec_field.name, [])
        return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]
    value = data.get(spec_field.name)
    if spec_field.kind == "commitments" and isinstance(value, list | tuple):
        value = "\n".join(str(v) for v in value)  # JSON may send the lines as a list
    if spec_field.kind == "file":
        if hasattr(value, "file"):
            return value if getattr(value, "filename", "") else None  # an empty file input arrives unnamed
        return value or None
    return "" if value is None else str(value).strip() if not isinstance(value, bool) else str(value)


def _clean(spec_field: FieldSpec, raw: Any, ctx: FormContext) -> tuple[Any, str | None]:
    if raw in ("", None, []):
        return None, "为必填项" if spec_field.required else None
    if spec_field.kind == "file":
        return _document(raw, ctx)
    if spec_field.kind == "multi":
        allowed = {v for v, _ in choices(spec_field.choices or "", ctx)}
        unknown = [v for v in raw if v not in allowed]
        return ([int(v) if v.isdigit() else v for v in raw], None) if not unknown else (None, "包含无效的选项")
    if len(raw) > spec_field.max_length:
        return None, f"不能超过 {spec_field.max_length} 个字符（当前 {len(raw)} 个）"
    cleaner = _CLEANERS.get(spec_field.kind)
    return cleaner(spec_field, raw, ctx) if cleaner else (raw, None)


def _choice(spec_field: FieldSpec, raw: str, ctx: FormContext) -> tuple[Any, str | None]:
    name = spec_field.choices or ""
    if raw not in dict(choices(name, ctx)):
        own = name == "pause_request_to_approve" and any(
            str(p.seq) == raw and p.requester == ctx.actor for p in ctx.pause_requests
        )
        if own:
            return None, "是您本人提出的：暂停须由申请人以外的另一人批准"
        return None, "不是可选的值，请从列表中选择"
    if name.startswith("pause_request") or name == "open_commitment":
        return int(raw), None
    typed = _TYPED_CHOICES.get(name)
    return (typed(raw) if typed and raw != NO_EVENT_LEVEL else raw), None


def _int(spec_field: FieldSpec, raw: str, ctx: FormContext) -> tuple[Any, str | None]:
    digits = raw.lstrip("#")
    if not digits.isdigit() or int(digits) <= 0:
        return None, "应为正整数，例如 12"
    return int(digits), None


def _percent(spec_field: FieldSpec, raw: str, ctx: FormContext) -> tuple[Any, str | None]:
    digits = raw.rstrip("%％").strip()
    if not digits.isdigit() or int(digits) > 100:
        return None, "应为 0 到 100 之间的整数（百分比），例如 35"
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


# 承诺事项: one per line, the due date first (2026-10-10 完成修复; 2026年10月10日 完成修复; 2026/10/10：完成修复)
_COMMITMENT_LINE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?[\s:：、，,]*(.*)$")
COMMITMENT_TEXT_CHARS = 500


def _commitments(spec_field: FieldSpec, raw: str, ctx: FormContext) -> tuple[Any, str | None]:
    found: list[Commitment] = []
    for n, line in enumerate(raw.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = _COMMITMENT_LINE.match(line)
        if match is None:
            return None, f"第{n}行「{line[:20]}」应以完成日期开头，例如：2026-10-10 完成塌陷路段修复"
        year, month, day, text = match.groups()
        try:
            due = date(int(year), int(month), int(day))
        except ValueError:
            return None, f"第{n}行的日期 {year}-{month}-{day} 不是有效日期"
        if not text.strip():
            return None, f"第{n}行只有日期，请在日期后写明承诺事项"
        if len(text.strip()) > COMMITMENT_TEXT_CHARS:
            return None, f"第{n}行的承诺事项不能超过 {COMMITMENT_TEXT_CHARS} 个字符"
        found.append(Commitment(text.strip(), due))
    return (tuple(found) or None), None


_CLEANERS = {
    "choice": _choice,
    "int": _int,
    "percent": _percent,
    "url": _url,
    "datetime": _datetime,
    "commitments": _commitments,
}


def _document(raw: Any, ctx: FormContext) -> tuple[Any, str | None]:
    if hasattr(raw, "file"):
        data = raw.file.read(ctx.max_document_bytes + 1)
        raw = UploadedDocument(str(raw.filename or "document"), str(raw.content_type or ""), data)
    if not isinstance(raw, UploadedDocument):
        return None, "应为上传的文件（multipart/form-data 的文件字段），不能是文本；文号等说明请写在「内容摘要」中"
    if not raw.data:
        return None, "是空文件"
    if len(raw.data) > ctx.max_document_bytes:
        return None, f"超过 {ctx.max_document_bytes / 1024 / 1024:g} MiB 的上限，请压缩或改为提供发布链接"
    if sniff(raw.filename, raw.data) is None:
        return None, f"不是可接受的文件类型：只接受 {ACCEPTED_TEXT}"
    return raw, None


def _cross_checks(spec: ActionSpec, values: dict[str, Any], ctx: FormContext, errors: dict[str, str]) -> None:
    if spec.command == "RecordResponse" and not values.get("url") and not values.get("document"):
        errors["url"] = "「回应链接」与「回应文件」至少提供一项：回应须有证据"
    regrade_fields = ("event_level", "opinion_level", "event_type", "requires_response")
    if spec.command == "Regrade" and not any(values.get(k) for k in regrade_fields):
        errors["event_level"] = "「突发事件级别」「舆情级别」「事件类别」与「是否需要回应」至少选择一项"
    if spec.command == "Merge" and values.get("into_id") == ctx.incident_id:
        errors["into_id"] = "「目标事件编号」不能是本事件"
    if spec.command == "Split" and len(values.get("item_ids") or ()) >= len(ctx.items):
        errors["item_ids"] = "「要拆出的稿件」不能是全部稿件，至少保留一条在本事件中"

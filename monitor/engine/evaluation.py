"""效果评估 and 归档 handlers (no I/O): validate against the incident, say what to record.

Rules (README "效果评估与归档"):
- An evaluation needs a public response on the timeline, or a closed incident; an archived,
  dismissed or merged one is refused. Recording it moves 已回应/持续发布 to 已评估 (still open, to
  be closed); elsewhere the status stays. A second evaluation corrects the first.
- Only a closed incident can be archived, once a deadline that runs after closing (终报) is met; an
  archived one cannot be reopened or re-evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from monitor.domain import EventKind, IncidentEvent, IncidentStatus
from monitor.domain import commands as c
from monitor.domain.evaluation import Evaluation, Satisfaction, subside_rule, suggest_subsided
from monitor.engine.handlers import Change, CommandRejected, Ctx, _move
from monitor.engine.plan import fold
from monitor.engine.plan.derive import derive
from monitor.engine.plan.text import local_time

S = IncidentStatus
_TO_EVALUATED = frozenset({S.RESPONDED, S.FOLLOW_UP})
_NEVER = frozenset({S.ARCHIVED, S.DISMISSED, S.MERGED})


def first_response_at(timeline: list[IncidentEvent]) -> datetime | None:
    """The earliest publication of a recorded response (its `at` when the payload has none)."""
    found = []
    for e in timeline:
        if e.kind == EventKind.RESPONSE_RECORDED:
            try:
                found.append(datetime.fromisoformat(str(e.payload.get("published_at"))))
            except ValueError:
                found.append(e.at)
    return min(found) if found else None


def _check_evaluable(ctx: Ctx) -> None:
    status = ctx.incident.status
    if status == S.ARCHIVED:
        raise CommandRejected("事件已归档，效果评估不能再登记或更正。")
    if status in _NEVER:
        raise CommandRejected(f"事件当前状态为「{status.label}」，无需效果评估。")
    if status != S.CLOSED and first_response_at(ctx.timeline) is None:
        raise CommandRejected(
            f"事件当前状态为「{status.label}」，尚未登记公开回应：效果评估须在公开回应之后或办结之后进行。"
        )


def _check_share(value: int | None, what: str) -> None:
    if value is not None and not 0 <= value <= 100:
        raise CommandRejected(f"「{what}」应为 0 到 100 之间的整数（百分比），当前为 {value}。")


def _record_evaluation(ctx: Ctx, cmd: c.RecordEvaluation) -> Change:
    _check_evaluable(ctx)
    inc = ctx.incident
    if cmd.subsided_at > cmd.at:
        raise CommandRejected(f"平息时间 {local_time(cmd.subsided_at)} 晚于当前时间，请核对（按北京时间填写）。")
    if cmd.subsided_at < inc.detected_at:
        raise CommandRejected(
            f"平息时间 {local_time(cmd.subsided_at)} 早于本事件的发现时间 {local_time(inc.detected_at)}，请核对。"
        )
    _check_share(cmd.negative_before, "回应前负面占比")
    _check_share(cmd.negative_after, "回应后负面占比")
    suggestion = suggest_subsided(
        ctx.volume, first_response_at(ctx.timeline), cmd.at, subside_rule(ctx.services.settings)
    )
    evaluation = Evaluation(
        subsided_at=cmd.subsided_at,
        satisfaction=Satisfaction(cmd.satisfaction),
        negative_before=cmd.negative_before,
        negative_after=cmd.negative_after,
        notes=cmd.notes.strip(),
        peak_at=suggestion.peak_at if suggestion else None,
        peak_count=suggestion.peak_count if suggestion else None,
        suggested_subsided_at=suggestion.subsided_at if suggestion else None,
        basis=suggestion.basis if suggestion else "",
    )
    incident, moved = inc, list[IncidentEvent]()
    if inc.status in _TO_EVALUATED:
        incident, moved = _move(ctx, S.EVALUATED, cmd.at, "登记效果评估")
    again = any(e.kind == EventKind.EVALUATION_RECORDED for e in ctx.timeline)
    event = ctx.event(EventKind.EVALUATION_RECORDED, cmd, evaluation.to_payload())
    verb = "已更正效果评估（原评估保留在时间线上）" if again else "已登记效果评估"
    return Change(incident, [event, *moved], bump=False, message=verb)


def _check_nothing_due_after_closing(ctx: Ctx, at: datetime) -> None:
    """A deadline that runs after 办结 (终报) must be met first: an archived incident is no longer worked on."""
    planned, _ = derive(fold(ctx.incident, ctx.timeline), ctx.playbook, ctx.services.calendar, at)
    for p in planned:
        if p.rule.applies_if.closed and not p.obligation.status.is_final:
            raise CommandRejected(
                f"「{p.rule.title}」尚未履行（截止 {local_time(p.obligation.due_at)}）：归档后不再提醒，"
                "请先登记后再归档。"
            )


def _archive(ctx: Ctx, cmd: c.Archive) -> Change:
    status = ctx.incident.status
    if status == S.ARCHIVED:
        raise CommandRejected("事件已归档，无需再次归档。")
    if status != S.CLOSED:
        raise CommandRejected(f"事件当前状态为「{status.label}」：只有已办结的事件可以归档，请先办结。")
    _check_nothing_due_after_closing(ctx, cmd.at)
    incident, moved = _move(ctx, S.ARCHIVED, cmd.at, "归档")
    event = ctx.event(EventKind.ARCHIVED, cmd, {"reason": cmd.reason.strip()})
    evaluated = any(e.kind == EventKind.EVALUATION_RECORDED for e in ctx.timeline)
    note = "" if evaluated else "（尚无效果评估，月报中列为未评估）"
    return Change(incident, [event, *moved], bump=False, message=f"已归档{note}；事件不再出现在默认视图中")


EVALUATION_HANDLERS: dict[type, Callable[[Ctx, Any], Change]] = {
    c.RecordEvaluation: _record_evaluation,
    c.Archive: _archive,
}

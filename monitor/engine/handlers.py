"""Command handlers: validate a command against the incident and say what to record (no I/O).

Each handler takes the incident's context and the command and returns a `Change` (the updated
incident row, timeline events, corrections) or raises `CommandRejected` with a zh-CN message.
`monitor.engine.commands.execute` does the I/O around them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from monitor.domain import DomainError, EventKind, Incident, IncidentEvent, IncidentStatus, InvalidTransition
from monitor.domain import commands as c
from monitor.domain.commitments import COMMITMENT_RULE_ID, Commitment, ResponseChannel, commitments_of
from monitor.domain.enums import ReportKind, ResponseKind
from monitor.domain.incidents import TRANSITIONS
from monitor.domain.playbooks import Attach, Levels, Playbook
from monitor.domain.responsibility import requirement
from monitor.engine.plan import fold
from monitor.engine.plan.derive import derive, local_date
from monitor.engine.plan.text import local_time
from monitor.engine.runner import EngineServices

MAX_PAUSE = timedelta(days=30)


class CommandRejected(DomainError):
    """A command a person sent cannot be carried out; str() is a zh-CN message saying why and what to do."""


@dataclass
class Change:
    incident: Incident
    events: list[IncidentEvent] = field(default_factory=list)
    corrections: list[tuple[str, Any, Any]] = field(default_factory=list)
    bump: bool = True
    message: str = "已保存"


@dataclass(frozen=True)
class Ctx:
    incident: Incident
    timeline: list[IncidentEvent]
    playbook: Playbook
    services: EngineServices
    volume: tuple[datetime, ...] = ()  # the items' publication (else fetch) times: read for 效果评估 only

    def event(
        self, kind: EventKind, cmd: c.Command, payload: dict[str, Any], at: datetime | None = None
    ) -> IncidentEvent:
        return IncidentEvent(self.incident.id or 0, kind, at or cmd.at, cmd.actor, payload)


def _require(value: object, what: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CommandRejected(f"请填写{what}。")


def _move(ctx: Ctx, target: IncidentStatus, at: datetime, action: str) -> tuple[Incident, list[IncidentEvent]]:
    """Walk the state machine to `target` along the shortest allowed path (e.g. 处置中 → 已回应 → 办结)."""
    path = _path(ctx.incident.status, target)
    if path is None:
        raise CommandRejected(f"事件当前状态为「{ctx.incident.status.label}」，不能{action}。")
    incident = ctx.incident
    try:
        for step in path:
            incident = incident.transition(step, at)
    except InvalidTransition as exc:  # pragma: no cover - _path only yields allowed steps
        raise CommandRejected(f"不能{action}：{exc}") from exc
    payload = {"from": ctx.incident.status.value, "to": target.value, "path": [s.value for s in path]}
    return incident, [IncidentEvent(incident.id or 0, EventKind.STATUS_CHANGED, at, "system", payload)]


def _path(start: IncidentStatus, target: IncidentStatus) -> list[IncidentStatus] | None:
    seen = {start}
    queue: deque[tuple[IncidentStatus, list[IncidentStatus]]] = deque([(start, [])])
    while queue:
        state, path = queue.popleft()
        for nxt in sorted(TRANSITIONS[state], key=lambda s: s.value):
            if nxt == target:
                return [*path, nxt]
            if nxt not in seen and nxt.is_open:
                seen.add(nxt)
                queue.append((nxt, [*path, nxt]))
    return None


# Working stages before the first public response: recording one moves the incident forward to
# RESPONDED along the workflow (e.g. 研判定级 → 已交办 → 已回应). Unconfirmed incidents (DETECTED)
# and those already past RESPONDED stay where they are; the obligations count either way.
_BEFORE_RESPONSE = frozenset(
    {
        IncidentStatus.ASSESSED,
        IncidentStatus.REPORTED,
        IncidentStatus.ASSIGNED,
        IncidentStatus.HANDLING,
        IncidentStatus.REASSIGNED,
        IncidentStatus.ESCALATED,
        IncidentStatus.OVERDUE,
        IncidentStatus.SUPERVISED,
    }
)


def _try_move(ctx: Ctx, target: IncidentStatus, at: datetime) -> tuple[Incident, list[IncidentEvent]]:
    """Move forward to `target` when the incident is still before it; otherwise stay."""
    if ctx.incident.status in _BEFORE_RESPONSE and _path(ctx.incident.status, target) is not None:
        return _move(ctx, target, at, "")
    return ctx.incident, []


def _dismiss(ctx: Ctx, cmd: c.Dismiss) -> Change:
    _require(cmd.reason, "排除理由")
    incident, moved = _move(ctx, IncidentStatus.DISMISSED, cmd.at, "判定为非政务舆情")
    event = ctx.event(EventKind.DISMISSED, cmd, {"reason": cmd.reason})
    return Change(incident, [event, *moved], [("relevant", True, False)], message="已判定为非政务舆情，相关时限已取消")


def _merge(ctx: Ctx, cmd: c.Merge) -> Change:
    incident, moved = _move(ctx, IncidentStatus.MERGED, cmd.at, "合并")
    event = ctx.event(EventKind.MERGED, cmd, {"into_id": cmd.into_id})
    return Change(incident, [event, *moved], message=f"已并入事件 #{cmd.into_id}")


_GRADED = ("event_level", "opinion_level", "event_type")


def _regrade(ctx: Ctx, cmd: c.Regrade) -> Change:
    _require(cmd.reason, "调整级别的原因")
    inc = ctx.incident
    new = replace(
        inc,
        event_level=None if cmd.clear_event_level else (cmd.event_level or inc.event_level),
        opinion_level=cmd.opinion_level or inc.opinion_level,
        event_type=cmd.event_type or inc.event_type,
    )
    levels = (new.event_type, new.event_level, new.opinion_level)
    requires, why = requirement(inc.requires_response, cmd.requires_response, ctx.timeline, levels)
    new = replace(new, requires_response=requires)
    before = {f: _plain(getattr(inc, f)) for f in _GRADED}
    after = {f: _plain(getattr(new, f)) for f in _GRADED}
    clocks_change = (before["event_level"], before["opinion_level"], inc.requires_response) != (
        after["event_level"],
        after["opinion_level"],
        new.requires_response,
    )
    if not clocks_change and before == after:
        raise CommandRejected("级别没有变化，请选择新的级别或类别。")
    payload = {**after, "requires_response": new.requires_response, **why, "from": before, "reason": cmd.reason}
    new, moved = _continued_after_raise(ctx, new, cmd.at)
    return Change(
        new,
        [ctx.event(EventKind.REGRADED, cmd, payload), *moved],
        [(f, before[f], after[f]) for f in _GRADED if before[f] != after[f]],
        bump=clocks_change,
        message="已调整级别，时限已按原起算时间重算" if clocks_change else "已更正事件类别",
    )


def _set_occurred_at(ctx: Ctx, cmd: c.SetOccurredAt) -> Change:
    """登记/更正事发时间: rules timed from 事发时间 re-plan from it (a deadline already passed is breached)."""
    _require(cmd.occurred_at, "事发时间")
    _require(cmd.reason, "登记或更正事发时间的原因（如：据现场报告，事件发生于…）")
    inc, new = ctx.incident, cmd.occurred_at
    if not inc.is_open:
        raise CommandRejected(f"事件当前状态为「{inc.status.label}」，不能更改事发时间；如需更正，请先重新打开事件。")
    if new > cmd.at:
        raise CommandRejected(f"事发时间 {local_time(new)} 晚于当前时间，请核对（按北京时间填写）。")
    if new > inc.detected_at:
        raise CommandRejected(
            f"事发时间 {local_time(new)} 晚于本事件的发现时间 {local_time(inc.detected_at)}：事件须先发生才能被发现，"
            "请核对后填写不晚于发现时间的时刻；如稿件说的是另一起新发生的事件，请拆分出新事件。"
        )
    old = inc.occurred_at
    if old == new:
        raise CommandRejected(f"事发时间已是 {local_time(new)}，无需更改。")
    payload = {"from": old.isoformat() if old else None, "to": new.isoformat(), "reason": cmd.reason.strip()}
    verb = "已更正" if old else "已登记"
    return Change(
        replace(inc, occurred_at=new),
        [ctx.event(EventKind.OCCURRED_AT_SET, cmd, payload)],
        message=f"{verb}事发时间（{local_time(new)}），按事发时间起算的时限已重算",
    )


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


def _record_response(ctx: Ctx, cmd: c.RecordResponse) -> Change:
    if not (cmd.url or cmd.document):
        raise CommandRejected("登记回应须提供证据：发布网址或文件（文号/附件名）。")
    _require(cmd.approved_by, "审核/签发人")
    published = cmd.published_at or cmd.at
    if published > ctx.services.clock.now() + timedelta(minutes=5):
        raise CommandRejected("发布时间不能晚于当前时间，请核对。")
    kind = ResponseKind(cmd.kind)
    payload = {
        "kind": kind.value,
        "url": cmd.url,
        "document": cmd.document,
        "approved_by": cmd.approved_by,
        "published_at": published.isoformat(),
        "summary": cmd.summary,
        **response_details(cmd, published, ctx.timeline),
    }
    target = IncidentStatus.FOLLOW_UP if _releases_continue(ctx, kind) else IncidentStatus.RESPONDED
    incident, moved = _try_move(ctx, target, cmd.at)
    event = ctx.event(EventKind.RESPONSE_RECORDED, cmd, payload)
    made = len(payload.get("commitments", ()))
    extra = f"，{made} 项承诺事项已列入承诺台账并按期提醒" if made else ""
    return Change(incident, [event, *moved], message=f"已登记{kind.label}{extra}")


MAX_COMMITMENTS = 20  # per response
SPOKESPERSON_CHARS = 100
COMMITMENT_CHARS = 500


def response_details(cmd: c.RecordResponse, published: datetime, timeline: list[IncidentEvent]) -> dict[str, Any]:
    """发布人、发布渠道 and 承诺事项 of a response (DOMAIN.md §4.4), checked; the payload keys they add."""
    spokesperson = (cmd.spokesperson or "").strip()
    if len(spokesperson) > SPOKESPERSON_CHARS:
        raise CommandRejected(f"发布人不能超过 {SPOKESPERSON_CHARS} 个字符。")
    details: dict[str, Any] = {"spokesperson": spokesperson} if spokesperson else {}
    if cmd.channel:
        try:
            details["channel"] = ResponseChannel(cmd.channel).value
        except ValueError:
            known = "、".join(ch.label for ch in ResponseChannel)
            raise CommandRejected(f"发布渠道「{cmd.channel}」不在可选范围内，请从以下选择：{known}。") from None
    if cmd.commitments:
        details["commitments"] = _commitments(cmd.commitments, published, len(commitments_of(timeline)))
    return details


def _commitments(items: tuple[Commitment, ...], published: datetime, before: int) -> list[dict[str, str]]:
    if len(items) > MAX_COMMITMENTS:
        raise CommandRejected(f"一次回应最多登记 {MAX_COMMITMENTS} 项承诺事项，请分次登记。")
    day = local_date(published)
    out = []
    for n, item in enumerate(items, start=before + 1):
        text = item.text.strip()
        if not text:
            raise CommandRejected(f"承诺 #{n} 缺少承诺事项内容。")
        if len(text) > COMMITMENT_CHARS:
            raise CommandRejected(f"承诺 #{n} 的内容不能超过 {COMMITMENT_CHARS} 个字符。")
        if item.due < day:
            raise CommandRejected(
                f"承诺 #{n}「{text[:20]}」的完成日期 {item.due.isoformat()} "
                f"早于本次回应的发布日期 {day.isoformat()}，请核对。"
            )
        out.append(Commitment(text, item.due).to_payload())
    return out


def _releases_continue(ctx: Ctx, kind: ResponseKind, levels: Levels | None = None) -> bool:
    """持续发布 (FOLLOW_UP): a 特别重大/重大 incident whose first response starts a recurring release rule
    (GB61-CONTINUOUS: "根据工作进展情况，持续发布权威信息"); other incidents stay 已回应."""
    levels = levels or fold(ctx.incident, ctx.timeline).current_levels()
    if levels.event_level is None or not levels.event_level.is_major:
        return False
    return any(
        rule.recurring and rule.action == "follow_up_release" and kind.value in rule.starts_after
        and rule.applies_if.matches(levels)
        for rule in ctx.playbook.rules
    )  # fmt: skip


def _continued_after_raise(ctx: Ctx, new: Incident, at: datetime) -> tuple[Incident, list[IncidentEvent]]:
    """A 已回应 incident raised to 特别重大/重大 goes on to 持续发布, as if it had been graded so when it responded."""
    if ctx.incident.status != IncidentStatus.RESPONDED:
        return new, []
    levels = Levels(new.event_level, new.opinion_level, new.requires_response)
    recorded = {str(e.payload.get("kind")) for e in ctx.timeline if e.kind == EventKind.RESPONSE_RECORDED}
    kinds = [ResponseKind(k) for k in recorded if k in ResponseKind.__members__.values()]
    if not any(_releases_continue(ctx, kind, levels) for kind in kinds):
        return new, []
    moved = new.transition(IncidentStatus.FOLLOW_UP, at)
    payload = {"from": new.status.value, "to": moved.status.value, "path": [IncidentStatus.FOLLOW_UP.value]}
    return moved, [IncidentEvent(new.id or 0, EventKind.STATUS_CHANGED, at, "system", payload)]


def _record_report(ctx: Ctx, cmd: c.RecordReport) -> Change:
    if cmd.channel not in c.ReportChannel.ALL:
        raise CommandRejected("报告方式须为电话（phone）或书面（written）。")
    _require(cmd.signer, "签发人")
    kind = ReportKind(cmd.report_kind)
    reported = cmd.reported_at or cmd.at
    payload = {
        "report_kind": kind.value,
        "channel": cmd.channel,
        "signer": cmd.signer,
        "reported_at": reported.isoformat(),
    }
    return Change(ctx.incident, [ctx.event(EventKind.REPORT_RECORDED, cmd, payload)], message="已登记报告")


def _known_rule(ctx: Ctx, rule_id: str) -> None:
    if ctx.playbook.rule(rule_id) is None:
        known = "、".join(r.id for r in ctx.playbook.rules)
        raise CommandRejected(f"没有规则 {rule_id}。可选：{known}")


def _instance(ctx: Ctx, rule_id: str, instance: int | None, at: datetime, *, one: bool = False) -> int | None:
    """The obligation of a rule with several (承诺 #n) a command addresses: checked when given; with
    `one` and none given, the commitment rule's only open one (several open: refused, naming them)."""
    if instance is None and not (one and rule_id == COMMITMENT_RULE_ID):
        return None
    planned, _ = derive(fold(ctx.incident, ctx.timeline), ctx.playbook, ctx.services.calendar, at)
    mine = [p for p in planned if p.rule.id == rule_id]
    known = "、".join(f"#{p.obligation.instance}" for p in mine if instance is not None or p.live)
    if instance is not None and all(p.obligation.instance != instance for p in mine):
        raise CommandRejected(f"本事件没有时限要求 {rule_id} #{instance}（现有：{known or '无'}），请从列表中选择。")
    live = [p.obligation.instance for p in mine if p.live]
    if instance is None and len(live) > 1:
        raise CommandRejected(f"本事件有多项承诺待兑现（{known}），请选择其中一项：暂停只顺延所选承诺的期限。")
    return instance if instance is not None else (live[0] if live else None)


def _acknowledge(ctx: Ctx, cmd: c.Acknowledge) -> Change:
    payload: dict[str, Any] = {"rule": cmd.rule_id}
    if cmd.rule_id is not None:
        _known_rule(ctx, cmd.rule_id)
        if (instance := _instance(ctx, cmd.rule_id, cmd.instance, cmd.at)) is not None:
            payload["instance"] = instance
    elif cmd.instance is not None:
        raise CommandRejected("指明第几项时须同时指明时限要求（rule_id）。")
    return Change(ctx.incident, [ctx.event(EventKind.ACKNOWLEDGED, cmd, payload)], message="已确认收到提醒")


def _request_pause(ctx: Ctx, cmd: c.RequestPause) -> Change:
    _known_rule(ctx, cmd.rule_id)
    _require(cmd.reason, "暂停理由")
    if not cmd.at < cmd.until <= cmd.at + MAX_PAUSE:
        raise CommandRejected(f"暂停截止时间须晚于现在，且不超过{MAX_PAUSE.days}天。")
    payload: dict[str, Any] = {"rule": cmd.rule_id, "until": cmd.until.isoformat(), "reason": cmd.reason}
    if (instance := _instance(ctx, cmd.rule_id, cmd.instance, cmd.at, one=True)) is not None:
        payload["instance"] = instance
    return Change(
        ctx.incident,
        [ctx.event(EventKind.PAUSE_REQUESTED, cmd, payload)],
        bump=False,
        message="已提交暂停申请，待另一人批准",
    )


def _pause_request(ctx: Ctx, seq: int) -> IncidentEvent:
    request = next((e for e in ctx.timeline if e.seq == seq and e.kind == EventKind.PAUSE_REQUESTED), None)
    if request is None:
        raise CommandRejected(f"找不到暂停申请（序号 {seq}）。")
    decided = {EventKind.PAUSE_APPROVED, EventKind.PAUSE_REJECTED}
    if any(e.kind in decided and e.payload.get("request_seq") == seq for e in ctx.timeline):
        raise CommandRejected("该暂停申请已处理过。")
    return request


def _approve_pause(ctx: Ctx, cmd: c.ApprovePause) -> Change:
    request = _pause_request(ctx, cmd.request_seq)
    if request.actor == cmd.actor:
        raise CommandRejected(f"暂停须由申请人以外的另一人批准（申请人：{request.actor}）。")
    until = datetime.fromisoformat(request.payload["until"])
    if until <= cmd.at:
        raise CommandRejected("申请的暂停截止时间已过，请重新申请。")
    payload = {
        **request.payload,
        "request_seq": cmd.request_seq,
        "requested_by": request.actor,
        "approved_by": cmd.actor,
    }
    return Change(ctx.incident, [ctx.event(EventKind.PAUSE_APPROVED, cmd, payload)], message="已批准暂停，期限相应顺延")


def _reject_pause(ctx: Ctx, cmd: c.RejectPause) -> Change:
    _pause_request(ctx, cmd.request_seq)
    _require(cmd.reason, "驳回理由")
    payload = {"request_seq": cmd.request_seq, "reason": cmd.reason}
    return Change(
        ctx.incident, [ctx.event(EventKind.PAUSE_REJECTED, cmd, payload)], bump=False, message="已驳回暂停申请"
    )


def _attach_rule(ctx: Ctx, cmd: c.AttachRule) -> Change:
    _known_rule(ctx, cmd.rule_id)
    rule = ctx.playbook.rule(cmd.rule_id)
    assert rule is not None
    if rule.attach != Attach.MANUAL:
        raise CommandRejected(f"规则 {rule.id} 按级别自动适用，无需手工附加。")
    if any(e.kind == EventKind.RULE_ATTACHED and e.payload.get("rule") == rule.id for e in ctx.timeline):
        raise CommandRejected(f"规则 {rule.id} 已附加。")
    t0 = cmd.t0 or ctx.incident.detected_at
    if t0 > cmd.at:  # a deadline counts from something that has happened (DESIGN.md §3 clocks)
        raise CommandRejected(f"起算时间 {local_time(t0)} 晚于当前时间，不能从将来起算：请填写来信/留言或受理的时间。")
    payload = {"rule": rule.id, "t0": t0.isoformat(), "reason": cmd.reason}
    return Change(ctx.incident, [ctx.event(EventKind.RULE_ATTACHED, cmd, payload)], message=f"已附加：{rule.title}")


def _extend(ctx: Ctx, cmd: c.ExtendDeadline) -> Change:
    _known_rule(ctx, cmd.rule_id)
    rule = ctx.playbook.rule(cmd.rule_id)
    assert rule is not None
    if rule.extension_limit is None:
        raise CommandRejected(f"规则 {rule.id} 不允许延期。")
    _require(cmd.reason, "延期理由")
    _require(cmd.approved_by, "批准人")
    if any(e.kind == EventKind.DEADLINE_EXTENDED and e.payload.get("rule") == rule.id for e in ctx.timeline):
        raise CommandRejected(f"规则 {rule.id} 已延期过一次。")
    planned, _ = derive(fold(ctx.incident, ctx.timeline), ctx.playbook, ctx.services.calendar, cmd.at)
    instance = _instance(ctx, rule.id, cmd.instance, cmd.at)
    current = next((p.obligation for p in planned if p.key[0] == rule.id and instance in (None, p.key[1])), None)
    if current is None:
        raise CommandRejected(f"规则 {rule.id} 尚未附加到本事件或当前不适用，无需延期；如需要请先附加该规则。")
    if current.due_at <= cmd.at:  # 条例第33条: decided, and the applicant told, within the time limit
        raise CommandRejected(
            f"「{rule.title}」已于 {local_time(current.due_at)} 届满，不能再延期：延期须在期限届满前批准并告知申请人。"
        )
    payload = {"rule": rule.id, "reason": cmd.reason, "approved_by": cmd.approved_by, "limit": rule.extension_limit}
    if instance is not None:
        payload["instance"] = instance
    return Change(ctx.incident, [ctx.event(EventKind.DEADLINE_EXTENDED, cmd, payload)], message="已延期")


def _add_note(ctx: Ctx, cmd: c.AddNote) -> Change:
    _require(cmd.text, "备注内容")
    return Change(
        ctx.incident, [ctx.event(EventKind.NOTE_ADDED, cmd, {"text": cmd.text})], bump=False, message="已添加备注"
    )


def _close(ctx: Ctx, cmd: c.Close) -> Change:
    incident, moved = _move(ctx, IncidentStatus.CLOSED, cmd.at, "办结")
    event = ctx.event(EventKind.CLOSED, cmd, {"reason": cmd.reason})
    return Change(incident, [event, *moved], message="已办结；未到期的时限已取消，已超期的保留记录")


_REOPENABLE = frozenset({IncidentStatus.CLOSED, IncidentStatus.DISMISSED})


def _reopen(ctx: Ctx, cmd: c.Reopen) -> Change:
    status = ctx.incident.status
    if status not in _REOPENABLE:
        why = "尚未办结或排除，无需重新打开" if status.is_open else "不能重新打开"
        if status == IncidentStatus.ARCHIVED:
            why = "归档后不能重新打开（如舆情再起，请按新事件处置并在备注中引用本事件编号）"
        raise CommandRejected(f"事件当前状态为「{status.label}」，{why}；只有已办结或不予处置的事件可以重新打开。")
    _require(cmd.reason, "重新打开的理由")
    target = IncidentStatus.DETECTED if ctx.incident.status == IncidentStatus.DISMISSED else IncidentStatus.HANDLING
    incident, moved = _move(ctx, target, cmd.at, "重新打开")
    return Change(incident, [ctx.event(EventKind.REOPENED, cmd, {"reason": cmd.reason}), *moved], message="已重新打开")


# 改派 / 认领 / 退回: monitor.engine.assign.ASSIGNMENT_HANDLERS
HANDLERS: dict[type, Callable[[Ctx, Any], Change]] = {
    c.Dismiss: _dismiss,
    c.Merge: _merge,
    c.Regrade: _regrade,
    c.SetOccurredAt: _set_occurred_at,
    c.RecordResponse: _record_response,
    c.RecordReport: _record_report,
    c.Acknowledge: _acknowledge,
    c.RequestPause: _request_pause,
    c.ApprovePause: _approve_pause,
    c.RejectPause: _reject_pause,
    c.AttachRule: _attach_rule,
    c.ExtendDeadline: _extend,
    c.AddNote: _add_note,
    c.Close: _close,
    c.Reopen: _reopen,
}

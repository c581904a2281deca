"""Merge and Split: the commands that move items between incidents.

The pure decisions are `monitor.domain.clustering.plan_merge` / `plan_split`; this module applies
them inside the command's transaction (items moved, both incidents saved, timeline events, spread
statistics refreshed) and says which incidents the engine must re-plan.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from monitor.domain import EventKind, EventLevel, Incident, IncidentEvent, IncidentStatus, OpinionLevel
from monitor.domain import commands as c
from monitor.domain.clustering import plan_merge, plan_split
from monitor.engine.handlers import HANDLERS, CommandRejected, Ctx
from monitor.engine.runner import Engine
from monitor.storage.repo.clusters import incident_item_ids, item_classes, move_items, refresh_incident_stats
from monitor.storage.repo.engine import Connection
from monitor.storage.repo.incidents import append_events, create_incidents, get_incident, save_incident

Applied = tuple[list[IncidentEvent], str, list[int]]  # events written, zh-CN message, incidents to re-plan


async def apply_merge(conn: Connection, ctx: Ctx, cmd: c.Merge, now: datetime) -> Applied:
    """Close `ctx.incident` as merged, move its items to `cmd.into_id`, and grow the target."""
    source_id = ctx.incident.id or 0
    target = await get_incident(conn, cmd.into_id)
    if target is None or cmd.into_id == source_id:
        raise CommandRejected(f"目标事件 #{cmd.into_id} 不存在或就是本事件，请选择另一个事件。")
    if not target.is_open:
        raise CommandRejected(f"目标事件 #{cmd.into_id} 当前状态为「{target.status.label}」，不能并入。")
    plan = plan_merge(ctx.incident, target, cmd.at, cmd.actor, reason=f"由 {cmd.actor} 合并")
    closed = HANDLERS[c.Merge](ctx, cmd)  # walks the state machine and cancels the source's clocks
    await move_items(conn, source_id, cmd.into_id, None, {"rule": "merge", "from": source_id, "by": cmd.actor}, now)
    await save_incident(conn, replace(closed.incident, generation=closed.incident.generation + 1), now)
    grown = plan.target  # keeps the earlier first publication, event time and detection time
    await save_incident(conn, grown, now)
    events = [*closed.events, *plan.events[1:], *_carried_over(ctx.timeline, cmd.into_id)]
    if plan.regrade is not None:
        events.append(await _raise_target(conn, ctx, grown, plan.regrade, cmd, now))
    await append_events(conn, events, now, return_ids=False)
    await refresh_incident_stats(conn, [source_id, cmd.into_id], now)
    return events, f"已并入事件 #{cmd.into_id}，稿件已移入该事件", [cmd.into_id]


_CARRIED = (EventKind.RESPONSE_RECORDED, EventKind.REPORT_RECORDED, EventKind.COMMITMENT_FULFILLED)


def _carried_over(timeline: list[IncidentEvent], into_id: int) -> list[IncidentEvent]:
    """The responses and reports already made for the merged incident count for the one it joins."""
    return [
        IncidentEvent(into_id, e.kind, e.at, e.actor, {**e.payload, "merged_from": e.incident_id})
        for e in timeline
        if e.kind in _CARRIED
    ]


async def _raise_target(
    conn: Connection,
    ctx: Ctx,
    target: Incident,
    levels: tuple[EventLevel | None, OpinionLevel | None],
    cmd: c.Merge,
    now: datetime,
) -> IncidentEvent:
    """The merged-in incident was graver: regrade the target to the higher level (original t0)."""
    event_level, opinion_level = levels
    regrade = c.Regrade(
        incident_id=cmd.into_id,
        actor=cmd.actor,
        at=cmd.at,
        reason=f"并入事件 #{ctx.incident.id}，取两者中较高的级别",
        event_level=event_level,
        opinion_level=opinion_level,
    )
    change = HANDLERS[c.Regrade](replace(ctx, incident=target), regrade)
    await save_incident(conn, replace(change.incident, generation=change.incident.generation + 1), now)
    return change.events[0]


async def apply_split(conn: Connection, engine: Engine, ctx: Ctx, cmd: c.Split, now: datetime) -> Applied:
    """Move `cmd.item_ids` off the incident into a new one that keeps the original detection time."""
    parent_id = ctx.incident.id or 0
    present = await incident_item_ids(conn, parent_id)
    _check_split(cmd, present, parent_id)
    moved = await item_classes(conn, cmd.item_ids)  # the split-off event is theirs: its type and place
    plan = plan_split(ctx.incident, cmd.item_ids, present, cmd.title, cmd.at, cmd.actor, moved)
    (child_id,) = await create_incidents(conn, [plan.child], now, actor=cmd.actor)
    reason = {"rule": "split", "from": parent_id, "by": cmd.actor}
    await move_items(conn, parent_id, child_id, plan.item_ids, reason, now)
    await save_incident(conn, plan.parent, now)
    basis = IncidentEvent(child_id, EventKind.CLASSIFIED, cmd.at, cmd.actor, plan.child_basis)
    await append_events(conn, [plan.parent_event, basis], now, return_ids=False)
    await refresh_incident_stats(conn, [parent_id, child_id], now)
    events = [plan.parent_event, basis]
    if ctx.incident.status != IncidentStatus.DETECTED:  # already assessed: the split-off event is too
        child = await get_incident(conn, child_id)
        assert child is not None
        events += await engine.confirm(conn, child, cmd.at, cmd.actor, f"拆分自事件 #{parent_id}")
    return events, f"已拆分出新事件 #{child_id}（时限按原发现时间起算）", [child_id]


def _check_split(cmd: c.Split, present: list[int], parent_id: int) -> None:
    if not cmd.title.strip():
        raise CommandRejected("请填写新事件的标题。")
    moving = set(cmd.item_ids)
    if not moving:
        raise CommandRejected("请至少选择一篇要拆分出去的稿件。")
    stray = sorted(moving - set(present))
    if stray:
        raise CommandRejected(f"稿件 {', '.join(map(str, stray))} 不属于事件 #{parent_id}，请刷新后重新选择。")
    if len(moving) >= len(present):
        raise CommandRejected("不能把全部稿件都拆分出去；请至少保留一篇，或改用合并/排除。")

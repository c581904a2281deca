"""A person's corrections of the classifier's incident decision, from the item side.

The classifier's incident decision is right about nine times in ten; the other time a duty officer
opens an incident from an item the pipeline did not turn into one (从稿件手动立案,
`monitor.engine.open_item`) or adds it to an existing incident (并入已有事件, `apply_attach`, run by
`execute` for `AttachItem`). Both refuse an item already in an incident — an item is in one incident
at most — and store the item's "relevant" verdict (and any field the person chose differently) as a
correction of that item, which `monitor retrain` learns from.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from monitor.domain import EventKind, EventType, Incident, IncidentEvent, IncidentStatus, OrgDirectory
from monitor.domain import commands as c
from monitor.domain.clustering import new_incident
from monitor.domain.responsibility import opening_units, response_need
from monitor.engine.handlers import CommandRejected, Ctx
from monitor.engine.plan.text import local_time
from monitor.storage.repo.clusters import add_co_units, attach, refresh_incident_stats
from monitor.storage.repo.engine import Connection
from monitor.storage.repo.incidents import append_events
from monitor.storage.repo.manual import ItemMembership, add_item_corrections, item_for_update

Applied = tuple[list[IncidentEvent], str, list[int]]  # as monitor.engine.regroup.Applied
MANUAL_RULE = "manual"  # incident_items.reason["rule"] of an item a person attached


def require_reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise CommandRejected(f"请填写{what}：说明依据（如：涉及公众切身利益、群众集中反映）。")
    return text


async def free_item(conn: Connection, item_id: int) -> Any:
    """The item row, locked for this transaction, when it is in no incident; else a zh-CN refusal."""
    found = await item_for_update(conn, item_id)
    if found is None:
        raise CommandRejected(f"稿件 #{item_id} 不存在，请刷新稿件列表后重试。")
    row, membership = found
    if membership is not None:
        raise CommandRejected(_taken(item_id, membership))
    return row


def _taken(item_id: int, membership: ItemMembership) -> str:
    status = IncidentStatus(membership.status)
    where = f"稿件 #{item_id} 已在事件 #{membership.incident_id}（{status.label}）中"
    if status.is_open:
        return f"{where}，不能再立案或并入其他事件；如归并有误，请在该事件页拆分或合并。"
    return f"{where}，一篇稿件只能属于一个事件；如需重新处置，请在该事件页「重新打开」。"


def attached_event(row: Any, incident_id: int, cmd: c.AttachItem | c.OpenFromItem, reason: str) -> IncidentEvent:
    """The ITEM_ATTACHED timeline event of an item a person attached (who, and why)."""
    payload = {
        "item_id": row.id,
        "title": row.title,
        "url": row.url,
        "media_tier": row.media_tier,
        "event_level": row.event_level,
        "opinion_level": row.opinion_level,
        "reason": manual_reason(cmd, reason),
    }
    return IncidentEvent(incident_id, EventKind.ITEM_ATTACHED, cmd.at, cmd.actor, payload)


def relevance_correction(row: Any) -> list[tuple[str, Any, Any]]:
    """The item belongs to an incident: a 'relevant' correction unless the classifier said so already."""
    return [] if row.relevant is True else [("relevant", row.relevant, True)]


async def apply_attach(conn: Connection, ctx: Ctx, cmd: c.AttachItem, now: datetime) -> Applied:
    """并入已有事件: attach the item to the (open) incident, add the co-units it brings, refresh spread."""
    reason = require_reason(cmd.reason, "并入理由")
    inc = ctx.incident
    if not inc.is_open:
        raise CommandRejected(
            f"事件 #{inc.id} 当前状态为「{inc.status.label}」，不能并入稿件；如需继续处置，请先重新打开。"
        )
    row = await free_item(conn, cmd.item_id)
    iid = inc.id or 0
    await attach(
        conn, [{"incident_id": iid, "item_id": row.id, "attached_at": now, "reason": manual_reason(cmd, reason)}]
    )
    units = opening_units(row.department, row.classification)
    added = await add_co_units(conn, {iid: (list(units.co_units), units.multi_region)}, now)
    event = attached_event(row, iid, cmd, reason)
    if added.get(iid):
        event = replace(event, payload={**event.payload, "co_units_added": added[iid]})
    await append_events(conn, [event], now, return_ids=False)
    await refresh_incident_stats(conn, [iid], now)
    fixes = [(row.id, iid, f, old, new, cmd.actor, cmd.at) for f, old, new in relevance_correction(row)]
    await add_item_corrections(conn, fixes)
    return [event], f"已将稿件 #{row.id} 并入事件 #{iid}；时限已按该事件重新核算", []


def manual_reason(cmd: c.AttachItem | c.OpenFromItem, reason: str) -> dict[str, Any]:
    """incident_items.reason (and the timeline's 归并依据) of an item a person attached."""
    return {"rule": MANUAL_RULE, "by": cmd.actor, "reason": reason}


def check_choices(cmd: c.OpenFromItem, org: OrgDirectory, detected_at: datetime) -> None:
    """The person's choices name known units, and 事发时间 is not after the item's detection."""
    if cmd.region is not None:
        unit = org.units.get(cmd.region)
        if unit is None or not unit.kind.is_locality:
            raise CommandRejected(f"「{cmd.region}」不是通讯录中的镇（街道），请从属地列表中选择。")
    if cmd.owner_unit is not None and cmd.owner_unit not in org.units:
        raise CommandRejected(f"通讯录中没有单位「{cmd.owner_unit}」，请从单位列表中选择。")
    if cmd.occurred_at is not None and cmd.occurred_at > min(cmd.at, detected_at):
        raise CommandRejected(
            f"事发时间 {local_time(cmd.occurred_at)} 晚于稿件的发现时间 {local_time(detected_at)}："
            "事件须先发生才能被发现，请核对后填写不晚于发现时间的时刻（北京时间）。"
        )


def opened_incident(row: Any, cmd: c.OpenFromItem) -> Incident:
    """The incident a person opens from the item: the classifier's outputs, with the person's choices
    over them; detected when the item was (t0 of the opinion clocks, as for a pipeline-opened one).
    The classifier's 非政务 becomes 其他政务 unless the person names the category."""
    incident = new_incident(row, row.fetched_at)
    if incident.event_type == EventType.NOT_GOV:  # a person judged it a 政务舆情: 其他政务 unless they say which
        incident = replace(incident, event_type=EventType.OTHER_GOV)
    event_level = None if cmd.clear_event_level else (cmd.event_level or incident.event_level)
    chosen = replace(
        incident,
        title=(cmd.title or "").strip() or incident.title,
        event_type=cmd.event_type or incident.event_type,
        event_level=event_level,
        opinion_level=cmd.opinion_level or incident.opinion_level,
        region=cmd.region or incident.region,
        occurred_at=cmd.occurred_at,
    )
    if cmd.owner_unit is not None and cmd.owner_unit != incident.owner_unit:
        co_units = tuple(u for u in (incident.owner_unit, *incident.co_units) if u and u != cmd.owner_unit)
        chosen = replace(chosen, owner_unit=cmd.owner_unit, lead_unit=cmd.owner_unit, co_units=co_units)
    need = response_need(chosen.event_type, chosen.event_level, chosen.opinion_level)
    return replace(chosen, requires_response=need.required if need else True)


def opening_corrections(row: Any, incident: Incident) -> list[tuple[str, Any, Any]]:
    """What the person corrected of the classifier's output for this item: relevance, and each field
    they chose differently (retraining learns relevance, event type and department; the others are
    rules, counted and reported)."""
    chosen = {
        "event_type": incident.event_type and incident.event_type.value,
        "event_level": incident.event_level and incident.event_level.value,
        "opinion_level": incident.opinion_level and incident.opinion_level.value,
        "department": incident.owner_unit,
        "region": incident.region,
    }
    fixes = [(f, getattr(row, f), new) for f, new in chosen.items() if new != getattr(row, f)]
    return relevance_correction(row) + fixes

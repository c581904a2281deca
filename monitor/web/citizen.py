"""The incident page's 市民来信/12345 prompt: attach the 7 or 15 working-day rule in one click,
counted from the message's own time, or dismiss the prompt with a reason (monitor.domain.citizen)."""

from __future__ import annotations

from typing import Any

from monitor.clock import to_local
from monitor.domain import Incident, IncidentEvent
from monitor.domain.citizen import (
    CITIZEN_RULES,
    PROMPT_TEXT,
    CitizenMessage,
    citizen_prompt,
    is_citizen_media,
    received_at,
)
from monitor.domain.enums import MediaType
from monitor.storage.repo.incident_detail import IncidentItem
from monitor.web.actions.forms import FormResult
from monitor.web.actions.specs import BY_COMMAND
from monitor.web.auth.permissions import CurrentUser
from monitor.web.services import WebServices

DISMISS = BY_COMMAND["DismissCitizenPrompt"]
ATTACH = BY_COMMAND["AttachRule"]


def citizen_messages(incident: Incident, items: list[IncidentItem]) -> list[CitizenMessage]:
    """The incident's 12345/信箱 items; an imported 信箱 ledger row (no items) counts as one message."""
    found = [
        CitizenMessage(i.id, MediaType(i.media_type or ""), received_at(i.published_at, i.fetched_at), i.title)
        for i in items
        if is_citizen_media(i.media_type)
    ]
    if not items and is_citizen_media(incident.media_type) and incident.media_type is not None:
        t0 = received_at(incident.first_published_at, incident.detected_at)
        found.append(CitizenMessage(None, MediaType(incident.media_type), t0, incident.title))
    return found


def pending_message(
    incident: Incident, items: list[IncidentItem], events: list[IncidentEvent]
) -> CitizenMessage | None:
    return citizen_prompt(incident.status.is_open, citizen_messages(incident, items), events)


def prompt_context(
    svc: WebServices,
    user: CurrentUser,
    incident: Incident,
    items: list[IncidentItem],
    events: list[IncidentEvent],
    failed: FormResult | None,
) -> dict[str, Any] | None:
    """What the prompt shows, or None when the incident needs none (or the user may not act)."""
    message = pending_message(incident, items, events)
    if message is None or not user.can(ATTACH.permission):
        return None
    where = f"稿件 #{message.item_id}" if message.item_id is not None else "导入台账"
    when = f"{to_local(message.received_at):%Y-%m-%d %H:%M}"
    reason = f"{message.media_type.label}来信「{message.title[:60]}」（{where}，来信时间 {when}）"
    choices = [
        {"rule": rule, "t0": message.received_at.isoformat(), "reason": reason}
        for rule in (svc.playbook.rule(rid) for rid in CITIZEN_RULES)
        if rule is not None
    ]
    return {
        "text": PROMPT_TEXT,
        "message": message,
        "when": when,
        "where": where,
        "choices": choices,
        "dismiss": DISMISS,
        "dismiss_raw": failed.raw if failed else {},
        "dismiss_errors": failed.errors if failed else {},
    }

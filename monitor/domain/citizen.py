"""市民来信 / 12345 答复时限: when an incident needs a person to choose one (pure).

A message from a 12345 hotline or a 信箱 (领导信箱, 留言板) is answered under the 2014 rules
(DOMAIN.md §2, last row): 意见建议 within 7 working days (may be extended to 15), 咨询投诉、
反映问题 within 15. Which one applies depends on what the message says, so the playbook ships
them as manual rules and a person attaches one. Until one of them is attached, or a person
dismisses the prompt with a reason, the incident page asks and the duty queue marks it.

The deadline counts from the message's publication (留言/受理) time: its published_at, but never
later than when it was collected (a feed cannot publish after we read it), else when collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.domain.enums import MediaType
from monitor.domain.events import EventKind, IncidentEvent

SUGGESTION_RULE = "GB2014-WEB-SUGGESTION-7WD"  # 网民意见建议 7 个工作日（可延长至 15）
COMPLAINT_RULE = "GB2014-WEB-COMPLAINT-15WD"  # 咨询投诉、反映问题 15 个工作日
CITIZEN_RULES = (SUGGESTION_RULE, COMPLAINT_RULE)
CITIZEN_MEDIA = frozenset({MediaType.HOTLINE_12345, MediaType.MAILBOX})
PROMPT_TEXT = "来自市民来信/12345：请按内容选择适用时限"
QUEUE_BADGE = "待定答复时限"


@dataclass(frozen=True, slots=True)
class CitizenMessage:
    """An incident's message from a 12345 / 信箱 source."""

    item_id: int | None  # None: an imported ledger row (the incident itself says 信箱)
    media_type: MediaType
    received_at: datetime  # the deadline's t0
    title: str = ""


def received_at(published_at: datetime | None, fetched_at: datetime) -> datetime:
    """When the message was left or received: published_at, capped at the collection time."""
    return fetched_at if published_at is None else min(published_at, fetched_at)


def is_citizen_media(value: str | MediaType | None) -> bool:
    if not value:
        return False
    try:
        return MediaType(value) in CITIZEN_MEDIA
    except ValueError:
        return False


def prompt_settled(events: Iterable[IncidentEvent]) -> bool:
    """True once either citizen rule is attached or a person dismissed the prompt."""
    for e in events:
        if e.kind == EventKind.CITIZEN_PROMPT_DISMISSED:
            return True
        if e.kind == EventKind.RULE_ATTACHED and e.payload.get("rule") in CITIZEN_RULES:
            return True
    return False


def citizen_prompt(
    is_open: bool, messages: Sequence[CitizenMessage], events: Iterable[IncidentEvent]
) -> CitizenMessage | None:
    """The earliest citizen message when the incident still needs a deadline chosen, else None."""
    if not is_open or not messages or prompt_settled(events):
        return None
    return min(messages, key=lambda m: (m.received_at, m.item_id or 0))

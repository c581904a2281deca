"""Outbox rows for alerts, exactly as docs/contracts.md §3 specifies (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.domain import Incident, OrgDirectory, Role
from monitor.domain.playbooks import AlertKind, Playbook
from monitor.engine.plan import Alert


def step_key(incident_id: int, obligation_id: int | None, step: str, generation: int) -> str:
    """The key of one alert; each outbox row appends its recipient."""
    return f"{incident_id}:{obligation_id if obligation_id is not None else '-'}:{step}:{generation}"


def incident_summary(incident: Incident, org: OrgDirectory) -> dict[str, Any]:
    unit = org.units.get(incident.owner_unit) if incident.owner_unit else None
    return {
        "id": incident.id,
        "title": incident.title,
        "event_level": incident.event_level and incident.event_level.value,
        "opinion_level": incident.opinion_level and incident.opinion_level.value,
        "owner_unit": incident.owner_unit,
        "owner_unit_name": unit.name if unit else None,
        "region": incident.region,
    }


def outbox_rows(
    incident: Incident,
    alert: Alert,
    obligation_id: int | None,
    generation: int,
    playbook: Playbook,
    org: OrgDirectory,
    now: datetime,
) -> list[dict[str, Any]]:
    """One row per person (recipient NULL = all duty officers, for system alerts and unstaffed roles)."""
    rule = playbook.rule(alert.rule_id) if alert.rule_id else None
    key = step_key(incident.id or 0, obligation_id, alert.step, generation)
    base: dict[str, Any] = {
        "template": alert.kind.value,
        "text": alert.text,
        "incident": incident_summary(incident, org),
        "rule": {"id": rule.id, "title": rule.title, "source": rule.source} if rule else None,
        "due_at": alert.due_at.isoformat() if alert.due_at else None,
        "step": alert.step,
        **({"instruction": alert.instruction} if alert.instruction else {}),
    }
    if alert.returned_reason:
        base["returned_reason"] = alert.returned_reason
    if alert.reminder:
        base["reminder"] = True  # the notifier drops it if the unit 认领s before it goes out
    if alert.supervision:
        base["supervision"] = alert.supervision
    recipients: list[tuple[str | None, Role | None]] = list(alert.recipients)
    kind = alert.kind
    if not recipients:
        recipients = [(None, Role.DUTY_OFFICER)]
        if kind != AlertKind.SYSTEM_ALERT:
            missing = "、".join(r.label for r in alert.roles)
            base["text"] = f"{alert.text}（通讯录中没有{missing}，已转值班员）"
    rows = []
    for person_id, role in recipients:
        person = org.people.get(person_id) if person_id else None
        payload = {
            **base,
            "role": role.value if role else None,
            "person": {"id": person.id, "name": person.name} if person else None,
        }
        rows.append(
            {
                "idempotency_key": f"{key}:{person_id or '*'}",
                "incident_id": incident.id,
                "obligation_id": obligation_id,
                "kind": kind.value,
                "urgent": alert.urgent,
                "recipient": person_id,
                "channel": None,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return rows

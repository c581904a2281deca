"""Who responds and whether a response is required (国办发〔2016〕61号 §1.1 and §1.2; DOMAIN.md §7).

Pure decisions, stdlib only:

- `opening_units` turns the classifier's units of one item into the incident's 第一责任主体 (owner),
  牵头单位 (lead) and 协办单位 (co-units). Several departments: the first is the lead, the others
  co-handle ("相关部门按照职责分工做好回应工作"). Several localities: the lead department — a
  department of the city government, i.e. the higher government's 主管部门 — owns the incident and
  each locality co-handles it ("相关地方按照属地管理原则进行回应").
- `grown_co_units` adds the co-units later items bring; it never drops one already there (a person
  may have put it there, e.g. by merging incidents).
- `response_need` says from the category and the levels why the incident must be responded to
  (§1.2's five categories, rumours, 舆情 L1–L3, and — 61号's "对其他政务舆情应在48小时内予以回应" —
  every other 政务舆情 too: only a person decides that one needs no public response).
- `person_set_requires_response` tells whether a person chose it explicitly (then nothing derives it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.domain.enums import EventLevel, EventType, OpinionLevel
from monitor.domain.events import EventKind, IncidentEvent
from monitor.domain.incidents import Incident

SYSTEM_ACTOR = "system"
EXPLICIT_KEY = "requires_response_set"  # REGRADED payload: the command named requires_response
BASIS_KEY = "requires_response_basis"  # CONFIRMED / REGRADED payload: why it was derived (zh-CN)


@dataclass(frozen=True, slots=True)
class OpeningUnits:
    owner: str | None
    lead: str | None
    co_units: tuple[str, ...]
    multi_region: bool
    vertical_managed: bool


def opening_units(department: str | None, classification: Mapping[str, Any] | None) -> OpeningUnits:
    """The units of an incident opened by one item: `department` is the item's lead department id,
    `classification` its stored classifier result (``co_unit_ids``, ``multi_region``, ``vertical_managed``)."""
    found = classification or {}
    several = bool(found.get("multi_region"))
    refs = found.get("co_unit_ids") or ()
    co_units = tuple(dict.fromkeys(u for u in (_co_unit(department, r, several) for r in refs) if u))
    return OpeningUnits(
        owner=department,
        lead=department,
        co_units=co_units,
        multi_region=several,
        vertical_managed=bool(found.get("vertical_managed")) and department is not None,
    )


def _co_unit(lead: str | None, ref: Any, several: bool) -> str | None:
    """A co-unit reference {department, region} as one unit id: another department co-handles; when
    several localities are involved, the lead named for one of them means that locality responds (属地)."""
    if not isinstance(ref, Mapping):
        return None
    department, region = ref.get("department"), ref.get("region")
    if department and department != lead:
        return str(department)
    return str(region) if region and several else None


def grown_co_units(
    current: Sequence[str], added: Iterable[str], owner: str | None, lead: str | None
) -> tuple[str, ...]:
    """`current` co-units plus `added` ones (never the owner or lead; none dropped, order kept)."""
    fresh = [u for u in added if u and u not in (owner, lead)]
    return tuple(dict.fromkeys([*current, *fresh]))


@dataclass(frozen=True, slots=True)
class ResponseNeed:
    required: bool
    basis: str  # zh-CN: why, citing the rule


_CATEGORY_BASIS = {
    EventType.POLICY_MISREAD: "对政府重大政策措施存在误解误读，属国办发〔2016〕61号规定须重点回应的情形",
    EventType.MORAL: "涉及民生领域严重冲击社会道德底线，属国办发〔2016〕61号规定须重点回应的情形",
    EventType.RUMOR: "涉及造谣传谣，相关部门须及时回应并移交公安、网信部门（国办发〔2016〕61号）",
}


def response_need(
    event_type: EventType | None, event_level: EventLevel | None, opinion_level: OpinionLevel | None
) -> ResponseNeed | None:
    """Whether the incident must be responded to, and why; None when nothing is known to decide it."""
    if event_level is not None or (event_type is not None and event_type.category is not None):
        what = event_level.label if event_level else (event_type.label if event_type else "")
        return ResponseNeed(True, f"突发事件（{what}）：涉及突发事件处置和自然灾害应对，须回应（国办发〔2016〕61号）")
    if event_type in _CATEGORY_BASIS:
        return ResponseNeed(True, _CATEGORY_BASIS[event_type])
    if opinion_level is None:
        return None
    if opinion_level != OpinionLevel.L4:
        return ResponseNeed(True, f"舆情级别 {opinion_level.value}（{opinion_level.label}），须回应")
    # 61号: "对其他政务舆情应在48小时内予以回应" — every 政务舆情 is answered; only a person may decide
    # that one needs no public response (e.g. answered in person), by a regrade that says so.
    return ResponseNeed(
        True,
        "舆情级别 L4（关注）：对其他政务舆情应在48小时内予以回应（国办发〔2016〕61号）；"
        "如确无需公开回应，请调整级别并选择「无需回应」，写明理由",
    )


def person_set_requires_response(events: Iterable[IncidentEvent]) -> bool:
    """A person chose 是否需要回应 explicitly (a regrade naming it); derivation never overrides that."""
    return any(e.kind == EventKind.REGRADED and e.actor != SYSTEM_ACTOR and e.payload.get(EXPLICIT_KEY) for e in events)


def requirement(
    current: bool,
    explicit: bool | None,
    events: Iterable[IncidentEvent],
    levels: tuple[EventType | None, EventLevel | None, OpinionLevel | None],
) -> tuple[bool, dict[str, Any]]:
    """requires_response after a confirmation or regrade, and the payload keys that say why.

    `explicit` is the value the command names (None: not named). A named value wins and is marked;
    a value a person named before stays; otherwise it is derived from the category and levels."""
    if explicit is not None:
        return explicit, {EXPLICIT_KEY: True}
    if person_set_requires_response(events):
        return current, {}
    need = response_need(*levels)
    if need is None:
        return current, {}
    return need.required, {BASIS_KEY: need.basis}


def reassigned_lead(incident: Incident, owner: str) -> dict[str, Any]:
    """Incident fields besides the owner that a 改派 to `owner` changes: the lead follows the owner
    (the lead is the unit that must respond), and the new owner is no longer one of its co-units."""
    lead = owner if incident.lead_unit in (None, incident.owner_unit) else incident.lead_unit
    return {"lead_unit": lead, "co_units": tuple(u for u in incident.co_units if u not in (owner, lead))}

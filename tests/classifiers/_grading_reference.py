"""The grading code as it was before the schemes became data (classifiers/grading.py at 389a3e8), kept
verbatim as the reference the shipped grading_schemes.yaml must reproduce (test_grading.py).

Statutory grade (I–IV) of an emergency from its extracted facts (DOMAIN.md §3).

Each scheme is a list of criteria; a criterion reaches a level when its value is at least that
level's threshold ("以上"包括本数, 493号令 Art. 3), and the grade is the most severe level any
criterion reaches ("或者": any one criterion suffices). Values are the smallest counts the text
supports (近30 counts as 29), so the grade never goes below what the facts require.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from classifiers.facts import Facts
from classifiers.types import EventCategory, EventLevel, EventType

_LEVELS = (EventLevel.I, EventLevel.II, EventLevel.III, EventLevel.IV)


@dataclass(frozen=True)
class Criterion:
    """One graded quantity: how to read it from facts, and the lower bound of each level."""

    label: str
    value: Callable[[Facts], float]
    thresholds: dict[EventLevel, float]


def _deaths(f: Facts) -> float:
    return f.at_least("deaths")


def _serious(f: Facts) -> float:
    return f.at_least("serious_injured")


def _loss(f: Facts) -> float:
    return f.at_least("economic_loss_cny")


def _poisoned_or_serious(f: Facts) -> float:
    # One victim can be both (急性中毒 gives a serious and a poisoned statement): the larger
    # count, a lower bound of those poisoned or seriously injured.
    # (60余人中毒送医 is read as people sent to hospital; its words still say they were poisoned.)
    named = [m.at_least for m in f.mentions if m.field == "injured" and "中毒" in m.text]
    return max(f.at_least("serious_injured"), f.at_least("injured", kinds=("poisoned",)), *named)


def _dead_or_missing(f: Facts) -> float:
    return f.at_least("deaths") + f.at_least("missing")


def _evacuated(f: Facts) -> float:
    return f.at_least("people_involved", kinds=("evacuated",))


def _participants(f: Facts) -> float:
    return f.at_least("people_involved", kinds=("participants",))


def _injured(f: Facts) -> float:
    return f.at_least("injured")


I, II, III, IV = _LEVELS  # noqa: E741 - the statutory names of the levels
# 《生产安全事故报告和调查处理条例》(国务院令第493号) Art. 3; also 火灾 (公安部2007) and,
# by common provincial practice, 道路交通事故 (DOMAIN.md §3.2–3.4).
ACCIDENT = (
    Criterion("死亡", _deaths, {I: 30, II: 10, III: 3}),
    Criterion("重伤(含急性工业中毒)", _serious, {I: 100, II: 50, III: 10}),
    Criterion("直接经济损失(元)", _loss, {I: 100_000_000, II: 50_000_000, III: 10_000_000}),
)
# 《国家突发环境事件应急预案》(2014) (DOMAIN.md §3.8).
POLLUTION = (
    Criterion("死亡", _deaths, {I: 30, II: 10, III: 3}),
    Criterion("中毒或重伤", _poisoned_or_serious, {I: 100, II: 50, III: 10}),
    Criterion("疏散转移人员", _evacuated, {I: 50_000, II: 10_000, III: 5_000}),
    Criterion("直接经济损失(元)", _loss, {I: 100_000_000, II: 20_000_000, III: 5_000_000}),
)
# 《国家自然灾害救助应急预案》 response thresholds; 2024 version counts 死亡和失踪 (§3.5).
NATURAL_DISASTER = (
    Criterion("死亡和失踪", _dead_or_missing, {I: 200, II: 100, III: 50, IV: 20}),
    Criterion("紧急转移安置", _evacuated, {I: 2_000_000, II: 1_000_000, III: 500_000, IV: 100_000}),
)
# 《特别重大、重大突发公共事件分级标准（试行）》 群体性事件 (§3.9); 较大/一般 are local only.
SOCIAL_SECURITY = (
    Criterion("参与人数", _participants, {I: 5_000, II: 1_000}),
    Criterion("死亡", _deaths, {I: 10, II: 3}),
    Criterion("受伤", _injured, {I: 30, II: 10}),
)


@dataclass(frozen=True)
class Scheme:
    criteria: Sequence[Criterion]
    floor: EventLevel | None  # the grade of any event of this kind that reaches no threshold
    source: str


SCHEMES: dict[EventType, Scheme] = {
    EventType.WORK_SAFETY: Scheme(ACCIDENT, IV, "国务院令第493号 第三条"),
    EventType.TRAFFIC: Scheme(ACCIDENT, IV, "国务院令第493号 第三条(道路交通事故按省级预案参照)"),
    EventType.FIRE: Scheme(ACCIDENT, IV, "公安部2007年《关于调整火灾等级标准的通知》"),
    EventType.POLLUTION: Scheme(POLLUTION, IV, "《国家突发环境事件应急预案》(2014)"),
    # Below the national thresholds these are handled at county level as 一般 (Ⅳ) events: the
    # national figures are response levels (§3.5) or stop at 重大 (§3.9); Ⅲ/Ⅳ are local rules.
    EventType.NATURAL_DISASTER: Scheme(
        NATURAL_DISASTER, IV, "《国家自然灾害救助应急预案》响应条件；未达国家标准的按地方预案一般(IV)级"
    ),
    EventType.SOCIAL_SECURITY: Scheme(
        SOCIAL_SECURITY, IV, "《特别重大、重大突发公共事件分级标准（试行）》；较大/一般为地方标准，未达的按一般(IV)级"
    ),
}
_CATEGORY_DEFAULT = {
    EventCategory.ACCIDENT: EventType.WORK_SAFETY,
    EventCategory.NATURAL_DISASTER: EventType.NATURAL_DISASTER,
    EventCategory.SOCIAL_SECURITY: EventType.SOCIAL_SECURITY,
    EventCategory.PUBLIC_HEALTH: EventType.PUBLIC_HEALTH,
}


def grade(
    kind: EventType | EventCategory | str | None, facts: Facts, *, collective_unit: bool = False
) -> tuple[EventLevel | None, list[str]]:
    """Grade an event of ``kind`` (event type, category, or their string values).

    ``collective_unit`` marks food poisoning in a school, kindergarten, building site or other
    collective unit (§3.6 较大). Returns (level or None, reasons in Chinese).
    """
    event_type = _event_type(kind)
    if event_type is None:
        return None, ["非突发事件类型，不分级"]
    if event_type == EventType.FOOD_POISONING:
        return grade_food_poisoning(facts, collective_unit=collective_unit)
    scheme = SCHEMES.get(event_type)
    if scheme is None:
        return None, [f"{event_type.value}：无可由数字判定的分级标准，需人工研判"]
    return _apply(scheme, facts)


def _event_type(kind: EventType | EventCategory | str | None) -> EventType | None:
    if kind is None or isinstance(kind, EventType):
        return kind
    if isinstance(kind, EventCategory):
        return _CATEGORY_DEFAULT[kind]
    for enum in (EventType, EventCategory):
        try:
            return _event_type(enum(kind))
        except ValueError:
            continue
    raise ValueError(f"unknown event type or category: {kind!r}")


def _apply(scheme: Scheme, facts: Facts) -> tuple[EventLevel | None, list[str]]:
    best: EventLevel | None = None
    reasons: list[str] = []
    for criterion in scheme.criteria:
        value = criterion.value(facts)
        reached = next((lv for lv in _LEVELS if lv in criterion.thresholds and value >= criterion.thresholds[lv]), None)
        if reached is not None:
            reasons.append(f"{criterion.label}{value:g} ≥ {criterion.thresholds[reached]:g} → {reached.value}级")
            best = reached if best is None or reached.rank < best.rank else best
    if best is None and scheme.floor is not None:
        best = scheme.floor
        reasons.append(f"未达更高等级标准 → {best.value}级")
    if best is None:
        reasons.append("未达分级标准的最低档")
    reasons.append(f"依据：{scheme.source}")
    return best, reasons


def grade_food_poisoning(facts: Facts, *, collective_unit: bool = False) -> tuple[EventLevel | None, list[str]]:
    """§3.6 [L, 江苏2006]: 30–99人无死亡 Ⅳ; >100人, 出现死亡, or 集体单位≥5人 Ⅲ;
    >100人并出现死亡 or ≥10例死亡 Ⅱ; below 30 people it is not a public-health event.

    The people poisoned include those who died: the extracted ``injured`` counts each victim once
    (16人出现不适症状，其中3人经抢救无效死亡 → 13 injured, 3 dead), so the poisoned are both."""
    dead = facts.at_least("deaths")
    ill = facts.at_least("injured") + dead
    source = "依据：江苏省2006年突发公共卫生事件分级(食物中毒)，地方标准，可配置"
    if (ill > 100 and dead >= 1) or dead >= 10:
        return EventLevel.II, [f"中毒{ill:g}人、死亡{dead:g}人 → II级", source]
    if ill > 100 or dead >= 1 or (collective_unit and ill >= 5):
        where = "，发生在集体单位" if collective_unit else ""
        return EventLevel.III, [f"中毒{ill:g}人、死亡{dead:g}人{where} → III级", source]
    if ill >= 30:
        return EventLevel.IV, [f"中毒{ill:g}人、无死亡 → IV级", source]
    return EventLevel.IV, [f"中毒{ill:g}人，不足30人，按一般(IV)级食品安全事件处置", source]

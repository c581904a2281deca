"""Incident vs not: is this a report of an emergency (突发事件) that has happened?

The definition the labels and the decision follow (benchmarks/README.md, "incident vs not"):
an *incident* is a report of a specific natural disaster, accident (traffic, fire, explosion,
collapse, air crash, work-safety, drowning or fall accident), public-health event (outbreak,
poisoning, vaccine safety) or public-security event (an attack on the public, mass violence),
including follow-ups about that event. Not incidents: acts of war between armed forces (air
strikes, shelling), individual criminal cases (a murder, a fraud), deaths from illness or
suicide, anniversaries and commentary with no event, products, sport, markets, entertainment.

DuEE's ``is_disaster_accident`` disagrees with that definition in both directions (accident
deaths tagged only 人生-死亡; air strikes tagged 灾害/意外), so the head is trained on
:func:`training_label`, DuEE's label corrected by the rules below, and the decision adds the
extracted casualty facts and the same overrides.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from classifiers.corpora import Example
    from classifiers.facts import Facts

# War: armed forces attacking each other (an aircraft crash stays an accident).
MILITARY = re.compile(
    r"空袭|炮击|轰炸|导弹|火箭弹|无人机袭击|无人机攻击|武装分子|胡塞|胡赛|叛军|军事行动|美军|哨所|士兵"
)
CRASH = re.compile(r"坠毁|坠机")
ACCIDENT = re.compile(
    r"车祸|交通事故|交通肇事|肇事|坠楼|坠亡|溺亡|溺水|火灾|起火|爆炸|坍塌|垮塌|地震|洪水|山洪|泥石流|坠机|坠毁|触电|电击|中毒|"
    r"砸中|砸死|被撞|撞死|遇难|事故"
)
# Individual crimes, suicides: not incidents unless an accident is also reported.
CRIME = re.compile(r"杀|刺|命案|凶手|遇害|嫌疑人|自杀|轻生|跳楼|上吊|殴打")
# A text that states casualties is an incident when the model gives it at least this much.
CASUALTY_FLOOR = 0.27


def training_label(example: Example) -> bool | None:
    """The incident label the head is trained on (None: left out)."""
    text = example.text
    if example.source == "cec":
        return True
    if example.source in ("routing", "responses", "extra"):
        return None if example.incident is None else bool(example.incident)
    if example.source == "tnews":
        return None if ACCIDENT.search(text) else False  # a headline about a quake is no negative
    if example.source == "duee":
        if example.incident:
            return not (MILITARY.search(text) and not CRASH.search(text))
        if "人生" in example.tags:
            return bool(ACCIDENT.search(text)) and not CRIME.search(text)
        return False
    return None if example.incident is None else bool(example.incident)


def overridden(text: str) -> str | None:
    """Why a text is not an incident whatever the model says (None: no override)."""
    if MILITARY.search(text) and not CRASH.search(text):
        return "战事（武装力量之间的袭击），非突发事件"
    if CRIME.search(text) and not ACCIDENT.search(text):
        return "个案刑事案件或自杀，非突发事件"
    return None


def decide(probability: float, facts: Facts, text: str) -> tuple[bool, str]:
    """Incident or not, and why: the head's probability, casualties stated in an event the model
    finds plausible, and the war / crime overrides."""
    reason = overridden(text)
    if reason is not None:
        return False, reason
    if probability >= 0.5:
        return True, f"模型判定为突发事件（{probability:.2f}）"
    casualties = any((facts.value(name) or 0) > 0 for name in ("deaths", "injured", "missing"))
    if casualties and probability >= CASUALTY_FLOOR:
        return True, f"报道了人员伤亡，模型得分 {probability:.2f} ≥ {CASUALTY_FLOOR}"
    return False, f"模型判定为非突发事件（{probability:.2f}）"

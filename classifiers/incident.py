"""Incident vs not: is this a report of an emergency (突发事件) that has happened?

The definition the labels and the decision follow (benchmarks/README.md, "incident vs not"):
an *incident* is a report of a specific natural disaster, accident (traffic, fire, explosion,
collapse, air crash, work-safety, drowning or fall accident), public-health event (outbreak,
poisoning, vaccine safety) or public-security event (an attack on the public, mass violence),
including follow-ups about that event. Not incidents: acts of war between armed forces (air
strikes, shelling), individual criminal cases (a murder, a fraud), deaths from illness or
suicide, anniversaries and commentary with no event, products, sport, markets, entertainment.
Two clarifications, added when two readers' labels of the test sample were adjudicated (they
settle its three disagreements and were applied to those rows only): the text is judged by what it
says, so an explosion or crash whose cause it does not state is an incident, and war only where the
text names an armed attack; a follow-up is news of the event's toll, rescue, cause, investigation,
compensation or trial (a review of a case counts), whereas a biography or life story that recalls a
person's death in a past accident is, like an anniversary, not a report of it.

DuEE's ``is_disaster_accident`` disagrees with that definition in both directions (accident
deaths tagged only 人生-死亡; air strikes tagged 灾害/意外), so the head is trained on
:func:`training_label`: a hand label where one was read under the definition
(``classifiers/data/labels/incident_train_labels.csv`` for the train split,
``incident_gold_validation_full.csv`` beside it for the validation split; ids and text sha1 only,
shipped with the package so that ``monitor retrain`` anywhere trains on them), else DuEE's label
corrected by the rules below.
The decision adds the extracted casualty facts and the same overrides.
"""

from __future__ import annotations

import csv
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from classifiers.rules import Searched, debunked_tail

if TYPE_CHECKING:
    from classifiers.corpora import Example
    from classifiers.facts import Facts

# War: armed forces attacking each other (an aircraft crash stays an accident).
MILITARY = re.compile(
    r"空袭|炮击|轰炸|导弹|火箭弹|无人机袭击|无人机攻击|武装分子|胡塞|胡赛|叛军|军事行动|美军|哨所|士兵"
)
CRASH = re.compile(r"坠毁|坠机")
# Soldiers dying in an accident (a training accident, a drowning) is an accident, not war.
MILITARY_ACCIDENT = re.compile(r"事故|溺水|溺亡|失事|坠落|迫降|意外")
ACCIDENT = re.compile(
    r"车祸|交通事故|交通肇事|肇事|坠楼|坠亡|溺亡|溺水|火灾|起火|爆炸|坍塌|垮塌|地震|洪水|山洪|泥石流|坠机|坠毁|触电|电击|中毒|"
    r"砸中|砸死|被撞|撞死|遇难|事故"
)
# Individual crimes, suicides: not incidents unless an accident is also reported.
CRIME = re.compile(r"杀|刺|命案|凶手|遇害|嫌疑人|自杀|轻生|跳楼|上吊|殴打")
# ... or an attack on the public (a shooting, an arson, a stranger's knife attack at an event).
ATTACK = re.compile(r"袭击|遇袭|纵火|行凶|枪击|枪案|砍人|持刀伤人")
# A text that states casualties is an incident when the model gives it at least this much.
CASUALTY_FLOOR = 0.27


LABELS_DIR = Path(__file__).resolve().parent / "data" / "labels"
# Rows read and labelled by hand under the definition (ids + sha1 of the text, never the text).
HAND_LABEL_FILES = (LABELS_DIR / "incident_train_labels.csv", LABELS_DIR / "incident_gold_validation_full.csv")


@cache
def hand_labels() -> dict[tuple[str, str], tuple[str, bool]]:
    """(source, id) -> (text sha1, incident) of every row read by hand. Validation rows marked
    ``read = no`` were not read (the rule label stands). The files ship with the package; a missing
    one is an error, not an empty set, because training without it builds a different model."""
    out: dict[tuple[str, str], tuple[str, bool]] = {}
    for path in HAND_LABEL_FILES:
        if not path.exists():
            raise FileNotFoundError(
                f"{path}: hand-labelled incident rows are missing; they ship with the classifiers package "
                "(reinstall it or restore the file from the repository) and training needs them"
            )
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("read", "yes") != "no":
                    out[(row["source"], row["doc_id"])] = (row["text_sha1"], row["incident"] == "1")
    return out


def hand_label(example: Example) -> bool | None:
    """The hand label of this very text (None: not read, or the corpus text changed)."""
    found = hand_labels().get((example.source, example.id))
    if found is None or hashlib.sha1(example.text.encode("utf-8")).hexdigest() != found[0]:
        return None
    return found[1]


def is_war(text: str) -> bool:
    """Armed forces attacking each other; a crash or an accident of soldiers is not war."""
    return bool(MILITARY.search(text)) and not CRASH.search(text) and not MILITARY_ACCIDENT.search(text)


def is_individual_crime(text: str) -> bool:
    """A crime against a person or a suicide, with neither accident nor attack-on-the-public words."""
    return bool(CRIME.search(text)) and not ACCIDENT.search(text) and not ATTACK.search(text)


def training_label(example: Example) -> bool | None:
    """The incident label the head is trained on (None: left out): the hand label, else the rules."""
    labelled = hand_label(example)
    if labelled is not None:
        return labelled
    text = example.text
    if example.source == "cec":
        return True
    if example.source in ("routing", "responses", "extra"):
        return None if example.incident is None else bool(example.incident)
    if example.source == "tnews":
        return None if ACCIDENT.search(text) else False  # a headline about a quake is no negative
    if example.source == "duee":
        if example.incident:
            return not is_war(text)
        if "人生" in example.tags:
            return bool(ACCIDENT.search(text)) and not CRIME.search(text)
        return False
    return None if example.incident is None else bool(example.incident)


def debunked(text: str | Searched) -> bool:
    """The text says that the event it retells did not happen as told (网传……经核实系谣言) and
    states no casualty after saying so (…不实，实际死亡12人 is a real event's toll, not a debunk
    of the event)."""
    tail = debunked_tail(text)
    if tail is None:
        return False
    from classifiers.facts import extract_facts

    facts = extract_facts(tail)
    return not any((facts.value(name) or 0) > 0 for name in ("deaths", "injured", "missing"))


def overridden(text: str) -> str | None:
    """Why a text is not an incident whatever the model says (None: no override)."""
    if debunked(text):
        return "经核实为谣言或不实信息，所述事件未发生，非突发事件"
    if is_war(text):
        return "战事（武装力量之间的袭击），非突发事件"
    if is_individual_crime(text):
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

"""Grading at every threshold boundary of DOMAIN.md §3 ("以上"包括本数)."""

from __future__ import annotations

import pytest

from classifiers import EventCategory, EventLevel, EventType, grade
from classifiers.facts import Fact, Facts


def facts(**values: float | tuple[float, str]) -> Facts:
    made = {}
    mentions = []
    for name, value in values.items():
        number, kind = value if isinstance(value, tuple) else (value, "total")
        fact = Fact(name, float(number), 0, 1, "x", kind=kind)
        made[name] = fact
        mentions.append(fact)
    return Facts(mentions=tuple(mentions), **made)


ACCIDENT_BOUNDARIES = [
    ("deaths", [(2, "IV"), (3, "III"), (9, "III"), (10, "II"), (29, "II"), (30, "I")]),
    ("serious_injured", [(9, "IV"), (10, "III"), (49, "III"), (50, "II"), (99, "II"), (100, "I")]),
    (
        "economic_loss_cny",
        [
            (9_999_999, "IV"),
            (10_000_000, "III"),
            (49_999_999, "III"),
            (50_000_000, "II"),
            (99_999_999, "II"),
            (100_000_000, "I"),
        ],
    ),
]


@pytest.mark.parametrize("event_type", [EventType.WORK_SAFETY, EventType.TRAFFIC, EventType.FIRE])
@pytest.mark.parametrize(("field", "cases"), ACCIDENT_BOUNDARIES)
def test_accident_thresholds(event_type: EventType, field: str, cases: list[tuple[float, str]]) -> None:
    for value, level in cases:
        assert grade(event_type, facts(**{field: value}))[0] == EventLevel(level), (field, value)


def test_accident_without_numbers_is_general() -> None:
    assert grade(EventType.FIRE, Facts())[0] == EventLevel.IV


def test_any_one_criterion_suffices_and_the_highest_wins() -> None:
    level, why = grade("生产安全", facts(deaths=3, economic_loss_cny=120_000_000))
    assert level == EventLevel.I
    assert any("直接经济损失" in line for line in why)


POLLUTION_BOUNDARIES = [
    ("deaths", [(2, "IV"), (3, "III"), (10, "II"), (30, "I")]),
    ("serious_injured", [(9, "IV"), (10, "III"), (50, "II"), (100, "I")]),
    (
        "people_involved",
        [
            ((4_999, "evacuated"), "IV"),
            ((5_000, "evacuated"), "III"),
            ((10_000, "evacuated"), "II"),
            ((50_000, "evacuated"), "I"),
        ],
    ),
    ("economic_loss_cny", [(4_999_999, "IV"), (5_000_000, "III"), (20_000_000, "II"), (100_000_000, "I")]),
]


@pytest.mark.parametrize(("field", "cases"), POLLUTION_BOUNDARIES)
def test_pollution_thresholds(field: str, cases: list[tuple[object, str]]) -> None:
    for value, level in cases:
        assert grade(EventType.POLLUTION, facts(**{field: value}))[0] == EventLevel(level), (field, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dead", "missing", "level"),
    [
        (0, 0, "IV"),  # below every national threshold: handled as 一般 (IV) by local plans
        (19, 0, "IV"),
        (20, 0, "IV"),
        (15, 5, "IV"),
        (49, 0, "IV"),
        (50, 0, "III"),
        (100, 0, "II"),
        (199, 0, "II"),
        (200, 0, "I"),
    ],
)
def test_natural_disaster_counts_dead_and_missing(dead: int, missing: int, level: str | None) -> None:
    got = grade(EventType.NATURAL_DISASTER, facts(deaths=dead, missing=missing))[0]
    assert got == (None if level is None else EventLevel(level))


@pytest.mark.parametrize(
    ("evacuated", "level"), [(99_999, "IV"), (100_000, "IV"), (500_000, "III"), (1_000_000, "II"), (2_000_000, "I")]
)
def test_natural_disaster_relocation(evacuated: int, level: str | None) -> None:
    got = grade(EventCategory.NATURAL_DISASTER, facts(people_involved=(evacuated, "evacuated")))[0]
    assert got == (None if level is None else EventLevel(level))


def test_affected_population_is_not_relocation() -> None:
    assert grade(EventType.NATURAL_DISASTER, facts(people_involved=(3_000_000, "affected")))[0] == EventLevel.IV


@pytest.mark.parametrize(
    ("kwargs", "level"),
    [
        ({"people_involved": (999, "participants")}, "IV"),
        ({"people_involved": (1000, "participants")}, "II"),
        ({"people_involved": (5000, "participants")}, "I"),
        ({"deaths": 2}, "IV"),
        ({"deaths": 3}, "II"),
        ({"deaths": 10}, "I"),
        ({"injured": 9}, "IV"),
        ({"injured": 10}, "II"),
        ({"injured": 30}, "I"),
    ],
)
def test_social_security(kwargs: dict[str, object], level: str | None) -> None:
    got = grade(EventType.SOCIAL_SECURITY, facts(**kwargs))[0]  # type: ignore[arg-type]
    assert got == (None if level is None else EventLevel(level))


@pytest.mark.parametrize(
    ("ill", "dead", "collective", "level"),
    [
        (29, 0, False, "IV"),
        (30, 0, False, "IV"),
        (99, 0, False, "IV"),
        (101, 0, False, "III"),
        (5, 0, True, "III"),
        (4, 0, True, "IV"),
        (10, 1, False, "III"),
        (101, 1, False, "II"),
        (0, 10, False, "II"),
        # the dead are among the poisoned: 100 still ill and 1 dead is 101 poisoned
        (100, 1, False, "II"),
        (99, 1, False, "III"),
    ],
)
def test_food_poisoning(ill: int, dead: int, collective: bool, level: str | None) -> None:
    """``ill`` is the injured figure: those poisoned who are alive (each victim is counted once)."""
    got = grade(EventType.FOOD_POISONING, facts(injured=(ill, "poisoned"), deaths=dead), collective_unit=collective)[0]
    assert got == (None if level is None else EventLevel(level))


def test_non_emergency_is_not_graded() -> None:
    assert grade(EventType.LIVELIHOOD, facts(deaths=50))[0] is None


def test_grade_from_extracted_text_never_below_facts() -> None:
    from classifiers import extract_facts

    assert grade("火灾", extract_facts("火灾造成30余人死亡"))[0] == EventLevel.I
    assert grade("火灾", extract_facts("火灾造成近30人死亡"))[0] == EventLevel.II


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        grade("台风来了", Facts())


@pytest.mark.parametrize(("poisoned", "level"), [(9, "IV"), (10, "III"), (49, "III"), (50, "II"), (100, "I")])
def test_pollution_counts_the_poisoned(poisoned: int, level: str) -> None:
    # §3.8: the column is 中毒或重伤 — people poisoned by a leak count as well as the seriously injured.
    assert grade(EventType.POLLUTION, facts(injured=(poisoned, "poisoned")))[0] == EventLevel(level)


def test_pollution_grade_from_text_counts_the_poisoned_once() -> None:
    from classifiers import extract_facts

    level, why = grade("环境污染", extract_facts("一化工企业发生氯气泄漏，造成12人中毒"))
    assert level == EventLevel.III and any("中毒或重伤12" in line for line in why)
    # the same 15 people are poisoned and (acute poisoning) seriously injured: 15, not 30
    level, why = grade("环境污染", extract_facts("某化工厂发生泄漏事故，导致15名工人急性中毒"))
    assert level == EventLevel.III and any("中毒或重伤15" in line for line in why)
    # an injury that is not poisoning is not 中毒或重伤
    assert grade("环境污染", extract_facts("泄漏事故造成12人受伤"))[0] == EventLevel.IV
    # people sent to hospital whose words say they were poisoned count as poisoned
    level, why = grade("环境污染", extract_facts("化工园区氯气泄漏，60余人中毒送医"))
    assert level == EventLevel.II and any("中毒或重伤60" in line for line in why)

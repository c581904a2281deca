from __future__ import annotations

import pytest

from classifiers import OpinionLevel, default_opinion_config, opinion_level


def test_nothing_gives_the_default_level() -> None:
    level, why = opinion_level(None, [], 0, 0.0, [])
    assert level == OpinionLevel.L4
    assert why


@pytest.mark.parametrize(("event_level", "expected"), [("I", "L1"), ("II", "L1"), ("III", "L2"), ("IV", "L3")])
def test_opinion_level_is_at_least_the_event_level(event_level: str, expected: str) -> None:
    assert opinion_level(event_level, [], 1, 0.0, [])[0] == OpinionLevel(expected)


@pytest.mark.parametrize(
    ("tier", "expected"), [("central", "L1"), ("provincial", "L2"), ("city", "L3"), ("self_media", "L4")]
)
def test_media_tier(tier: str, expected: str) -> None:
    assert opinion_level(None, [tier], 1, 0.0, [])[0] == OpinionLevel(expected)


@pytest.mark.parametrize(("sources", "expected"), [(4, "L4"), (5, "L3"), (20, "L2"), (50, "L1")])
def test_spread_boundaries_include_the_number(sources: int, expected: str) -> None:
    assert opinion_level(None, [], sources, 0.0, [])[0] == OpinionLevel(expected)


@pytest.mark.parametrize(("rate", "expected"), [(9.9, "L4"), (10, "L3"), (30, "L2"), (100, "L1")])
def test_velocity(rate: float, expected: str) -> None:
    assert opinion_level(None, [], 1, rate, [])[0] == OpinionLevel(expected)


def test_the_most_severe_input_wins_and_each_is_explained() -> None:
    level, why = opinion_level("IV", ["city"], 25, 0.0, ["mass_incident"])
    assert level == OpinionLevel.L2
    assert len(why) == 4


def test_thresholds_are_configuration() -> None:
    config = dict(default_opinion_config())
    config["media_tier"] = {"central": "L2"}
    assert opinion_level(None, ["central"], 1, 0.0, [], config)[0] == OpinionLevel.L2


def test_bad_config_names_the_field() -> None:
    from classifiers.opinion import validate_config

    with pytest.raises(ValueError, match=r"media_tier\.central"):
        validate_config({"media_tier": {"central": "L9"}})
    with pytest.raises(ValueError, match="unknown fields"):
        validate_config({"thresholds": {}})


def test_reasons_name_media_tiers_and_flags_in_chinese() -> None:
    level, why = opinion_level(None, ["city", "central"], 1, 0.0, ["casualties", "mass_incident"])
    assert level == OpinionLevel.L1  # the decision is unchanged
    assert why == [
        "媒体层级 市级媒体 → 至少L3",
        "媒体层级 中央级媒体 → 至少L1",
        "敏感标记 有人员死亡 → 至少L3",
        "敏感标记 涉稳（群体性事件） → 至少L2",
    ]
    assert not any(code in " ".join(why) for code in ("city", "central", "casualties", "mass_incident"))


def test_a_tier_or_flag_without_a_chinese_name_is_still_explained() -> None:
    config = {**default_opinion_config(), "flags": {"custom_flag": "L2"}}
    assert opinion_level(None, [], 1, 0.0, ["custom_flag"], config)[1] == ["敏感标记 custom_flag → 至少L2"]

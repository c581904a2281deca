"""舆情 level L1–L4 as a pure function of an incident's grade, reach, spread, velocity and flags.

Thresholds are configuration: ``opinion_levels.yaml`` (shipped, documented field by field) or a
mapping with the same fields passed by the service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from classifiers.types import EventLevel, OpinionLevel

CONFIG_FIELDS = {"default_level", "event_level", "media_tier", "source_count", "items_per_hour", "flags"}

# How reasons name media tiers (types.MediaTier) and sensitivity flags (opinion_levels.yaml
# ``flags``, rules.flags_for): people read them. A key without a name here is shown as is.
TIER_NAMES = {
    "central": "中央级媒体",
    "provincial": "省级媒体",
    "city": "市级媒体",
    "county": "县级媒体",
    "self_media": "自媒体",
}
FLAG_NAMES = {
    "mass_incident": "涉稳（群体性事件）",
    "casualties": "有人员死亡",
    "minors": "涉及未成年人",
    "moral": "冲击社会道德底线",
    "rumor": "涉谣",
    "policy_misread": "政策误解误读",
    "higher_request": "上级要求回应",
}


@lru_cache(maxsize=1)
def _default_config() -> Mapping[str, Any]:
    text = resources.files("classifiers").joinpath("opinion_levels.yaml").read_text("utf-8")
    return validate_config(yaml.safe_load(text))


def default_config() -> Mapping[str, Any]:
    """The shipped thresholds (``classifiers/opinion_levels.yaml``)."""
    return _default_config()


def validate_config(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """Check field names and level values; raises ValueError naming the bad field."""
    unknown = set(config) - CONFIG_FIELDS
    if unknown:
        raise ValueError(f"opinion level config: unknown fields {sorted(unknown)}; allowed {sorted(CONFIG_FIELDS)}")
    _level(config.get("default_level", "L4"), "default_level")
    for section in ("event_level", "media_tier", "flags"):
        for key, value in (config.get(section) or {}).items():
            _level(value, f"{section}.{key}")
    for section in ("source_count", "items_per_hour"):
        for i, row in enumerate(config.get(section) or []):
            if not isinstance(row, Mapping) or "at_least" not in row:
                raise ValueError(f"opinion level config: {section}[{i}] needs 'at_least' and 'level'")
            _level(row.get("level"), f"{section}[{i}].level")
    return config


def _level(value: object, where: str) -> OpinionLevel:
    try:
        return OpinionLevel(str(value))
    except ValueError:
        raise ValueError(f"opinion level config: {where} = {value!r} is not one of L1, L2, L3, L4") from None


def opinion_level(
    event_level: EventLevel | str | None,
    media_tiers_reached: Iterable[str],
    source_count: int,
    items_per_hour: float,
    flags: Iterable[str],
    config: Mapping[str, Any] | None = None,
) -> tuple[OpinionLevel, list[str]]:
    """The most severe level any input reaches, with one reason per contributing input."""
    config = default_config() if config is None else config
    floors: list[tuple[OpinionLevel, str]] = []
    if event_level is not None:
        _add(floors, config.get("event_level"), str(event_level), f"突发事件{event_level}级")
    for tier in media_tiers_reached:
        _add(floors, config.get("media_tier"), str(tier), f"媒体层级 {TIER_NAMES.get(str(tier), tier)}")
    _add_rows(floors, config.get("source_count"), source_count, f"来源数 {source_count}")
    _add_rows(floors, config.get("items_per_hour"), items_per_hour, f"每小时 {items_per_hour:g} 条")
    for flag in flags:
        _add(floors, config.get("flags"), flag, f"敏感标记 {FLAG_NAMES.get(flag, flag)}")
    level = _level(config.get("default_level", "L4"), "default_level")
    why = []
    for floor, reason in floors:
        why.append(f"{reason} → 至少{floor.value}")
        if floor.rank < level.rank:
            level = floor
    return level, why or [f"无升级因素 → {level.value}"]


def _add(floors: list[tuple[OpinionLevel, str]], table: Mapping[str, Any] | None, key: str, reason: str) -> None:
    if table and key in table:
        floors.append((_level(table[key], key), reason))


def _add_rows(floors: list[tuple[OpinionLevel, str]], rows: Any, value: float, reason: str) -> None:
    for row in rows or []:
        if value >= row["at_least"]:
            floors.append((_level(row["level"], reason), f"{reason} ≥ {row['at_least']}"))
            return

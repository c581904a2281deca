"""Value types shared by every task: the input document and the enums of the output contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EventLevel(StrEnum):
    """Statutory grade of a 突发事件 (DOMAIN.md §3.1)."""

    I = "I"  # noqa: E741 - 特别重大
    II = "II"  # 重大
    III = "III"  # 较大
    IV = "IV"  # 一般

    @property
    def rank(self) -> int:
        """1 for the most severe grade (I) … 4 for the least severe (IV)."""
        return _LEVEL_RANK[self.value]


_LEVEL_RANK = {"I": 1, "II": 2, "III": 3, "IV": 4, "L1": 1, "L2": 2, "L3": 3, "L4": 4}


class OpinionLevel(StrEnum):
    """舆情 level (DOMAIN.md §4.3, project-defined)."""

    L1 = "L1"  # 重大 / 红
    L2 = "L2"  # 较大 / 橙
    L3 = "L3"  # 一般 / 黄
    L4 = "L4"  # 关注 / 蓝

    @property
    def rank(self) -> int:
        """1 for the most severe level (L1) … 4 for the least severe (L4)."""
        return _LEVEL_RANK[self.value]


class EventCategory(StrEnum):
    """Statutory category of an emergency (DOMAIN.md §3.1)."""

    NATURAL_DISASTER = "natural_disaster"  # 自然灾害
    ACCIDENT = "accident"  # 事故灾难
    PUBLIC_HEALTH = "public_health"  # 公共卫生事件
    SOCIAL_SECURITY = "social_security"  # 社会安全事件


class EventType(StrEnum):
    """Kind of item; the Chinese value is the stable persisted string."""

    NATURAL_DISASTER = "自然灾害"  # earthquakes, floods, typhoons, geological hazards
    TRAFFIC = "交通事故"  # road, rail, air and water transport accidents
    FIRE = "火灾"  # fires
    WORK_SAFETY = "生产安全"  # explosions, collapses, mining and other work-safety accidents
    POLLUTION = "环境污染"  # 突发环境事件
    PUBLIC_HEALTH = "公共卫生"  # epidemics, infectious disease, unexplained illness clusters
    FOOD_POISONING = "食物中毒"  # food poisoning (a public-health event)
    SOCIAL_SECURITY = "社会安全"  # attacks, mass incidents, violent crime
    POLICY_MISREAD = "政策误读"  # §1.2 ①: a policy misunderstood or misread
    LIVELIHOOD = "民生诉求"  # §1.2 ②: complaints and requests about daily life
    MORAL = "道德底线"  # §1.2 ③: items that shock the moral bottom line
    RUMOR = "谣言"  # §1.2 / 80号 ⑥: false information, rumours
    OTHER_GOV = "其他政务"  # government-related but none of the above
    NOT_GOV = "非政务"  # ordinary news: sport, entertainment, markets …


EMERGENCY_CATEGORY: dict[EventType, EventCategory] = {
    EventType.NATURAL_DISASTER: EventCategory.NATURAL_DISASTER,
    EventType.TRAFFIC: EventCategory.ACCIDENT,
    EventType.FIRE: EventCategory.ACCIDENT,
    EventType.WORK_SAFETY: EventCategory.ACCIDENT,
    EventType.POLLUTION: EventCategory.ACCIDENT,
    EventType.PUBLIC_HEALTH: EventCategory.PUBLIC_HEALTH,
    EventType.FOOD_POISONING: EventCategory.PUBLIC_HEALTH,
    EventType.SOCIAL_SECURITY: EventCategory.SOCIAL_SECURITY,
}


def category_of(event_type: EventType | None) -> EventCategory | None:
    """The statutory category of an event type, or None for non-emergency kinds."""
    if event_type is None:
        return None
    return EMERGENCY_CATEGORY.get(event_type)


class MediaTier(StrEnum):
    """Highest tier of outlet that carried an item (DOMAIN.md §4.3)."""

    CENTRAL = "central"  # 中央级媒体 / 大型门户
    PROVINCIAL = "provincial"  # 省级媒体 / 省级重点网站
    CITY = "city"  # 市级媒体
    COUNTY = "county"  # 县级融媒体
    SELF_MEDIA = "self_media"  # 自媒体, forums, social posts


@dataclass(frozen=True)
class Doc:
    """One item to classify."""

    id: str
    title: str
    text: str
    media_tier: str | None = None
    published_at: datetime | None = None

    @property
    def full_text(self) -> str:
        """Title and body joined the way every task reads them."""
        if not self.title:
            return self.text
        if not self.text:
            return self.title
        return f"{self.title}\n{self.text}"

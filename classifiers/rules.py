"""Keyword rules for the kinds no corpus labels (公共卫生, 政策误读, 道德底线, 谣言, 其他政务)
and the sensitivity flags. Every rule has a name that appears in ``why``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from classifiers.types import EventType


@dataclass(frozen=True)
class Rule:
    name: str
    event_type: EventType
    pattern: re.Pattern[str]
    # Model predictions this rule may override; emergencies with data keep the model's type.
    overrides: frozenset[EventType]


_SOFT = frozenset({EventType.LIVELIHOOD, EventType.OTHER_GOV, EventType.NOT_GOV})
_SOFT_AND_ACCIDENTS = _SOFT | {EventType.WORK_SAFETY, EventType.SOCIAL_SECURITY, EventType.POLLUTION}


def _rule(name: str, event_type: EventType, pattern: str, overrides: frozenset[EventType] = _SOFT) -> Rule:
    return Rule(name, event_type, re.compile(pattern), overrides)


def _alts(*alternatives: str | tuple[tuple[str, ...], str]) -> str:
    """A regex whose every top-level alternative starts with literal text: ``(("新规", "新政"),
    rest)`` expands to ``新规rest|新政rest``. Python's re then skips ahead to the next possible
    first character instead of trying each alternative at every position (~15x faster here).
    Lookbehinds go after the literal (``误解(?<!引人误解)``) for the same reason."""
    out: list[str] = []
    for alternative in alternatives:
        if isinstance(alternative, str):
            out.append(alternative)
        else:
            heads, rest = alternative
            out.extend(head + rest for head in heads)
    return "|".join(out)


_MEALS = ("食堂", "就餐", "进食", "聚餐", "用餐", "午饭", "午餐", "晚饭", "晚餐", "早餐", "饭菜", "婚宴", "宴席")
_PERSONS = ("工人", "农民工", "村民", "业主", "群众", "居民", "员工", "家长")
_VICTIMS = r"(?:老人|儿童|幼儿|孩子|婴儿|学生|患者|残疾人|环卫|英烈)"

# Order matters: the first matching rule whose `overrides` contains the model's type wins.
TYPE_RULES: tuple[Rule, ...] = (
    _rule(
        "rumor",
        EventType.RUMOR,
        _alts(
            "辟谣",
            "谣言",
            "不实信息",
            "造谣",
            "传谣",
            r"网传.{0,20}(?:不实|系谣言|不属实|假的)",
            (("散布", "编造", "传播"), "虚假信息"),
            (("纯属", "系"), "(?:谣言|捏造|虚构)"),
        ),
    ),
    _rule(
        "public_health",
        EventType.PUBLIC_HEALTH,
        r"疫情|传染病(?!病原体)|确诊病例|疑似病例|无症状感染者|聚集性(?:病例|疫情)|不明原因(?:疾病|肺炎|发热)|"
        r"鼠疫|霍乱|非典|禽流感|新冠|诺如病毒|手足口病|流感暴发|麻疹|结核病|炭疽",
        _SOFT_AND_ACCIDENTS,
    ),
    _rule(
        "food_poisoning",
        EventType.FOOD_POISONING,
        _alts(
            "食物中毒",
            "集体中毒",
            r"疑似中毒.{0,10}(?:食堂|餐厅|饭店|就餐)",
            (_MEALS, r"[^。？！?!]{0,20}(?:上吐下泻|呕吐|腹泻|腹痛)"),
        ),
        _SOFT_AND_ACCIDENTS,
    ),
    _rule(
        "policy_misread",
        EventType.POLICY_MISREAD,
        _alts(
            "误读",
            "误解(?<!引人误解)",
            "曲解",
            "政策解读",
            r"网传.{0,12}(?:新规|新政|政策)",
            (("新规", "新政", "政策"), r".{0,12}(?:不实|误读|被误读|并非如此|答疑|释疑)"),
            (("没有(?<!有没有)", "并无", "并未", "不存在"), r"[^，。？?]{0,10}(?:的规定|的政策|这项规定|这一规定)"),
            (("方案", "新规", "新政", "调整"), r"[^，。]{0,4}(?:引|遭|引发)[^，。]{0,4}(?:质疑|误解|疑虑)"),
        ),
    ),
    _rule(
        "moral",
        EventType.MORAL,
        _alts(
            "虐待",
            "虐童",
            "虐猫",
            "虐狗",
            "殴打老人",
            "遗弃(?:老人|儿童|婴儿|子女|父母|病人)",
            "见死不救",
            "碰瓷",
            "霸座",
            "侮辱英烈",
            "冒充烈士",
            "拐卖",
            "性侵(?!财)",
            "猥亵",
            "校园霸凌",
            "校园欺凌",
            "弃婴",
            "殴打(?:环卫|外卖|快递)",
            "道德底线",
            (("辱骂",), f"[^，。]{{0,4}}{_VICTIMS}"),
            (("打骂", "掌掴", "殴打", "体罚", "推搡"), f"[^，。]{{0,6}}{_VICTIMS}"),
            r"扇[^，。]{0,10}耳光",
        ),
    ),
    _rule(
        "mass_incident",
        EventType.SOCIAL_SECURITY,
        r"群体性事件|聚集|围堵|围攻|堵路|打砸|冲击(?:政府|机关)|持刀|砍人|枪击|纵火|命案|恐怖袭击|暴恐",
        frozenset({EventType.NOT_GOV, EventType.OTHER_GOV}),
    ),
    # A crowd that gathers or blocks (两百多工人堵门讨薪): 涉稳, even in a livelihood complaint.
    _rule(
        "collective_action",
        EventType.SOCIAL_SECURITY,
        _alts((_PERSONS, r"[^，。]{0,6}(?:聚集(?![地场处区点的])|堵门|围堵|堵路|拉横幅|静坐|冲击)")),
    ),
)
# A title that says the news is a rumour (网传……系谣言 / 不实) makes it a rumour whatever the
# model read from the body: the body retells the false story (a fake disaster, a fake policy).
TITLE_RUMOR = re.compile(
    r"^[^\n]{0,80}?(?:辟谣|谣言|网传[^\n]{0,30}?(?:不实|假|误)|假消息|纯属捏造|系误传)[^\n]{0,80}\n"
)
FLAG_PATTERNS: dict[str, re.Pattern[str]] = {
    "mass_incident": re.compile(r"群体性事件|聚集|围堵|围攻|堵路|上访|集体维权|打砸|冲击(?:政府|机关)|罢工|游行"),
    "minors": re.compile(r"未成年|学生|儿童|幼儿|小学|中学|幼儿园|孩子|少年|婴儿"),
    "moral": TYPE_RULES[4].pattern,
    "rumor": TYPE_RULES[0].pattern,
    "policy_misread": TYPE_RULES[3].pattern,
    "higher_request": re.compile(
        r"(?:上级|省委|省政府|国务院|中央).{0,10}(?:要求|责成|督办|批示).{0,10}(?:回应|调查|核查)"
    ),
}
COLLECTIVE_UNIT = re.compile(
    r"学校|学生|幼儿园|托儿所|工地|食堂|(?:机关|企事业|用人)单位|公司员工|宿舍|养老院|敬老院|部队"
)
GOV_CUES = re.compile(
    r"政府|部门|局|委|办|书记|市长|县长|镇长|街道|村委|居委|信访|投诉|举报|反映|诉求|政策|通知|条例|规定"
)


class Searched:
    """One text whose pattern searches are remembered: type rules and flags share patterns, so
    each is searched at most once per document."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._hits: dict[re.Pattern[str], bool] = {}

    def has(self, pattern: re.Pattern[str]) -> bool:
        hit = self._hits.get(pattern)
        if hit is None:
            hit = self._hits[pattern] = pattern.search(self.text) is not None
        return hit


def _searched(text: str | Searched) -> Searched:
    return text if isinstance(text, Searched) else Searched(text)


def type_rule(text: str | Searched, predicted: EventType) -> tuple[EventType, str | None]:
    """The rule-decided type (and rule name) for ``text``, or the model's type unchanged."""
    searched = _searched(text)
    if predicted != EventType.RUMOR and searched.has(TITLE_RUMOR):
        return EventType.RUMOR, "rule:rumor_title"
    for rule in TYPE_RULES:
        if predicted in rule.overrides and searched.has(rule.pattern):
            return rule.event_type, f"rule:{rule.name}"
    return predicted, None


def flags_for(text: str | Searched, deaths: float | None) -> list[str]:
    """Sensitivity flags (names of opinion_levels.yaml ``flags``) the text raises."""
    searched = _searched(text)
    flags = [name for name, pattern in FLAG_PATTERNS.items() if searched.has(pattern)]
    if deaths:
        flags.append("casualties")
    return sorted(flags)

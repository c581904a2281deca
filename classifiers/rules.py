"""Keyword rules for the kinds no corpus labels (公共卫生, 政策误读, 道德底线, 谣言, 其他政务)
and the sensitivity flags. Every rule has a name that appears in ``why``.
"""

from __future__ import annotations

import re
import re._constants as _sre_constants  # the re module's own parser, for required_literals
import re._parser as _sre_parser
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ahocorasick_rs

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
    # A crowd that gathers or blocks (两百多工人堵门讨薪): 涉稳, even in a livelihood complaint.
    # Before mass_incident, which matches it too (聚集, 堵路) and gives the type the same, but not
    # the owner: rule_units gives the crowd to the unit in charge of the grievance (人社局 for wages).
    _rule(
        "collective_action",
        EventType.SOCIAL_SECURITY,
        _alts((_PERSONS, r"[^，。]{0,6}(?:聚集(?![地场处区点的])|堵门|围堵|堵路|拉横幅|静坐|冲击)")),
    ),
    _rule(
        "mass_incident",
        EventType.SOCIAL_SECURITY,
        r"群体性事件|聚集|围堵|围攻|堵路|打砸|冲击(?:政府|机关)|持刀|砍人|枪击|纵火|命案|恐怖袭击|暴恐",
        frozenset({EventType.NOT_GOV, EventType.OTHER_GOV}),
    ),
)
# A title that says the news is a rumour (网传……系谣言 / 不实) makes it a rumour whatever the
# model read from the body: the body retells the false story (a fake disaster, a fake policy).
TITLE_RUMOR = re.compile(
    r"^[^\n]{0,80}?(?:辟谣|谣言|网传[^\n]{0,30}?(?:不实|假|误)|假消息|纯属捏造|系误传)[^\n]{0,80}\n"
)
# A report that an event did not happen as told (网传……经核实系谣言): what it retells is no event.
DEBUNKED = re.compile(
    _alts(
        (
            ("网传", "传言", "传闻", "谣传", "网上流传", "网络流传"),
            r"[^。！？!?\n]{0,40}?(?:系谣言|纯属谣言|是谣言|为谣言|不实|不属实|系虚假|系误传|并未发生|没有发生|系编造|系捏造)",
        ),
        (
            ("经核实", "经核查", "经调查", "经查"),
            r"[^。！？!?\n]{0,24}?(?:系谣言|纯属谣言|是谣言|为谣言|不实|不属实|系虚假|系误传|并未发生|没有发生|系编造|系捏造)",
        ),
    )
)
# Cases of a disease counted or named (3例新冠确诊病例, 1例霍乱病例): a public-health event to handle
# whatever the relevance head, which never saw one (the corpora predate 2020), makes of it.
OUTBREAK = re.compile(
    r"确诊病例|疑似病例|无症状感染者|聚集性(?:病例|疫情)|不明原因(?:疾病|肺炎|发热)|"
    r"(?:鼠疫|霍乱|炭疽|非典|禽流感|新冠)[^，。；\n]{0,6}?(?:病例|患者|感染者)"
)
# Accident kinds the model confuses (煤矿透水 read as a traffic accident): the words that mark each.
ACCIDENT_CUES: dict[EventType, re.Pattern[str]] = {
    EventType.TRAFFIC: re.compile(
        r"车祸|交通|追尾|相撞|撞车|撞上|撞倒|被撞|侧翻|翻车|翻覆|坠崖|坠河|驾驶|司机|车辆|汽车|客车|货车|轿车|卡车|"
        r"公交|大巴|面包车|摩托|电动车|三轮车|槽罐车|高速|公路|路口|列车|火车|动车|高铁|地铁|脱轨|航班|飞机|坠机|客机|"
        r"直升机|船|沉没|渡轮|碾压|酒驾|肇事"
    ),
    EventType.FIRE: re.compile(r"火灾|起火|着火|失火|大火|火海|火情|火势|燃烧|烧毁|烧伤|烧死|明火|浓烟|消防|纵火"),
    EventType.WORK_SAFETY: re.compile(
        r"煤矿|矿井|井下|矿难|矿工|透水|瓦斯|冒顶|尾矿|化工|危化|车间|厂房|工厂|锅炉|脚手架|塔吊|施工|工地|坍塌|"
        r"垮塌|桥梁|高架桥|桥面|电梯|索道|游乐设施|特种设备|爆炸|闪爆|爆燃|泄漏|窒息|有限空间|生产安全"
    ),
    EventType.NATURAL_DISASTER: re.compile(
        r"地震|震级|余震|台风|暴雨|洪水|洪涝|山洪|泥石流|滑坡|冰雹|雪灾|暴雪|寒潮|干旱|龙卷风|风暴潮|内涝|强降雨|气象灾害|地质灾害"
    ),
    EventType.SOCIAL_SECURITY: re.compile(
        r"袭击|持刀|砍伤|砍人|刺伤|枪击|开枪|斗殴|群体性|聚集|恐怖|暴恐|劫持|绑架|纵火|行凶|围堵|打砸"
    ),
}
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


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings at least one of which occurs in every match of ``pattern`` (None: no such set
    found). Derived from the parsed pattern: consecutive literal characters of a sequence, the
    union over the branches of an alternation, the body of a group or of a repeat that must
    match at least once; every other element (classes, ``.``, lookarounds, optional parts)
    requires nothing. Of a sequence's candidates the most selective is kept."""
    if pattern.flags & (re.IGNORECASE | re.LOCALE) or not isinstance(pattern.pattern, str):
        return None
    try:
        parsed = _sre_parser.parse(pattern.pattern, pattern.flags)
    except re.error:  # pragma: no cover - a compiled pattern parses
        return None
    return _required(list(parsed))


def _required(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    candidates = _candidates(items)
    return max(candidates, key=_selectivity) if candidates else None


def _selectivity(literals: frozenset[str]) -> tuple[int, int]:
    return min(map(len, literals)), -len(literals)


def _candidates(items: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Every literal set one of whose strings a match of the sequence ``items`` contains."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is _sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if run:
            candidates.append(frozenset(["".join(run)]))
            run = []
        if op is _sre_constants.SUBPATTERN:
            _group, add_flags, _del_flags, body = av
            if not add_flags & (re.IGNORECASE | re.LOCALE):
                candidates += _candidates(list(body))
        elif op is _sre_constants.BRANCH:
            branches = [_candidates(list(branch)) for branch in av[1]]
            if all(branches):
                # The union of each branch's best set, or a set that every branch requires.
                candidates.append(frozenset().union(*[max(b, key=_selectivity) for b in branches]))
                candidates += [c for c in branches[0] if all(c in b for b in branches[1:])]
        elif op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT) and av[0] >= 1:
            candidates += _candidates(list(av[2]))
    return candidates


class _Gate:
    """One Aho-Corasick pass (all overlapping occurrences) finds which required literals of the
    gated patterns a text contains; a pattern none of whose literals occurs cannot match, so
    its regex search is skipped; a pattern that is only an alternation of its literals matches
    when one of them occurs, so it is not searched either. Patterns without a literal set are
    always searched."""

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self.literals: dict[re.Pattern[str], frozenset[str]] = {}
        for pattern in patterns:
            literals = required_literals(pattern)
            if literals:
                self.literals[pattern] = literals
        terms = sorted(set().union(*self.literals.values()))
        self._automaton = ahocorasick_rs.AhoCorasick(
            terms, matchkind=ahocorasick_rs.MatchKind.Standard, store_patterns=True
        )

        # Bit i stands for the i-th gated pattern; a literal sets the bits of the patterns it gates.
        self._literal_bits: dict[str, int] = dict.fromkeys(terms, 0)
        for i, literals in enumerate(self.literals.values()):
            for literal in literals:
                self._literal_bits[literal] |= 1 << i
        self._absent: dict[int, dict[re.Pattern[str], bool]] = {}  # bits of the patterns that may match → the others
        # Patterns that are nothing but their literals (地震|台风|…): one found is a match, no search.
        self._exact = {
            i
            for i, (pattern, literals) in enumerate(self.literals.items())
            if set(pattern.pattern.split("|")) == literals and all(re.escape(x) == x for x in literals)
        }

    def found(self, text: str) -> set[str]:
        return set(self._automaton.find_matches_as_strings(text, overlapping=True))

    def absent(self, text: str) -> dict[re.Pattern[str], bool]:
        """``{pattern: False}`` for every gated pattern none of whose literals ``text`` contains,
        and ``{pattern: True}`` for every pattern that is only its literals and one of them occurs
        (shared between texts: copy before changing it)."""
        bits = 0
        for literal in self._automaton.find_matches_as_strings(text, overlapping=True):
            bits |= self._literal_bits[literal]
        absent = self._absent.get(bits)
        if absent is None:
            absent = self._absent[bits] = {
                pattern: bool(bits & 1 << i)
                for i, pattern in enumerate(self.literals)
                if not bits & 1 << i or i in self._exact
            }
        return absent


@lru_cache(maxsize=1)
def _gate() -> _Gate:
    return _Gate(
        [
            TITLE_RUMOR,
            DEBUNKED,
            OUTBREAK,
            *(rule.pattern for rule in TYPE_RULES),
            *FLAG_PATTERNS.values(),
            COLLECTIVE_UNIT,
            *ACCIDENT_CUES.values(),
        ]
    )


class Searched:
    """One text whose pattern searches are remembered: type rules and flags share patterns, so
    each is searched at most once per document, and not at all when the text lacks every
    literal the pattern requires (one Aho-Corasick pass over the text finds them)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._hits: dict[re.Pattern[str], bool] = {}
        self._gated = False

    def has(self, pattern: re.Pattern[str]) -> bool:
        hit = self._hits.get(pattern)
        if hit is None:
            if not self._gated:
                self._gate()
                hit = self._hits.get(pattern)
                if hit is not None:
                    return hit
            hit = self._hits[pattern] = pattern.search(self.text) is not None
        return hit

    def _gate(self) -> None:
        """Settle, as no match, every gated pattern none of whose literals the text contains."""
        self._gated = True
        self._hits = _gate().absent(self.text) | self._hits


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


def accident_kind_rule(text: str | Searched, predicted: EventType) -> tuple[EventType, str | None]:
    """An accident kind the text's words contradict, corrected: when none of the words of the
    model's kind occur and those of exactly one other kind do (煤矿透水 read as 交通事故 →
    生产安全). Otherwise the model's type, unchanged."""
    if predicted not in ACCIDENT_CUES:
        return predicted, None
    searched = _searched(text)
    if searched.has(ACCIDENT_CUES[predicted]):
        return predicted, None
    others = [kind for kind, cues in ACCIDENT_CUES.items() if kind != predicted and searched.has(cues)]
    if len(others) != 1:
        return predicted, None
    return others[0], "rule:accident_kind"


_DEBUNK_OPENERS = ("网传", "传言", "传闻", "谣传", "流传", "经核实", "经核查", "经调查", "经查")


def may_debunk(text: str) -> bool:
    """Whether ``text`` holds a word every debunk (DEBUNKED) starts with: a cheap test first."""
    return any(opener in text for opener in _DEBUNK_OPENERS)


def debunked_tail(text: str | Searched) -> str | None:
    """What a debunking text says after its debunk (网传……经核实系谣言，实际无人员伤亡 → the part
    after 系谣言), or None when the text debunks nothing."""
    if isinstance(text, str) and not may_debunk(text):
        return None  # (most texts: no gate pass for them)
    searched = _searched(text)
    if not searched.has(DEBUNKED):
        return None
    match = DEBUNKED.search(searched.text)
    return searched.text[match.end() :] if match else None


def flags_for(text: str | Searched, deaths: float | None) -> list[str]:
    """Sensitivity flags (names of opinion_levels.yaml ``flags``) the text raises."""
    searched = _searched(text)
    flags = [name for name, pattern in FLAG_PATTERNS.items() if searched.has(pattern)]
    if deaths:
        flags.append("casualties")
    return sorted(flags)

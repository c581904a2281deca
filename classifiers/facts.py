"""Extraction of deaths, missing, injured, serious injuries, direct loss and headcounts.

Each statement found becomes a :class:`Fact` with its span in the input text. When several
statements fill one field, the last *update* (上升至 / 增至 …) wins; otherwise the largest
stated number wins (a total is never smaller than its parts). Statements in clauses about
statistics (每年 / 去年 / 同比 …) are ignored.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import pairwise

from classifiers.fact_patterns import (
    CLAUSE,
    CLAUSE_START,
    CLAUSE_THOUSANDS,
    COORD_GATE,
    COORD_ITEM,
    COORD_PATTERNS,
    LEAD_GATE,
    LEAD_PATTERNS,
    LOSS_PATTERNS,
    MASK_PATTERN,
    NUMERAL,
    PEOPLE_PATTERNS,
    PERSON_ASIDE,
    STATISTICS_AT,
    STATISTICS_PATTERN,
    STATISTICS_SENTENCE,
    SUBJECT,
    SUBJECTLESS_DEATH,
    SUBJECTLESS_INJURY,
    THOUSANDS,
    TRIGGER,
    ZERO_FIELDS,
    ZERO_PATTERN,
    FactPattern,
)
from classifiers.normalize import normalize
from classifiers.numerals import MULTIPLIERS, parse_adjacent_range, parse_number
from classifiers.rules import DEBUNKED, may_debunk

FIELDS = ("deaths", "missing", "injured", "serious_injured", "economic_loss_cny", "people_involved")
_VAGUE_VALUES = {
    "数十": 20.0,
    "几十": 20.0,
    "数百": 200.0,
    "几百": 200.0,
    "上百": 100.0,
    "上千": 1000.0,
    "数千": 2000.0,
    "几千": 2000.0,
    "上万": 10000.0,
    "数万": 20000.0,
    "几万": 20000.0,
}
_NEARLY_VALUES = {"近百": 100.0, "近千": 1000.0, "近万": 10000.0}
_PAIR_VALUES = {"一对": 2.0, "双双": 2.0} | dict.fromkeys(
    ("夫妻", "夫妇", "母子", "母女", "父子", "父女", "情侣", "恋人", "兄弟", "姐妹", "姐弟", "兄妹", "祖孙"), 2.0
)
_DEATH_WORD = re.compile(r"死|亡|遇难|罹难|丧|殒|不治|抢救无效|生命体征")
_HAS_NUMBER = re.compile(r"[\d零〇一二两三四五六七八九十百千万亿]")
# Characters read past: spaces that set a number off from the words around it (共造成 4 人遇难,
# 2024 年), and tone-marked pinyin that some sites insert after characters (導(dǎo)致). A space
# after a number always goes (the number meets its counter); a space before it only when the
# number is set off on both sides — a space before alone is more often a headline's separator
# (…中毒惨死 13人送医). Both searches start with a literal, so the engine skips ahead.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_SPACED_NUMBER = re.compile(r"(\d+(?:[,.]\d+)*)( +)")
_PINYIN = re.compile(rf"\((?=[a-zü]*[{_TONED}])[a-zü{_TONED}]{{1,7}}\)")


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _noise(norm: str) -> list[tuple[int, int]]:
    """Where the characters read past are (start, end), in order."""
    spans: list[tuple[int, int]] = []
    pinyin_ends: dict[int, int] = {}  # where a pinyin insertion ends → where it starts
    if "(" in norm:
        for m in _PINYIN.finditer(norm):
            if _is_cjk(norm[m.start() - 1 : m.start()] or "a"):
                spans.append(m.span())
                pinyin_ends[m.end()] = m.start()
    if " " in norm:
        for match in _SPACED_NUMBER.finditer(norm):
            after = norm[match.end() : match.end() + 1]
            if not _is_cjk(after) or norm[match.start() - 1 : match.start()].isdigit():
                continue
            spans.append(match.span(2))
            start = match.start()
            while start > 0 and norm[start - 1] == " ":
                start -= 1
            before = pinyin_ends.get(start, start)  # 失聯(lián) 13 人: the character before the pinyin
            if start < match.start() and _is_cjk(norm[before - 1 : before]):
                spans.append((start, match.start()))
    return sorted(spans)


_UPDATE_WORDS = (
    "上升",
    "升至",
    "增至",
    "增加",
    "攀升",
    "下修",
    "下调",
    "降至",
    "降为",
    "修正为",
    "更新为",
    "仍有",
    "尚有",
    "仍然有",
)
# 仍有N人失联 is the missing figure now; 仍有4名伤者… is a part of the injured, not an update.
_STILL = ("仍有", "尚有", "仍然有")
_NO_NUMERAL_PATTERNS = tuple(p for p in PEOPLE_PATTERNS if not p.numeral)


@dataclass(frozen=True)
class Fact:
    """One number stated in the text, with where it was stated.

    ``qualifier`` is exact | approx (约) | more_than (余/多/逾/超过) | nearly (近) | range | vague
    (数十 …) | implied (one victim named without a number: 司机当场死亡); ``value`` is the
    stated number (the lower end of a range), ``upper`` the upper end.
    """

    field: str
    value: float
    start: int
    end: int
    text: str
    kind: str = "total"
    qualifier: str = "exact"
    upper: float | None = None
    update: bool = False

    @property
    def at_least(self) -> float:
        """The smallest count the statement supports (近30 → 29); grading uses this."""
        return self.value - 1 if self.qualifier == "nearly" and self.value > 0 else self.value

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": _number(self.value),
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "kind": self.kind,
            "qualifier": self.qualifier,
        }
        if self.upper is not None:
            out["upper"] = _number(self.upper)
        return out


@dataclass(frozen=True)
class Facts:
    """The resolved value of each field plus every statement that was found."""

    deaths: Fact | None = None
    missing: Fact | None = None
    injured: Fact | None = None
    serious_injured: Fact | None = None
    economic_loss_cny: Fact | None = None
    people_involved: Fact | None = None
    mentions: tuple[Fact, ...] = field(default=(), repr=False)

    def value(self, name: str) -> float | None:
        fact: Fact | None = getattr(self, name)
        return None if fact is None else fact.value

    def at_least(self, name: str, kinds: Iterable[str] | None = None) -> float:
        """Lower bound for a field (0 when absent); ``kinds`` restricts to those statements."""
        if kinds is None:
            fact: Fact | None = getattr(self, name)
            return 0.0 if fact is None else fact.at_least
        wanted = set(kinds)
        found = [m.at_least for m in self.mentions if m.field == name and m.kind in wanted]
        return max(found, default=0.0)

    def to_dict(self) -> dict[str, object]:
        """Numbers per field (null when not stated) and a ``spans`` map with the evidence."""
        out: dict[str, object] = {name: _maybe_number(getattr(self, name)) for name in FIELDS}
        out["spans"] = {name: getattr(self, name).to_dict() for name in FIELDS if getattr(self, name) is not None}
        return out


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _maybe_number(fact: Fact | None) -> int | float | None:
    return None if fact is None else _number(fact.value)


def extract_facts(text: str, normalized: str | None = None) -> Facts:
    """Extract casualty, loss and headcount facts from Chinese ``text`` (any script/width).

    ``normalized`` may pass ``normalize(text)`` when the caller already has it. Spans index
    ``text`` (normalisation maps one character to one character).
    """
    norm = normalize(text) if normalized is None else normalized
    noise = _noise(norm) if " " in norm or "(" in norm else []
    if noise:
        return _read_past_noise(text, norm, noise)
    mentions: list[Fact] = []
    triggers = [m.start() for m in TRIGGER.finditer(norm)]
    if triggers:
        scanned = PERSON_ASIDE.sub(lambda m: "□" * len(m.group(0)), norm) if "男" in norm or "女" in norm else norm
        sentence_end = -1
        clauses = CLAUSE_THOUSANDS if "," in scanned and THOUSANDS.search(scanned) else CLAUSE
        for clause in clauses.finditer(scanned):
            first = bisect_left(triggers, clause.start())
            if first < len(triggers) and triggers[first] < clause.end():
                found = _clause_mentions(clause.group(0), clause.start(), text)
                if not found and SUBJECTLESS_INJURY.match(clause.group(0)):
                    if sentence_end < 0 or sentence_end < clause.start():
                        sentence_end = _sentence_start(scanned, clause.start())
                    found += _carried_subject(scanned, sentence_end, clause, text, "injured")
                elif not found and _subjectless(clause.group(0)):
                    if sentence_end < 0 or sentence_end < clause.start():
                        sentence_end = _sentence_start(scanned, clause.start())
                    found += _carried_subject(scanned, sentence_end, clause, text)
                    if found:
                        # The victims hurt earlier in the sentence then died (…摔倒受伤，经抢救无效
                        # 死亡): their injury is the death, not another casualty.
                        mentions = [m for m in mentions if not _hurt_then_died(m, found[0], clause.start())]
                mentions += found
        mentions = _by_place(_died_of_injuries(mentions, scanned, text), scanned, text)
        mentions = _found_missing(_added_deaths(mentions, scanned, text), scanned)
        mentions = _part_updates(_added_injured(mentions, scanned, text), scanned)
        mentions = _treated_then_died(mentions, scanned)
        mentions = _others_hurt(mentions, scanned, text)
    mentions = [m for m in mentions if not _in_statistics(norm, m.start)]
    mentions = _not_debunked(mentions, norm)
    mentions += list(_zero_mentions(norm))
    return resolve(mentions)


# A figure a text says is false is no figure (网传死亡50人不实，实际死亡12人 → 12).
_CLAIM_OPENER = re.compile(r"网传|传言|传闻|谣传|网上流传|网络流传")


def _not_debunked(mentions: list[Fact], norm: str) -> list[Fact]:
    if not mentions or not may_debunk(norm):
        return mentions
    claims = _debunked_claims(norm)
    return [m for m in mentions if not any(start <= m.start < end for start, end in claims)]


def _debunked_claims(norm: str) -> list[tuple[int, int]]:
    """Spans of claims the text debunks: from the rumour's opener (网传…) in the same sentence, or
    the debunk itself (经核实…系谣言), to the end of the debunk."""
    claims = []
    for match in DEBUNKED.finditer(norm):
        sentence = max(norm.rfind(stop, 0, match.start()) for stop in "。！？!?\n") + 1
        openers = [m.start() for m in _CLAIM_OPENER.finditer(norm, sentence, match.start() + 1)]
        claims.append((min(openers, default=match.start()), match.end()))
    return claims


def _read_past_noise(text: str, norm: str, noise: list[tuple[int, int]]) -> Facts:
    """Facts of a text with noise in it (共造成 4 人遇难, 重伤 11人, 導(dǎo)致): read without it,
    spans mapped back to ``text``."""
    keep = [True] * len(norm)
    for start, end in noise:
        for i in range(start, end):
            keep[i] = False
    where = [i for i, kept in enumerate(keep) if kept]
    compact = "".join(norm[i] for i in where)
    facts = extract_facts(compact, compact)

    def back(fact: Fact | None) -> Fact | None:
        if fact is None:
            return None
        start, end = where[fact.start], where[fact.end - 1] + 1
        return replace(fact, start=start, end=end, text=text[start:end])

    chosen = {name: back(getattr(facts, name)) for name in FIELDS}
    mentions = tuple(m for m in (back(m) for m in facts.mentions) if m is not None)
    return Facts(mentions=mentions, **chosen)


# 受伤4人，其中1人经抢救无效死亡: one of the injured died in hospital.
_AMONG = re.compile(r"(?:其中|中有|其中有|伤者中|伤员中|受伤人员中)[^，。；,;！？!?\n]{0,2}$")
_IN_CARE = re.compile(r"抢救无效|医治无效|救治无效|不治|送医|送院|医院|伤重|伤势过重")
_CLAUSE_BREAK = re.compile(r"[，,；;。！？!?\n]")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
# Characters that end a clause, a sentence, or a statement (CLAUSE_START: a sentence or a ；).
_CLAUSE_CHARS = frozenset("，,；;。！？!?\n")
_SENTENCE_CHARS = frozenset("。！？!?\n")
_STATEMENT_CHARS = frozenset("。；;！？!?\n")


def _start(text: str, position: int, ends: frozenset[str]) -> int:
    """Where the clause, sentence or statement holding ``position`` starts: just after the last
    of ``ends`` before it (scanning back stops at the first one found)."""
    for i in range(position - 1, -1, -1):
        if text[i] in ends:
            return i + 1
    return 0


def _died_of_injuries(mentions: list[Fact], scanned: str, original: str) -> list[Fact]:
    """Move the injured who then died (…受伤4人；…其中1人经抢救无效死亡) from the injured to
    the dead: a victim is counted once. Only within one sentence, only for a death clause that
    picks its victims out of the injured just counted (其中 / 伤者中)."""
    done: set[int] = set()
    for death in [m for m in mentions if m.field == "deaths" and m.kind == "total"]:
        before = scanned[: death.start]
        clause_start = _start(scanned, death.start, _CLAUSE_CHARS)
        if clause_start in done:
            continue  # another statement of the same clause's death was taken already
        # (送院的4名伤者中，3人因伤重不治: the clause before ends with 中.)
        among_before = before[:clause_start].rstrip("，,；; ").endswith("中")
        if not _AMONG.search(before[clause_start:]) and not among_before:
            continue
        sentence_start = _start(scanned, death.start, _SENTENCE_CHARS)
        injured = [
            m
            for m in mentions
            if m.field == "injured" and m.kind == "total" and sentence_start <= m.start and m.end <= death.start
        ]
        # 其中 picks out of the last people counted: they must be the injured, not the dead.
        last_dead = max((m.end for m in mentions if m.field == "deaths" and m.end <= death.start), default=-1)
        if not injured or injured[-1].value <= death.value or last_dead > injured[-1].end:
            continue
        hurt = injured[-1]
        earlier = [
            m for m in mentions if m.field == "deaths" and m is not death and sentence_start <= m.start < hurt.start
        ]
        # (四死七伤，其中三人当场死亡: a part of the dead, not of the injured, unless it died in care.)
        if earlier and death.value <= earlier[-1].value and not _IN_CARE.search(scanned, clause_start, death.end + 4):
            continue
        first = earlier[-1] if earlier else death
        total = death.value + (first.value if earlier else 0.0)
        done.add(clause_start)
        mentions = [m for m in mentions if m is not hurt and m is not death and m is not first]
        mentions.append(replace(hurt, value=hurt.value - death.value, kind="total"))
        mentions.append(
            Fact("deaths", total, first.start, death.end, original[first.start : death.end], qualifier=death.qualifier)
        )
    return mentions


# A breakdown of a total stated before: 其中 / 当中 (5名死者当中，3男1女…).
_AMONG_WORD = re.compile(r"其中|当中")
# People sent to hospital (4人送医1不治, 11人送医，1人送医不治): the dead among them leave the injured.
_SENT_TO_HOSPITAL = re.compile(r"送医|送院|送往医院")


def _treated_then_died(mentions: list[Fact], scanned: str) -> list[Fact]:
    """The poisoned or hospitalised who died are dead, not also injured (9名工人中毒已致5死 → 4
    injured; 4人送医1不治 → 3): in one sentence, deaths stated after such a count are among them,
    unless they are another group (另有…). A hospital count followed by 其中…不治 is left to
    :func:`_died_of_injuries`, which moves those deaths out of the injured already."""
    for poisoned in [
        m
        for m in mentions
        if m.field == "injured"
        and (
            m.kind == "poisoned"
            or "中毒" in scanned[m.start : m.end]
            or _SENT_TO_HOSPITAL.search(scanned, m.start, m.end)
        )
    ]:
        hospital_only = poisoned.kind != "poisoned" and "中毒" not in scanned[poisoned.start : poisoned.end]
        end = _SENTENCE_END.search(scanned, poisoned.end)
        sentence_end = end.end() if end else len(scanned)
        deaths = [
            m
            for m in mentions
            if m.field == "deaths"
            and poisoned.end <= m.start < sentence_end
            and m.value > 0
            # (…另有2人死亡: another group, not among them.)
            and not _MORE.search(scanned, max(poisoned.end, m.start - 8), m.start)
            # (其中3人不治 after people sent to hospital: _died_of_injuries took them out already.)
            and not (hospital_only and _AMONG_WORD.search(scanned, poisoned.end, m.start))
        ]
        if deaths and max(d.value for d in deaths) < poisoned.value:
            died = max(d.value for d in deaths)
            mentions = [replace(m, value=m.value - died) if m is poisoned else m for m in mentions]
    return mentions


# The place a clause's count is for (陕西省有5人死亡、5人失踪; 地震已致甘肃113人死亡): the last
# province-level name, or name ending in 省/市/县/区/州, before the count in its clause (not 全市,
# 该县: a whole, not a part).
_PROVINCES = (
    "北京|天津|河北|山西|内蒙古|辽宁|吉林|黑龙江|上海|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|广西|海南|"
    "重庆|四川|贵州|云南|西藏|陕西|甘肃|青海|宁夏|新疆|台湾|香港|澳门"
)
_PLACE = re.compile(
    rf"(?<![全该本此])(?:(?:{_PROVINCES})(?:省|市|自治区)?|[\u4e00-\u9fff]{{2,6}}?[省市县区州镇乡])"
    r"(?:有|共有|已有|也有|则有|已致|致|造成)?$"
)


def _by_place(mentions: list[Fact], scanned: str, original: str) -> list[Fact]:
    """Figures for different places in one sentence add up (陕西省有5人死亡、5人失踪，重庆市有2人
    死亡…，湖北省有1人死亡 → 8 dead, 7 missing): the largest would be one place's share. The place
    stands right before its count, or before the count it is listed with (…5人死亡、5人失踪); not
    when the sentence breaks a total down (其中…)."""
    groups: dict[tuple[int, str], list[tuple[str, Fact]]] = {}
    last: tuple[str, int] | None = None  # the last place seen and where its mention ended
    for mention in sorted(mentions, key=lambda m: m.start):
        if mention.field not in ("deaths", "missing", "injured") or mention.kind not in ("total", "serious", "light"):
            continue
        found = _PLACE.search(scanned, max(0, mention.start - 12), mention.start)
        if found is not None:
            place = found.group(0)
        elif last is not None and scanned[last[1] : mention.start] in ("、", "和", "及", "，", ",", ""):
            place = last[0]
        else:
            last = None
            continue
        last = (place, mention.end)
        sentence_start = _start(scanned, mention.start, _SENTENCE_CHARS)
        group = groups.setdefault((sentence_start, mention.field + mention.kind), [])
        if group and _AMONG_WORD.search(scanned, group[0][1].start, mention.start):
            group.append(("", mention))  # a part of a total stated before: never summed
        else:
            group.append((place, mention))
    for (sentence_start, _kind), group in groups.items():
        places = {place for place, _ in group}
        if len(places) < 2 or len(places) < len(group) or "" in places:
            continue
        if _AMONG_WORD.search(scanned, sentence_start, group[0][1].start):
            continue  # 其中，A区1人遇难，B镇1人遇难: parts of a total stated before
        parts = [m for _, m in group]
        first, end = parts[0], max(m.end for m in parts)
        total = sum(m.value for m in parts)
        mentions.append(Fact(first.field, total, first.start, end, original[first.start : end], kind=first.kind))
    return mentions


# Deaths stated in two groups add up: on the spot, then in care (4人当场死亡，3名重伤者在送往医院
# 途中不治 → 7), or one group and "another N" (12人当场死亡，…又有8人死亡 → 20).
_ON_SPOT = re.compile(r"当场|现场")
_LATER = re.compile(r"抢救无效|医治无效|救治无效|不治|送医|送院|医院|途中|伤重|伤势过重")
_MORE = re.compile(r"(?:又有|另有|另外|还有|此外|加上|其余|其他|亦有|也有|另)[^，,；;。！？!?\n\d]{0,4}$")
_TOTAL_WORD = re.compile(r"共|累计|合计|总计|已造成|已致|已达|升至|增至")


def _others_hurt(mentions: list[Fact], scanned: str, original: str) -> list[Fact]:
    """A list that names the seriously hurt and then "N人受伤" (4人重伤，30人受伤) counts
    two groups: the plain figure is the others, not the total (that would come first: 30人受伤，
    其中4人重伤)."""
    serious = [m for m in mentions if m.field == "serious_injured"]
    for hurt in [m for m in mentions if m.field == "injured" and m.kind == "total"]:
        for part in serious:
            between = scanned[part.end : hurt.start]
            if between in ("，", ",", "、", "；", ";") and _COUNT_FIRST.match(scanned, hurt.start):
                total = part.value + hurt.value
                mentions.append(
                    Fact("injured", total, part.start, hurt.end, original[part.start : hurt.end], kind="total")
                )
    return mentions


_COUNT_FIRST = re.compile(r"[\d零〇一二两三四五六七八九十百千]")


def _added_deaths(mentions: list[Fact], scanned: str, original: str) -> list[Fact]:
    deaths = sorted(
        (m for m in mentions if m.field == "deaths" and m.kind == "total" and not m.update), key=lambda m: m.start
    )
    if len(deaths) < 2:
        return mentions
    for first, second in pairwise(deaths):
        between = scanned[first.end : second.start]
        if _SENTENCE_END.search(between) or _AMONG_WORD.search(between) or first.end > second.start:
            continue
        before = scanned[max(first.end, second.start - 8) : second.start]
        cuts = [m.end() for m in _CLAUSE_BREAK.finditer(scanned, first.start, second.start)]
        if not cuts or len(cuts) > 3 or second.start - first.end > 60:
            continue  # one clause (a restatement), or far apart (a headline and its body)
        first_clause = scanned[max(0, first.start - 6) : first.end + 4]
        second_clause = scanned[cuts[-1] : second.end + 4]
        spot_then_care = (_ON_SPOT.search(first_clause) and _LATER.search(second_clause)) or (
            _LATER.search(first_clause) and _ON_SPOT.search(second_clause)
        )
        # Two clauses that each open with their own count (5人被困井下身亡，1人抢救无效死亡).
        listed = (
            cuts[-1] == second.start
            and _COUNT_FIRST.match(scanned, first.start)
            and _COUNT_FIRST.match(scanned, second.start)
            and (
                scanned[first.start - 1 : first.start] in ("，", ",", "；", ";", "：", ":", "、", "")
                or scanned[max(0, first.start - 2) : first.start] in ("导致", "造成")
                or scanned[first.start - 1 : first.start] == "致"
            )
            and not _TOTAL_WORD.search(scanned, max(0, first.start - 4), second.end)
        )
        if spot_then_care or listed or _MORE.search(before):
            total = first.value + second.value
            mentions.append(Fact("deaths", total, first.start, second.end, original[first.start : second.end]))
    return mentions


_DIED_IN = re.compile(r"不治|死亡|身亡|抢救无效|救治无效|医治无效")


def _added_injured(mentions: list[Fact], scanned: str, original: str) -> list[Fact]:
    """Injured stated in two groups add up when the second is "the others" (5名伤员被送往甲医院，
    其余5名伤员在当地医院治疗 → 10; 1人轻微中毒已出院，另1人仍在住院 → 2), in another clause
    of the same sentence; never a part picked out of a total (其中…)."""
    hurt = sorted(
        (m for m in mentions if m.field == "injured" and m.kind in ("total", "poisoned")), key=lambda m: m.start
    )
    for first, second in pairwise(hurt):
        between = scanned[first.end : second.start]
        if (
            first.end > second.start
            or second.start - first.end > 60
            or _SENTENCE_END.search(between)
            or _AMONG_WORD.search(between)
            or not _CLAUSE_BREAK.search(between)
        ):
            continue
        clause_end = _CLAUSE_BREAK.search(scanned, first.end)
        if _DIED_IN.search(scanned, first.end, clause_end.start() if clause_end else len(scanned)):
            continue  # the first group died (1名男子昏迷送院后证实不治，另有7人…): not injured
        if _MORE.search(scanned, max(first.end, second.start - 8), second.start):
            total = first.value + second.value
            mentions.append(Fact("injured", total, first.start, second.end, original[first.start : second.end]))
    return mentions


def _part_updates(mentions: list[Fact], scanned: str) -> list[Fact]:
    """An update inside a breakdown (现已164人遇难，其中，甲县遇难人数增至117人…) is a part's
    figure: it does not replace the total stated before 其中 / 当中."""
    out = []
    for m in mentions:
        if m.update:
            sentence_start = _start(scanned, m.start, _SENTENCE_CHARS)
            among = max(scanned.rfind(word, sentence_start, m.start) for word in ("其中", "当中"))
            # (Only a breakdown, 其中，/当中，甲县…: in 寻获其中4人…仍有3人下落不明 the update is the total.)
            if (
                among >= 0
                and scanned[among + 2 : among + 3] in ("，", ",", "：", ":")
                and any(
                    o.field == m.field and not o.update and sentence_start <= o.start and o.end <= among
                    for o in mentions
                )
            ):
                m = replace(m, update=False)
        out.append(m)
    return out


# Missing people who were found: 1名失联人员被找到, 搜救出31名失联人员，均无生命体征.
_FOUND_BEFORE = re.compile(
    r"(?:搜救出|找到|寻获|寻回|救出|打捞出|打捞起|(?<![未没])发现(?:了)?)[^，,；;。！？!?\n\d]{0,4}$"
)
# (Not 失联的4人已找到2人: a part of them was found.)
_FOUND_AFTER = re.compile(
    r"^[^，,；;。！？!?\n\d零〇一二两三四五六七八九十]{0,8}?(?<![未没])"
    r"(?:被找到|已找到|找到|被搜寻到|搜寻到|寻获|全部搜救出来|搜救出来|获救|均无生命|已无生命|遗体|平安|安全|"
    r"已确认死亡|确认死亡|已死亡|已遇难|全部溺水死亡|均已死亡|全部遇难)"
    r"(?![\d零〇一二两三四五六七八九十])"
)


# ... and found dead (发现1名失联人员，目前已死亡; 发现了2名失踪者，可惜都已经没有了生命体征): deaths.
_DEAD_AFTER = re.compile(
    r"^(?:[^，,；;。！？!?\n\d]{0,4}?[，,])?[^，,；;。！？!?\n\d零〇一二两三四五六七八九十]{0,10}?(?<![未没])"
    r"(?:已确认死亡|确认死亡|已死亡|已遇难|均已死亡|全部遇难|(?:已经?|均|都)?(?:没有了?|无)(?:生命体征|生命迹象))"
)


def _found_missing(mentions: list[Fact], scanned: str) -> list[Fact]:
    out = []
    for m in mentions:
        if m.field == "missing" and (
            _FOUND_BEFORE.search(scanned, max(0, m.start - 8), m.start)
            or _FOUND_AFTER.search(scanned[m.end : m.end + 16])
        ):
            if _DEAD_AFTER.search(scanned[m.end : m.end + 20]) and m.kind == "total":
                out.append(replace(m, field="deaths", update=False))
            continue
        out.append(m)
    return out


def _hurt_then_died(mention: Fact, death: Fact, clause_start: int) -> bool:
    return (
        mention.field in ("injured", "serious_injured")
        and mention.start >= death.start
        and mention.end <= clause_start
        and mention.value == death.value
    )


def _masked(text: str) -> str:
    """Dates, ages, ordinals and measures blanked out (same length)."""
    return MASK_PATTERN.sub(lambda m: "□" * len(m.group(0)), text) if _HAS_NUMBER.search(text) else text


def _subjectless(clause: str) -> bool:
    """A death clause without a subject and without a count (…，经市第一医院抢救无效死亡)."""
    if not _HAS_NUMBER.search(clause):
        return SUBJECTLESS_DEATH.match(clause) is not None
    if not _DEATH_WORD.search(clause):
        return False
    masked = _masked(clause)
    return SUBJECTLESS_DEATH.match(masked) is not None and not _HAS_NUMBER.search(masked)


def _sentence_start(text: str, position: int) -> int:
    return _start(text, position, _STATEMENT_CHARS)


def _carried_subject(
    text: str, sentence_start: int, clause: re.Match[str], original: str, field: str = "deaths"
) -> list[Fact]:
    """Deaths (or injured) of a clause without a subject (…坠楼，当场身亡 / …8人，全部受伤): the
    last people named earlier in the same sentence (a count, or one victim by role), if any."""
    before = MASK_PATTERN.sub(lambda m: "□" * len(m.group(0)), text[sentence_start : clause.start()])
    subjects = list(SUBJECT.finditer(before))
    if not subjects:
        return []
    subject = subjects[-1]
    if (
        before[subject.end() : subject.end() + 3].startswith(("分别", "中有", "当中"))
        or "其中" in before[subject.end() :]
    ):
        return []  # 3名伤者分别为…，无呼吸心跳 / 两人受困，其中…不治: the clause is about one of them
    if subject.group("one"):
        value, upper, qualifier = 1.0, None, "implied"
    else:
        parsed = _parse_count(subject)
        if parsed is None:
            return []
        value, upper, qualifier = parsed
    verb = (SUBJECTLESS_DEATH if field == "deaths" else SUBJECTLESS_INJURY).match(_masked(clause.group(0)))
    end = clause.start() + (verb.end() if verb else 0)
    start = sentence_start + subject.start()
    return [Fact(field, value, start, end, original[start:end], qualifier=qualifier, upper=upper)]


def _clause_mentions(clause: str, offset: int, original: str) -> list[Fact]:
    masked = MASK_PATTERN.sub(lambda m: "□" * len(m.group(0)), clause)
    patterns = PEOPLE_PATTERNS if NUMERAL.search(masked) else _NO_NUMERAL_PATTERNS
    found = list(_scan(masked, original, patterns, offset))
    if patterns is PEOPLE_PATTERNS and COORD_GATE.search(masked):
        found += _scan(masked, original, COORD_PATTERNS, offset)
    if patterns is PEOPLE_PATTERNS and LEAD_GATE.search(masked):
        found += _scan(masked, original, LEAD_PATTERNS, offset)
    if "损" in clause:
        found += _scan(clause, original, LOSS_PATTERNS, offset)
    return found


def _scan(haystack: str, original: str, patterns: tuple[FactPattern, ...], offset: int) -> Iterable[Fact]:
    seen: set[tuple[str, int]] = set()
    for pattern in patterns:
        if pattern.gate is not None and pattern.gate.search(haystack) is None:
            continue
        for match in pattern.regex.finditer(haystack):
            if _not_victims(pattern, match, haystack):
                continue
            fact = _fact_from(pattern, match, original, offset)
            key = (fact.field if fact else "", match.start("num"))
            if fact is not None and key not in seen:
                seen.add(key)
                yield fact


def _not_victims(pattern: FactPattern, match: re.Match[str], haystack: str) -> bool:
    """A count right after 被 is the agent (被五名学生殴打致重伤), one right after a Latin letter
    is part of a code (H1N1死亡); 伤者 named as the one injured says nothing new."""
    start = match.start()
    if pattern.implied:
        return pattern.field == "injured" and match.group("num") == "伤者"
    if start == 0 or start not in (match.start("num"), match.start("pre") if "pre" in match.re.groupindex else -1):
        return False
    before = haystack[start - 1]
    return before == "被" or ("A" <= before <= "Z") or ("a" <= before <= "z")


def _fact_from(pattern: FactPattern, match: re.Match[str], original: str, offset: int) -> Fact | None:
    if pattern.implied:
        parsed: tuple[float, float | None, str] | None = (1.0, None, "implied")
    elif pattern.summed:
        parsed = _sum_items(match)
    else:
        parsed = _parse_count(match)
    if parsed is None:
        return None
    value, upper, qualifier = parsed
    pre = match.groupdict().get("pre") or ""
    name = "serious_injured" if pattern.kind == "serious" else pattern.field
    return Fact(
        field=name,
        value=value,
        start=offset + match.start(),
        end=offset + match.end(),
        text=original[offset + match.start() : offset + match.end()],
        kind=pattern.kind,
        qualifier=qualifier,
        upper=upper,
        update=any(w in pre for w in _UPDATE_WORDS) and (name == "missing" or not pre.startswith(_STILL)),
    )


def _parse_count(match: re.Match[str]) -> tuple[float, float | None, str] | None:
    num = match.group("num")
    groups = match.groupdict()
    scale = _scale(groups.get("mul") or "")
    base = _base_value(num)
    if base is None:
        return None
    value, upper = base[0] * scale, (None if base[1] is None else base[1] * scale)
    if groups.get("num2"):
        high = parse_number(groups["num2"])
        upper = None if high is None else high * scale
    return value, upper, _qualifier(match, num, upper)


def _sum_items(match: re.Match[str]) -> tuple[float, float | None, str] | None:
    """三名男乘客和一名女乘客 → 4 (the items of a coordinated list, added up)."""
    total, more = 0.0, False
    for item in COORD_ITEM.finditer(match.group("num")):
        number = item.group("n").rstrip("余多")
        value = parse_number(number)
        if value is None:
            return None
        total += value
        more = more or number != item.group("n")
    if match.groupdict().get("lead"):
        total += 1
    pre = match.group("pre") or ""
    more = more or any(w in pre for w in ("超", "逾", "至少", "不少于"))
    return total, None, "more_than" if more else ("approx" if "约" in pre else "exact")


def _base_value(num: str) -> tuple[float, float | None] | None:
    if num in _VAGUE_VALUES:
        return _VAGUE_VALUES[num], None
    if num in _NEARLY_VALUES:
        return _NEARLY_VALUES[num], None
    if num in _PAIR_VALUES:
        return _PAIR_VALUES[num], None
    adjacent = parse_adjacent_range(num)
    if adjacent is not None:
        return adjacent
    value = parse_number(num)
    return None if value is None else (value, None)


def _scale(mul: str) -> float:
    scale = 1.0
    for char in mul:
        scale *= MULTIPLIERS[char]
    return scale


def _qualifier(match: re.Match[str], num: str, upper: float | None) -> str:
    pre = match.groupdict().get("pre") or ""
    groups = match.groupdict()
    if num in _VAGUE_VALUES:
        return "vague"
    if upper is not None:
        return "range"
    if num in _NEARLY_VALUES or pre.endswith("近"):
        return "nearly"
    if groups.get("q") or groups.get("q2") or any(w in pre for w in ("超", "逾", "至少", "不少于")):
        return "more_than"
    if "约" in pre:
        return "approx"
    return "exact"


def _in_statistics(text: str, position: int) -> bool:
    clause_start = _start(text, position, _STATEMENT_CHARS)
    # (A rate per population, 每10万人死亡, starts where the count does.)
    if text[position - 1 : position] == "每" or STATISTICS_AT.match(text, position):
        return True
    if STATISTICS_PATTERN.search(text, clause_start, position + 1) is not None:
        return True
    ends = CLAUSE_START.search(text, position)
    return STATISTICS_SENTENCE.search(text, clause_start, ends.start() if ends else len(text)) is not None


def _zero_mentions(text: str) -> Iterable[Fact]:
    for match in ZERO_PATTERN.finditer(text):
        names = ZERO_FIELDS[match.group("what") or match.group("what2")]
        if match.group("what3"):  # 未造成人员死亡或受伤: both
            names = ZERO_FIELDS["伤亡"]
        for name in names:
            yield Fact(name, 0.0, match.start(), match.end(), match.group(0), kind="zero")


def resolve(mentions: list[Fact]) -> Facts:
    """Choose one fact per field from all statements (see module docstring)."""
    by_field: dict[str, list[Fact]] = {name: [] for name in FIELDS}
    for mention in mentions:
        by_field[mention.field].append(mention)
    chosen = {name: _choose(facts) for name, facts in by_field.items()}
    chosen["injured"] = _injured_total(chosen["injured"], by_field)
    ordered = tuple(sorted(mentions, key=lambda m: (m.start, m.field)))
    return Facts(mentions=ordered, **chosen)


def _choose(facts: list[Fact]) -> Fact | None:
    if not facts:
        return None
    updates = [f for f in facts if f.update]
    if updates:
        return max(updates, key=lambda f: f.start)
    # A figure that another, more precise statement makes exact is dropped: 近万人 (8,000-10,000)
    # and 九千二百余人 state the same count, and the second says which.
    kept = [f for f in facts if not any(_refines(g, f) for g in facts)]
    return max(kept or facts, key=lambda f: (f.value, -f.start))


# How precisely a qualifier states a count (exact > 约 / 余 / range > 近 > 数十 …).
_PRECISION = {"exact": 3, "approx": 2, "more_than": 2, "range": 2, "nearly": 1, "vague": 0}


def _refines(precise: Fact, vague: Fact) -> bool:
    """``precise`` states a count ``vague`` allows, more precisely (9,200 within 近万)."""
    if _PRECISION.get(precise.qualifier, -1) <= _PRECISION.get(vague.qualifier, 3):
        return False
    low, high = _bounds(vague)
    return low <= precise.value <= high


def _bounds(fact: Fact) -> tuple[float, float]:
    """The counts a statement allows: 近30 → 24-30, 约50 → 40-60, 30余 → 30-39, 数百 → 200-999."""
    value = fact.value
    if fact.qualifier == "nearly":
        return value * 0.8, value
    if fact.qualifier == "approx":
        return value * 0.8, value * 1.2
    if fact.qualifier == "range":
        return value, fact.upper if fact.upper is not None else value
    if fact.qualifier == "vague":
        return value, value * 10 - 1
    if fact.qualifier == "more_than":
        if "余" in fact.text or "多" in fact.text:
            unit = 1.0
            while value >= unit * 10 and value % (unit * 10) == 0:
                unit *= 10
            return value, value + unit - 1 if unit > 1 else value + 1
        return value, float("inf")
    return value, value


def _injured_total(total: Fact | None, by_field: dict[str, list[Fact]]) -> Fact | None:
    """Total injured: the stated total, or the sum of 重伤 + 中度伤 + 轻伤 + 轻微伤 if that is larger."""
    totals = [f for f in by_field["injured"] if f.kind in ("total", "poisoned", "zero")]
    parts = [_choose([f for f in by_field["injured"] if f.kind == k]) for k in ("moderate", "light", "minor")]
    parts.append(_choose(by_field["serious_injured"]))
    present = [p for p in parts if p is not None]
    # Each hospital's intake (A医院收治4名伤者，B医院收治3名) is a part of the total.
    admitted = [f for f in by_field["injured"] if f.kind == "admitted"]
    if admitted and not present:
        present = admitted
    stated = _choose(totals)
    summed = sum(p.value for p in present)
    if stated is not None and (stated.value >= summed or stated.update):
        return stated
    if not present:
        return total
    first = min(present, key=lambda p: p.start)
    text = "+".join(p.text for p in sorted(present, key=lambda p: p.start))
    return Fact("injured", summed, first.start, max(p.end for p in present), text, kind="sum")

"""Statutory grade (I–IV) of an emergency from its extracted facts and text (DOMAIN.md §3).

The schemes are data: ``grading_schemes.yaml`` beside this file (documented there field by field)
or a deployment's copy, whose event types replace the shipped ones (:func:`load_schemes`).

Each scheme is a list of criteria; a table criterion reaches a level when its value is at least
that level's threshold ("以上"包括本数, 493号令 Art. 3); a rule criterion reaches its level when all
its conditions hold (counts, keywords of the text, a stated duration, a collective unit). The grade
is the most severe level any criterion reaches ("或者": any one criterion suffices). Values are the
smallest counts the text supports (近30 counts as 29), so the grade never goes below what the facts
require; keyword criteria only ever raise it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from classifiers.facts import Facts
from classifiers.numerals import NUMBER_PATTERN, parse_number
from classifiers.types import EMERGENCY_CATEGORY, EventCategory, EventLevel, EventType

_LEVELS = (EventLevel.I, EventLevel.II, EventLevel.III, EventLevel.IV)
SCHEMES_FILE = "grading_schemes.yaml"


def _deaths(f: Facts) -> float:
    return f.at_least("deaths")


def _missing(f: Facts) -> float:
    return f.at_least("missing")


def _injured(f: Facts) -> float:
    return f.at_least("injured")


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


def _sick(f: Facts) -> float:
    # The extracted ``injured`` counts each victim once (16人出现不适症状，其中3人经抢救无效死亡 →
    # 13 injured, 3 dead), so the people poisoned are the injured plus the dead.
    return f.at_least("injured") + f.at_least("deaths")


def _dead_or_missing(f: Facts) -> float:
    return f.at_least("deaths") + f.at_least("missing")


def _evacuated(f: Facts) -> float:
    return f.at_least("people_involved", kinds=("evacuated",))


def _participants(f: Facts) -> float:
    return f.at_least("people_involved", kinds=("participants",))


# The quantities a criterion can read: name in the YAML → (name shown to people, reader).
QUANTITIES: dict[str, tuple[str, Callable[[Facts], float]]] = {
    "deaths": ("死亡", _deaths),
    "missing": ("失踪", _missing),
    "dead_or_missing": ("死亡和失踪", _dead_or_missing),
    "injured": ("受伤", _injured),
    "serious_injured": ("重伤", _serious),
    "poisoned_or_serious": ("中毒或重伤", _poisoned_or_serious),
    "sick": ("中毒(含死亡)", _sick),
    "economic_loss_cny": ("直接经济损失(元)", _loss),
    "evacuated": ("疏散转移人员", _evacuated),
    "participants": ("参与人数", _participants),
}


@dataclass(frozen=True)
class Count:
    """A rule's condition on one quantity: at least ``threshold`` (more than it when ``strict``)."""

    quantity: str
    threshold: float
    strict: bool = False

    def holds(self, value: float) -> bool:
        return value > self.threshold if self.strict else value >= self.threshold


@dataclass(frozen=True)
class Criterion:
    """A table (``quantity`` + ``thresholds``) or a rule (``level`` + conditions)."""

    label: str
    source: str | None = None
    quantity: str | None = None
    thresholds: tuple[tuple[EventLevel, float], ...] = ()  # most severe level first
    level: EventLevel | None = None
    counts: tuple[Count, ...] = ()
    keywords: tuple[tuple[str, ...], ...] = ()
    ignore: tuple[str, ...] = ()
    within_text: bool = False
    near: int | None = None  # the words stand at most this many characters apart, in one clause
    hours_at_least: float | None = None
    collective_unit: bool = False


@dataclass(frozen=True)
class Scheme:
    source: str
    floor: EventLevel | None  # the grade of any event of this kind that reaches no criterion
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class GradingSchemes:
    """The scheme of every graded event type (build with :func:`load_schemes`)."""

    schemes: Mapping[EventType, Scheme]


class GradingConfigError(ValueError):
    """A grading schemes mapping is invalid: ``path`` is the key path (e.g. ("社会安全", "criteria",
    0, "at_least", "II")), ``problem`` what is wrong and ``fix`` how to put it right."""

    def __init__(self, path: tuple[str | int, ...], problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = path, problem, fix
        where = format_key(path)
        super().__init__(f"grading schemes: {where}: {problem}; fix: {fix}" if where else f"{problem}; fix: {fix}")


def format_key(path: Sequence[str | int]) -> str:
    """``社会安全.criteria[0].at_least.II`` (the form monitor.policy error messages use)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@lru_cache(maxsize=1)
def default_schemes() -> GradingSchemes:
    """The shipped schemes (``classifiers/grading_schemes.yaml``)."""
    text = resources.files("classifiers").joinpath(SCHEMES_FILE).read_text("utf-8")
    return GradingSchemes(_parse(yaml.safe_load(text)))


def load_schemes(config: Mapping[str, Any] | None) -> GradingSchemes:
    """The shipped schemes with those of ``config`` (same layout as grading_schemes.yaml) in place
    of the shipped scheme of each event type it lists; raises :class:`GradingConfigError`."""
    if config is None:
        return default_schemes()
    return GradingSchemes({**default_schemes().schemes, **_parse(config)})


# --- validation ------------------------------------------------------------------------------

_GRADED_TYPES = ", ".join(t.value for t in EMERGENCY_CATEGORY)
_LEVEL_NAMES = ", ".join(lv.value for lv in _LEVELS)
_SCHEME_KEYS = ("source", "floor", "criteria")
_TABLE_KEYS = ("label", "source", "quantity", "at_least")
_RULE_KEYS = (
    "label", "source", "level", "counts", "keywords", "ignore", "within", "near", "hours_at_least", "collective_unit"
)  # fmt: skip
_Path = tuple[str | int, ...]


def _parse(config: Any) -> dict[EventType, Scheme]:
    if not isinstance(config, Mapping) or not config:
        raise GradingConfigError(
            (), "the file must map event types to schemes", f"start with an event type ({_GRADED_TYPES}) and its block"
        )
    schemes: dict[EventType, Scheme] = {}
    for key, block in config.items():
        try:
            event_type = EventType(str(key))
        except ValueError:
            event_type = None
        if event_type not in EMERGENCY_CATEGORY:
            raise GradingConfigError((str(key),), f"'{key}' is not a graded event type", f"use one of {_GRADED_TYPES}")
        assert event_type is not None
        schemes[event_type] = _scheme(block, (str(key),))
    return schemes


def _scheme(block: Any, path: _Path) -> Scheme:
    _mapping(block, path, "write the block as `source:`, `floor:` and `criteria:` lines")
    _only(block, path, _SCHEME_KEYS)
    source = _text(block, "source", path, "the document the thresholds come from, e.g. 国务院令第493号 第三条")
    if "floor" not in block:
        raise GradingConfigError(
            path,
            "missing required key 'floor'",
            "add `floor: IV` (grade when no criterion is reached) or `floor: null`",
        )
    floor = None if block["floor"] is None else _level(block["floor"], (*path, "floor"), "or null (需人工研判)")
    criteria = block.get("criteria")
    if not isinstance(criteria, list):
        raise GradingConfigError(
            (*path, "criteria"),
            f"expected a list of criteria, got {criteria!r}",
            "write `criteria:` and `- label: …` items",
        )
    return Scheme(source, floor, tuple(_criterion(c, (*path, "criteria", i)) for i, c in enumerate(criteria)))


def _criterion(raw: Any, path: _Path) -> Criterion:
    _mapping(raw, path, "write the criterion as `label:` plus a table or rule (see grading_schemes.yaml)")
    label = _text(raw, "label", path, "the criterion as people should read it, e.g. 死亡")
    source = _text(raw, "source", path, "") if "source" in raw else None
    if "at_least" in raw and "level" not in raw:
        return _table(raw, path, label, source)
    if "level" not in raw:
        raise GradingConfigError(
            path,
            "a criterion needs `quantity` with `at_least: {I: …}` (a table) or `level` with conditions (a rule)",
            "add `level: I` … `IV` and `counts:`/`keywords:`, or `quantity:` and `at_least: {I: …, II: …}`",
        )
    _only(raw, path, _RULE_KEYS, "a rule takes ")
    level = _level(raw["level"], (*path, "level"))
    counts = tuple(_count(c, (*path, "counts", i)) for i, c in enumerate(_list(raw, "counts", path)))
    text_options = _text_conditions(raw, path)
    collective = raw.get("collective_unit", False)
    if collective is not True and collective is not False:
        raise GradingConfigError(
            (*path, "collective_unit"), f"expected true or false, got {collective!r}", "write true"
        )
    if not (counts or text_options["keywords"] or collective):
        raise GradingConfigError(
            path, "a rule needs at least one condition", "add `counts:`, `keywords:` or `collective_unit: true`"
        )
    return Criterion(label, source, level=level, counts=counts, collective_unit=collective, **text_options)


def _text_conditions(raw: Mapping[str, Any], path: _Path) -> dict[str, Any]:
    """keywords, ignore, within, near and hours_at_least of a rule (Criterion's field names)."""
    keywords = _keywords(raw, path)
    ignore = _words(raw.get("ignore", []), (*path, "ignore"))
    if ignore and not keywords:
        raise GradingConfigError((*path, "ignore"), "`ignore` without `keywords`", "add `keywords:` or remove `ignore`")
    within = raw.get("within", "sentence")
    if within not in ("sentence", "text"):
        raise GradingConfigError((*path, "within"), f"{within!r} is not allowed", "use sentence or text")
    near = raw.get("near")
    if near is not None and (isinstance(near, bool) or not isinstance(near, int) or near < 0 or len(keywords) < 2):
        raise GradingConfigError(
            (*path, "near"),
            f"expected a whole number of characters and two or more keyword groups, got {near!r}",
            "write e.g. `near: 4` under `keywords:` of two or more groups, or remove it",
        )
    hours = None
    if "hours_at_least" in raw:
        hours = _number(raw["hours_at_least"], (*path, "hours_at_least"))
        if not keywords:
            raise GradingConfigError(
                (*path, "hours_at_least"),
                "a duration is looked for in the sentence the keywords matched",
                "add `keywords:` or remove `hours_at_least`",
            )
    return {
        "keywords": keywords,
        "ignore": ignore,
        "within_text": within == "text",
        "near": near,
        "hours_at_least": hours,
    }


def _table(raw: Mapping[str, Any], path: _Path, label: str, source: str | None) -> Criterion:
    _only(raw, path, _TABLE_KEYS, "a table takes ")
    quantity = _quantity(raw, path)
    table = raw["at_least"]
    where = (*path, "at_least")
    _mapping(table, where, "write e.g. `at_least: {I: 30, II: 10, III: 3}`")
    if not table:
        raise GradingConfigError(where, "no level given", "write e.g. `at_least: {I: 30, II: 10, III: 3}`")
    thresholds: list[tuple[EventLevel, float]] = []
    for key, value in table.items():
        level = _level(key, (*where, str(key)))
        thresholds.append((level, _number(value, (*where, str(key)))))
    thresholds.sort(key=lambda pair: pair[0].rank)
    for (higher, a), (lower, b) in itertools.pairwise(thresholds):
        if a <= b:
            raise GradingConfigError(
                (*where, lower.value),
                f"{lower.value} needs {b:g} but the more severe {higher.value} only {a:g}: "
                f"{lower.value} is never reached",
                f"make the numbers go down from I to IV (e.g. {higher.value}: {b:g}, {lower.value}: {a:g})",
            )
    return Criterion(label, source, quantity=quantity, thresholds=tuple(thresholds))


def _count(raw: Any, path: _Path) -> Count:
    _mapping(raw, path, "write e.g. `{quantity: deaths, at_least: 1}`")
    _only(raw, path, ("quantity", "at_least", "more_than"), "a count takes ")
    quantity = _quantity(raw, path)
    if ("at_least" in raw) == ("more_than" in raw):
        raise GradingConfigError(path, "a count needs one of at_least, more_than", "write e.g. `at_least: 1`")
    key = "at_least" if "at_least" in raw else "more_than"
    return Count(quantity, _number(raw[key], (*path, key)), strict=key == "more_than")


def _keywords(raw: Mapping[str, Any], path: _Path) -> tuple[tuple[str, ...], ...]:
    groups = _list(raw, "keywords", path)
    if groups and all(isinstance(g, str) for g in groups):
        groups = [groups]  # one group written as a flat list
    return tuple(_words(g, (*path, "keywords", i), required=True) for i, g in enumerate(groups))


def _words(raw: Any, path: _Path, *, required: bool = False) -> tuple[str, ...]:
    if not isinstance(raw, list) or (required and not raw):
        raise GradingConfigError(path, f"expected a list of words, got {raw!r}", "write e.g. `[肺鼠疫, 肺炭疽]`")
    for i, word in enumerate(raw):
        if not isinstance(word, str | int) or isinstance(word, bool) or not str(word).strip():
            raise GradingConfigError((*path, i), f"expected a word, got {word!r}", "write the word as text")
    return tuple(str(w).strip() for w in raw)


def _list(raw: Mapping[str, Any], key: str, path: _Path) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise GradingConfigError((*path, key), f"expected a list, got {value!r}", f"write `{key}:` as a list `[…]`")
    return value


def _quantity(raw: Mapping[str, Any], path: _Path) -> str:
    name = raw.get("quantity")
    if name not in QUANTITIES:
        problem = "missing required key 'quantity'" if name is None else f"unknown quantity {name!r}"
        raise GradingConfigError((*path, "quantity"), problem, f"use one of {', '.join(QUANTITIES)}")
    return str(name)


def _number(value: Any, path: _Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise GradingConfigError(path, f"expected a number ≥ 0, got {value!r}", "write digits, e.g. 100000000 for 1亿")
    return float(value)


def _level(value: Any, path: _Path, also: str = "") -> EventLevel:
    try:
        return EventLevel(str(value))
    except ValueError:
        raise GradingConfigError(
            path, f"{value!r} is not a grade", f"use one of {_LEVEL_NAMES} {also}".strip()
        ) from None


def _text(raw: Mapping[str, Any], key: str, path: _Path, example: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problem = f"missing required key '{key}'" if value is None else f"expected text, got {value!r}"
        raise GradingConfigError((*path, key) if key in raw else path, problem, f"add `{key}:` {example}".strip())
    return value.strip()


def _mapping(value: Any, path: _Path, fix: str) -> None:
    if not isinstance(value, Mapping):
        raise GradingConfigError(path, f"expected a mapping, got {value!r}", fix)


def _only(raw: Mapping[str, Any], path: _Path, allowed: Sequence[str], what: str = "") -> None:
    for key in raw:
        if key not in allowed:
            raise GradingConfigError((*path, str(key)), f"unknown key '{key}'", f"{what}only: {', '.join(allowed)}")


# --- grading ---------------------------------------------------------------------------------

_CATEGORY_DEFAULT = {
    EventCategory.ACCIDENT: EventType.WORK_SAFETY,
    EventCategory.NATURAL_DISASTER: EventType.NATURAL_DISASTER,
    EventCategory.SOCIAL_SECURITY: EventType.SOCIAL_SECURITY,
    EventCategory.PUBLIC_HEALTH: EventType.PUBLIC_HEALTH,
}
_SENTENCE_END = re.compile(r"[。！？；!?;\n]+")
_CLAUSE_BREAK = re.compile(r"[，,、：:（）()“”\"]")
# A stated duration: 8小时, 十余个小时, 两天; not 近8小时 / 不到8小时 (less than that).
_DURATION = re.compile(
    rf"(?<!第)(?<!每)(?<!近)(?<!不到)(?<!不足)(?<!未满)(?<!不满)(?<!不超过)(?<!未超过)({NUMBER_PATTERN})(?:余|多)?(?:个)?(?:多|半)?(小时|钟头|天|昼夜)"
)


def grade(
    kind: EventType | EventCategory | str | None,
    facts: Facts,
    *,
    collective_unit: bool = False,
    text: str | None = None,
    schemes: GradingSchemes | None = None,
) -> tuple[EventLevel | None, list[str]]:
    """Grade an event of ``kind`` (event type, category, or their string values).

    ``collective_unit`` marks food poisoning in a school, kindergarten, building site or other
    collective unit (§3.6 较大). ``text`` is the normalised text (classifiers.normalize): keyword
    criteria are checked only when it is given. ``schemes`` defaults to the shipped schemes.
    Returns (level or None, reasons in Chinese).
    """
    event_type = _event_type(kind)
    if event_type is None:
        return None, ["非突发事件类型，不分级"]
    scheme = (schemes or default_schemes()).schemes.get(event_type)
    if scheme is None:
        return None, [f"{event_type.value}：无可由数字判定的分级标准，需人工研判"]
    return _apply(scheme, facts, collective_unit, text)


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


def _apply(
    scheme: Scheme, facts: Facts, collective_unit: bool, text: str | None
) -> tuple[EventLevel | None, list[str]]:
    best: EventLevel | None = None
    reasons: list[str] = []
    for criterion in scheme.criteria:
        if criterion.level is None:
            reached, reason = _table_reached(criterion, facts)
        else:
            reached, reason = _rule_reached(criterion, scheme, facts, collective_unit, text)
        if reached is not None:
            reasons.append(reason)
            best = reached if best is None or reached.rank < best.rank else best
    if best is None and scheme.floor is not None:
        best = scheme.floor
        reasons.append(f"未达更高等级标准 → {best.value}级")
    if best is None:
        reasons.append("未达可判定的分级标准，需人工研判")
    reasons.append(f"依据：{scheme.source}")
    return best, reasons


def _table_reached(criterion: Criterion, facts: Facts) -> tuple[EventLevel | None, str]:
    assert criterion.quantity is not None
    value = QUANTITIES[criterion.quantity][1](facts)
    for level, threshold in criterion.thresholds:
        if value >= threshold:
            cited = f"（依据：{criterion.source}）" if criterion.source else ""
            return level, f"{criterion.label}{value:g} ≥ {threshold:g} → {level.value}级{cited}"
    return None, ""


def _rule_reached(
    criterion: Criterion, scheme: Scheme, facts: Facts, collective_unit: bool, text: str | None
) -> tuple[EventLevel | None, str]:
    if criterion.collective_unit and not collective_unit:
        return None, ""
    shown: list[str] = []
    for count in criterion.counts:
        name, read = QUANTITIES[count.quantity]
        value = read(facts)
        if not count.holds(value):
            return None, ""
        shown.append(f"{name}{value:g}")
    if criterion.keywords:
        if text is None:
            return None, ""
        found = _keywords_found(criterion, text)
        if found is None:
            return None, ""
        words, hours = found
        shown.insert(0, "文中" + "".join(f"“{w}”" for w in words))
        if hours is not None:
            shown.append(f"持续{hours:g}小时")
    if criterion.collective_unit:
        shown.append("发生在集体单位")
    level = criterion.level
    assert level is not None
    source = criterion.source or scheme.source
    return level, f"{criterion.label}：{'、'.join(shown)} → {level.value}级（依据：{source}）"


def _keywords_found(criterion: Criterion, text: str) -> tuple[list[str], float | None] | None:
    """The word of each group found in one sentence (or the text), and the duration it states."""
    for phrase in criterion.ignore:
        if phrase in text:
            text = text.replace(phrase, "\x00" * len(phrase))
    if not all(any(w in text for w in group) for group in criterion.keywords):
        return None
    pieces = [text] if criterion.within_text else _SENTENCE_END.split(text)
    for piece in pieces:
        words = _words_in(piece, criterion.keywords, criterion.near)
        if words is None:
            continue
        hours = None
        if criterion.hours_at_least is not None:
            hours = _longest_hours(piece)
            if hours is None or hours < criterion.hours_at_least:
                continue
        return words, hours
    return None


def _words_in(piece: str, groups: Sequence[Sequence[str]], near: int | None) -> list[str] | None:
    """A word of every group in ``piece``; with ``near``, words at most that many characters apart
    (in any order) with no punctuation between them (冲击县政府, 县政府大门遭冲击; not 受到冲击，县政府…)."""
    if near is None:
        found = [next((w for w in group if w in piece), None) for group in groups]
        return None if None in found else [w for w in found if w is not None]
    spots = [
        sorted(
            {(m.start(), m.start() + len(w), w) for w in group for m in re.finditer(re.escape(w), piece)},
            key=lambda spot: (spot[0], -spot[1]),  # the longest word at a place first (高速公路, not 高速)
        )
        for group in groups
    ]
    for first in spots[0]:
        chosen = _chain(piece, [first], spots[1:], near)
        if chosen is not None:
            return [w for _, _, w in chosen]
    return None


def _chain(
    piece: str, chosen: list[tuple[int, int, str]], rest: list[list[tuple[int, int, str]]], near: int
) -> list[tuple[int, int, str]] | None:
    if not rest:
        return chosen
    for spot in rest[0]:
        covered = sorted([*chosen, spot])
        gaps = [piece[a[1] : b[0]] for a, b in itertools.pairwise(covered)]
        if all(len(g) <= near and not _CLAUSE_BREAK.search(g) for g in gaps):
            found = _chain(piece, [*chosen, spot], rest[1:], near)
            if found is not None:
                return found
    return None


def _longest_hours(text: str) -> float | None:
    longest = None
    for match in _DURATION.finditer(text):
        number = parse_number(match.group(1))
        if number is None:
            continue
        hours = number * (24 if match.group(2) in ("天", "昼夜") else 1)
        longest = hours if longest is None else max(longest, hours)
    return longest

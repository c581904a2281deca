"""Owning unit (谁主管谁负责 + 属地): lead department, co-units, region, escalation flags.

DOMAIN.md §7 routing algorithm: the event type names the unit in charge of a hazard; otherwise
the routing model's class (7 corpus classes) and department keywords choose among the
departments of that class. 属地 comes from the gazetteer; several localities escalate the
owner to the higher-level 主管部门 (61号 §1.1), and vertical management is flagged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick_rs

from classifiers.gazetteer import Gazetteer, load_data_yaml
from classifiers.normalize import normalize

ALIAS_WEIGHT = 2  # a text naming the unit itself counts double
NAME_WEIGHT = 2  # a region named by its own name or alias …
PLACE_WEIGHT = 1  # … counts double a place inside it
KEYWORD_WEIGHT = 0.25  # score added per keyword point (capped) to the routing probability
KEYWORD_CAP = 4  # keyword points count up to this many …
NAME_CAP = 4  # … and the unit's own names (ALIAS_WEIGHT each) up to this many on top: a text that
# names a unit is stronger evidence than one more topic keyword, and a keyword flood cannot hide it
SECONDARY_FACTOR = 0.5  # non-default departments of a routing class start at half its probability


@dataclass(frozen=True)
class Unit:
    department: str | None
    region: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"department": self.department, "region": self.region}


@dataclass(frozen=True)
class UnitDecision:
    unit: Unit
    co_units: tuple[Unit, ...] = ()
    vertical_managed: bool = False
    multi_region: bool = False
    why: tuple[str, ...] = field(default=())


class _Matcher:
    """Leftmost-longest, non-overlapping occurrences of many terms (Aho-Corasick, in Rust):
    the same matches as a regex alternation preferring the longest term, ~5x faster than even a
    trie-shaped regex on 300-character documents."""

    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = sorted({t for t in terms if t})
        self._automaton = (
            ahocorasick_rs.AhoCorasick(
                self.terms,
                matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                store_patterns=True,
                implementation=ahocorasick_rs.Implementation.DFA,  # same matches, ~1.5x faster
            )
            if self.terms
            else None
        )

    def findall(self, text: str) -> list[str]:
        return [] if self._automaton is None else self._automaton.find_matches_as_strings(text)

    def find_with_starts(self, text: str) -> list[tuple[str, int]]:
        """Each occurrence and where it starts (character offset)."""
        if self._automaton is None:
            return []
        return [(self.terms[i], start) for i, start, _ in self._automaton.find_matches_as_indexes(text)]


class UnitResolver:
    """Holds the compiled gazetteer and unit rules; ``resolve`` is pure per document."""

    def __init__(self, gazetteer: Gazetteer, rules: Mapping[str, Any] | None = None) -> None:
        rules = rules or load_data_yaml("units.yaml")
        self.gazetteer = gazetteer
        known = set(gazetteer.departments)
        self.classes = {c: [d for d in ds if d in known] for c, ds in rules["routing_classes"].items()}
        # The first department of a class gets the class probability, the others SECONDARY_FACTOR of it.
        self._class_factors = {
            c: [(d, 1.0 if i == 0 else SECONDARY_FACTOR) for i, d in enumerate(ds)] for c, ds in self.classes.items()
        }
        self.event_units = rules["event_type_units"]
        self.rule_units = rules.get("rule_units") or {}
        self._term_weights: dict[str, list[tuple[str, int, bool]]] = {}  # term → (department, weight, is a name)
        for name, info in gazetteer.departments.items():
            for term, weight, is_name in (
                [(name, ALIAS_WEIGHT, True)]
                + [(a, ALIAS_WEIGHT, True) for a in info.aliases]
                + [(k, 1, False) for k in info.keywords]
            ):
                self._term_weights.setdefault(normalize(term), []).append((name, weight, is_name))
        self._terms = _Matcher(list(self._term_weights))
        # term → (region, weight): the region's own names count double, its places once.
        self._place_to_region: dict[str, tuple[str, int]] = {}
        for region, places in gazetteer.places.items():
            self._place_to_region.update({normalize(p): (region, PLACE_WEIGHT) for p in places if p})
        for region, aliases in gazetteer.regions.items():
            self._place_to_region.update({normalize(a): (region, NAME_WEIGHT) for a in [region, *aliases] if a})
        self._places = _Matcher(list(self._place_to_region))

    def keyword_scores(self, text: str) -> tuple[Counter[str], dict[str, list[str]]]:
        """Per department: points of the distinct names and keywords found (keywords 1 each up to
        KEYWORD_CAP, plus names ALIAS_WEIGHT each up to NAME_CAP), and which terms matched."""
        keywords: dict[str, int] = {}
        names: dict[str, int] = {}
        matched: dict[str, list[str]] = {}
        for term in set(self._terms.findall(text)):
            for department, weight, is_name in self._term_weights[term]:
                counts = names if is_name else keywords
                counts[department] = counts.get(department, 0) + weight
                if department in matched:
                    matched[department].append(term)
                else:
                    matched[department] = [term]
        scores = Counter({d: min(keywords.get(d, 0), KEYWORD_CAP) + min(names.get(d, 0), NAME_CAP) for d in matched})
        return scores, matched

    def regions(self, text: str) -> tuple[list[str], bool]:
        """The regions ``text`` is about, most mentioned first, and whether several are involved:
        the lead region has the most weighted mentions (names 2, places 1; ties go to the first
        mentioned); several regions are involved only when at least two are named by their own
        name and the runner-up has at least half the lead's weight. A name in a clause taking
        the injured to a hospital counts as a place."""
        scores: dict[str, int] = {}
        named: set[str] = set()
        care = _care_clauses(text)
        for match, start in self._places.find_with_starts(text):
            region, weight = self._place_to_region[match]
            if any(a <= start < b for a, b in care):
                weight = PLACE_WEIGHT  # where the injured are treated: a place, not the event's locality
            scores[region] = scores.get(region, 0) + weight
            if weight == NAME_WEIGHT:
                named.add(region)
        ranked = sorted(scores, key=lambda r: -scores[r])  # stable: first mentioned wins a tie
        several = len(named) >= 2 and len(ranked) >= 2 and scores[ranked[1]] * 2 >= scores[ranked[0]]
        return ([r for r in ranked if r in named] if several else ranked), several

    def resolve(
        self, text: str, event_type: str | None, routing: Mapping[str, float], rule: str | None = None
    ) -> UnitDecision:
        """Decide the owning unit for normalised ``text`` (see module docstring); ``rule`` names
        the keyword rule that set the type, if any (``rule_units`` of units.yaml)."""
        scores, matched = self.keyword_scores(text)
        unit_rule = self.rule_units.get(rule or "") or self.event_units.get(event_type or "") or {}
        lead, co, why = self._departments(event_type, unit_rule, routing, scores, matched)
        return self._with_locality(text, lead, co, why)

    def _departments(
        self,
        event_type: str | None,
        rule: Mapping[str, Any],
        routing: Mapping[str, float],
        scores: Counter[str],
        matched: dict[str, list[str]],
    ) -> tuple[str | None, list[str], list[str]]:
        rule_co = [d for d in rule.get("co", []) if d in self.gazetteer.departments]
        if rule.get("lead") in self.gazetteer.departments:
            why = [f"事件类型 {event_type} → {rule['lead']} 牵头（谁主管谁负责）"]
            if rule_co:
                why.append(f"事件类型 {event_type} → 协办 {'、'.join(rule_co)}")
            return rule["lead"], rule_co, why
        lead, co, why = self._by_topic(routing, scores, matched)
        extra = [d for d in rule_co if d != lead and d not in co]
        if extra:
            why.append(f"事件类型 {event_type} → 协办 {'、'.join(extra)}")
        return lead, co + extra, why

    def _by_topic(
        self, routing: Mapping[str, float], scores: Counter[str], matched: dict[str, list[str]]
    ) -> tuple[str | None, list[str], list[str]]:
        ranked = self._rank(routing, scores)
        if not ranked:
            return None, [], ["无可判定的主管部门"]
        lead = ranked[0][0]
        why = [
            f"主管部门 {lead}：分类 {_top(routing)}"
            + (f"，关键词 {'、'.join(sorted(matched[lead]))}" if lead in matched else "")
        ]
        co = [d for d, s in ranked[1:4] if scores[d] >= 1 and s >= SECONDARY_FACTOR * ranked[0][1]]
        for department in co:
            why.append(f"协办 {department}：关键词 {'、'.join(sorted(matched[department]))}")
        return lead, co, why

    def _rank(self, routing: Mapping[str, float], scores: Counter[str]) -> list[tuple[str, float]]:
        base: dict[str, float] = {}
        # Only the two likeliest classes can lift a department above a keyword-backed one.
        for routing_class, probability in sorted(routing.items(), key=_minus_probability)[:2]:
            for department, factor in self._class_factors.get(routing_class, ()):
                value = probability * factor
                if value > base.get(department, 0.0):
                    base[department] = value
                elif department not in base:
                    base[department] = 0.0
        combined = dict.fromkeys(scores, 0.0) | base
        for department in scores:
            combined[department] += KEYWORD_WEIGHT * scores[department]
        return sorted(combined.items(), key=_rank_key)

    def _with_locality(self, text: str, lead: str | None, co: list[str], why: list[str]) -> UnitDecision:
        regions, several = self.regions(text)
        info = self.gazetteer.departments.get(lead or "")
        vertical = bool(info and info.vertical_managed)
        if vertical:
            why.append(f"{lead} 实行垂直管理：上级部门办公厅(室)会同宣传部门组织协调")
        region = None if several or not regions else regions[0]
        co_units = [Unit(d, region) for d in co]
        if several:
            why.append(f"涉及多个地方（{'、'.join(regions)}）：上级政府主管部门为第一责任主体，各地按属地回应")
            co_units += [Unit(lead, r) for r in regions]
        elif region:
            others = f"（另提及 {'、'.join(regions[1:])}）" if len(regions) > 1 else ""
            why.append(f"属地：{region}{others}")
        return UnitDecision(Unit(lead, region), tuple(co_units), vertical, several, tuple(why))


# A clause about taking the injured to a hospital (伤员送往城东的市人民医院救治): the region it
# names is where they are treated, so it counts as one of that region's places (weaker evidence
# of 属地, never on its own a second locality; see Gazetteer).
_CLAUSE = re.compile(r"[^，,。；;！!？?\n]+")
_TO_CARE = re.compile(r"送往|送至|送到|送入|转往|转至|转到|转入|送医|就医|就诊|救治|抢救|住院|治疗")
_CARE_PLACE = re.compile(r"医院|卫生院|急救中心|医疗中心|诊所")


def _care_clauses(text: str) -> list[tuple[int, int]]:
    """Spans of the clauses that take someone to a hospital."""
    if not _CARE_PLACE.search(text):
        return []
    return [m.span() for m in _CLAUSE.finditer(text) if _CARE_PLACE.search(m.group()) and _TO_CARE.search(m.group())]


def _minus_probability(item: tuple[str, float]) -> float:
    return -item[1]


def _rank_key(item: tuple[str, float]) -> tuple[float, str]:
    return -item[1], item[0]


def _top(routing: Mapping[str, float]) -> str:
    if not routing:
        return "无"
    best = max(routing, key=lambda c: routing[c])
    return f"{best}({routing[best]:.2f})"

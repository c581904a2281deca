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

from classifiers.gazetteer import Gazetteer, load_data_yaml
from classifiers.normalize import normalize

ALIAS_WEIGHT = 2  # a text naming the unit itself counts double
KEYWORD_WEIGHT = 0.25  # score added per keyword point (capped) to the routing probability
KEYWORD_CAP = 4
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


def _alternation(terms: Sequence[str]) -> re.Pattern[str] | None:
    """A regex matching the longest of ``terms`` at each position, built as a character trie
    (Python's re does not factor a flat alternation of hundreds of words; a trie is ~5x faster)."""
    trie: dict[str, Any] = {}
    for term in {normalize(t) for t in terms if t}:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}
    return re.compile(_trie_pattern(trie)) if trie else None


def _trie_pattern(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _trie_pattern(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:  # a term ends here: the longer continuation is optional (greedy = longest)
        return f"(?:{body})?"
    return body


class UnitResolver:
    """Holds the compiled gazetteer and unit rules; ``resolve`` is pure per document."""

    def __init__(self, gazetteer: Gazetteer, rules: Mapping[str, Any] | None = None) -> None:
        rules = rules or load_data_yaml("units.yaml")
        self.gazetteer = gazetteer
        known = set(gazetteer.departments)
        self.classes = {c: [d for d in ds if d in known] for c, ds in rules["routing_classes"].items()}
        self.event_units = rules["event_type_units"]
        self._term_weights: dict[str, list[tuple[str, int]]] = {}
        for name, info in gazetteer.departments.items():
            for term, weight in (
                [(name, ALIAS_WEIGHT)] + [(a, ALIAS_WEIGHT) for a in info.aliases] + [(k, 1) for k in info.keywords]
            ):
                self._term_weights.setdefault(normalize(term), []).append((name, weight))
        self._terms = _alternation(list(self._term_weights))
        self._place_to_region = {normalize(a): r for r, aliases in gazetteer.regions.items() for a in [r, *aliases]}
        self._places = _alternation(list(self._place_to_region))

    def keyword_scores(self, text: str) -> tuple[Counter[str], dict[str, list[str]]]:
        """Per department: weighted count of distinct names/keywords found, and which."""
        scores: Counter[str] = Counter()
        matched: dict[str, list[str]] = {}
        if self._terms is None:
            return scores, matched
        for term in set(self._terms.findall(text)):
            for department, weight in self._term_weights[term]:
                scores[department] += weight
                matched.setdefault(department, []).append(term)
        return scores, matched

    def regions(self, text: str) -> list[str]:
        if self._places is None:
            return []
        return sorted({self._place_to_region[m] for m in self._places.findall(text)})

    def resolve(self, text: str, event_type: str | None, routing: Mapping[str, float]) -> UnitDecision:
        """Decide the owning unit for normalised ``text`` (see module docstring)."""
        scores, matched = self.keyword_scores(text)
        lead, co, why = self._departments(event_type, routing, scores, matched)
        return self._with_locality(text, lead, co, why)

    def _departments(
        self, event_type: str | None, routing: Mapping[str, float], scores: Counter[str], matched: dict[str, list[str]]
    ) -> tuple[str | None, list[str], list[str]]:
        rule = self.event_units.get(event_type or "")
        if rule and rule["lead"] in self.gazetteer.departments:
            co = [d for d in rule.get("co", []) if d in self.gazetteer.departments]
            return rule["lead"], co, [f"事件类型 {event_type} → {rule['lead']} 牵头（谁主管谁负责）"]
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
        likeliest = sorted(routing.items(), key=lambda item: -item[1])[:2]
        for routing_class, probability in likeliest:
            for i, department in enumerate(self.classes.get(routing_class, [])):
                value = probability * (1.0 if i == 0 else SECONDARY_FACTOR)
                base[department] = max(base.get(department, 0.0), value)
        combined = {d: base.get(d, 0.0) + KEYWORD_WEIGHT * min(scores[d], KEYWORD_CAP) for d in set(base) | set(scores)}
        return sorted(combined.items(), key=lambda item: (-item[1], item[0]))

    def _with_locality(self, text: str, lead: str | None, co: list[str], why: list[str]) -> UnitDecision:
        regions = self.regions(text)
        info = self.gazetteer.departments.get(lead or "")
        vertical = bool(info and info.vertical_managed)
        if vertical:
            why.append(f"{lead} 实行垂直管理：上级部门办公厅(室)会同宣传部门组织协调")
        region = regions[0] if len(regions) == 1 else None
        co_units = [Unit(d, region) for d in co]
        if len(regions) > 1:
            why.append(f"涉及多个地方（{'、'.join(regions)}）：上级政府主管部门为第一责任主体，各地按属地回应")
            co_units += [Unit(lead, r) for r in regions]
        elif region:
            why.append(f"属地：{region}")
        return UnitDecision(Unit(lead, region), tuple(co_units), vertical, len(regions) > 1, tuple(why))


def _top(routing: Mapping[str, float]) -> str:
    if not routing:
        return "无"
    best = max(routing, key=lambda c: routing[c])
    return f"{best}({routing[best]:.2f})"

"""All tasks over one shared feature pass: relevance, event type, facts, grade, 舆情 level, unit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers import models_io
from classifiers.explain import top_terms
from classifiers.facts import Facts, extract_facts
from classifiers.features import feature_texts
from classifiers.gazetteer import Gazetteer
from classifiers.grading import GradingSchemes, grade, load_schemes
from classifiers.incident import debunked
from classifiers.incident import decide as decide_incident
from classifiers.models_io import LinearModels
from classifiers.normalize import normalize_many
from classifiers.opinion import default_config, opinion_level, validate_config
from classifiers.result import Result
from classifiers.rules import COLLECTIVE_UNIT, OUTBREAK, Searched, accident_kind_rule, flags_for, type_rule
from classifiers.tokenize import Tokenizer, base_user_words
from classifiers.types import Doc, EventLevel, EventType, OpinionLevel, category_of
from classifiers.units import Unit, UnitDecision, UnitResolver

DEFAULT_MODELS_DIR = Path(__file__).resolve().parent / "models"
RELEVANCE_THRESHOLD = 0.5
# A keyword rule (谣言, 疫情, 食物中毒, 群体性事件 …) makes an item relevant when the model gives
# it at least this much: §1.2 / 80号 categories the corpora do not label.
RULE_RELEVANCE_FLOOR = 0.1
TOP_TERMS = 5


@dataclass(frozen=True)
class _Scored:
    """Model outputs for one document."""

    relevance: float
    event_type: EventType
    event_score: float
    routing: dict[str, float]
    incident: float = 0.0
    emergency_type: EventType | None = None  # the likeliest emergency kind (an incident's type)


class Pipeline:
    """Loaded models + gazetteer + opinion thresholds; ``classify`` is deterministic."""

    def __init__(
        self,
        models: LinearModels,
        meta: Mapping[str, Any],
        gazetteer: Gazetteer,
        opinion_config: Mapping[str, Any],
        grading: GradingSchemes | None = None,
    ) -> None:
        self.models = models
        self.grading = grading or load_schemes(None)
        self.meta = meta
        self.gazetteer = gazetteer
        self.opinion_config = opinion_config
        self.tokenizer = Tokenizer(base_user_words(gazetteer))
        self.units = UnitResolver(gazetteer)
        self._terms = models.features.terms()

    @classmethod
    def load(
        cls,
        models_dir: Path | None = None,
        *,
        gazetteer: Gazetteer | None = None,
        opinion_config: Mapping[str, Any] | None = None,
        grading_config: Mapping[str, Any] | None = None,
    ) -> Pipeline:
        """Load the shipped models (or ``models_dir``); raises ArtifactError with the fix."""
        models, meta = models_io.load(models_dir or DEFAULT_MODELS_DIR)
        config = default_config() if opinion_config is None else validate_config(opinion_config)
        return cls(models, meta, gazetteer or Gazetteer.default(), config, load_schemes(grading_config))

    def classify(self, docs: Sequence[Doc]) -> list[Result]:
        """Classify a batch: one tokenisation and one sparse product for every task."""
        if not docs:
            return []
        normalized = normalize_many([d.full_text for d in docs])
        texts = feature_texts(normalized)
        matrix = self.models.features.transform([self.tokenizer.segment(t) for t in texts], texts)
        scores = self.models.scores(matrix)
        probs = {name: head.probabilities(scores) for name, head in self.models.heads.items()}
        scored, event_columns = self._score_batch(probs)
        relevance_column = np.full(len(docs), self.models.heads["relevance"].start)
        weights = self.models.weights
        relevance_terms = top_terms(matrix, weights, relevance_column, self._terms, TOP_TERMS)
        event_terms = top_terms(matrix, weights, event_columns, self._terms, TOP_TERMS)
        return self._results(docs, normalized, scored, relevance_terms, event_terms)

    def _score_batch(self, probs: Mapping[str, np.ndarray]) -> tuple[list[_Scored], np.ndarray]:
        """Per-document scores; 非政务 is not a candidate type for a relevant document."""
        event_head, routing_head = self.models.heads["event_type"], self.models.heads["routing"]
        relevance = probs["relevance"]
        event = probs["event_type"].copy()
        if EventType.NOT_GOV.value in event_head.classes:
            event[relevance >= RELEVANCE_THRESHOLD, event_head.classes.index(EventType.NOT_GOV.value)] = -1.0
        best = event.argmax(axis=1)
        best_score = event[np.arange(len(best)), best]
        incident = probs["incident"].tolist() if "incident" in probs else [0.0] * len(best)
        event_types = [EventType(c) for c in event_head.classes]
        emergency_columns = [i for i, t in enumerate(event_types) if category_of(t) is not None]
        emergency = (
            np.array(emergency_columns)[event[:, emergency_columns].argmax(axis=1)].tolist()
            if emergency_columns
            else [None] * len(best)
        )
        scored = [
            _Scored(
                r, event_types[b], s, dict(zip(routing_head.classes, rp, strict=True)), i,
                event_types[e] if e is not None else None,
            )
            for r, b, s, rp, i, e in zip(
                relevance.tolist(), best.tolist(), best_score.tolist(), probs["routing"].tolist(), incident, emergency,
                strict=True,
            )
        ]  # fmt: skip
        return scored, event_head.start + best

    def _results(
        self,
        docs: Sequence[Doc],
        normalized: Sequence[str],
        scored: Sequence[_Scored],
        relevance_terms: Sequence[list[str]],
        event_terms: Sequence[list[str]],
    ) -> list[Result]:
        """The per-document decisions, one stage at a time over the whole batch (each stage's
        patterns and tables stay in cache instead of every document touching all of them)."""
        opinions: dict[tuple[Any, ...], tuple[OpinionLevel, list[str]]] = {}
        searched = [Searched(norm) for norm in normalized]
        all_facts = [extract_facts(doc.full_text, norm) for doc, norm in zip(docs, normalized, strict=True)]
        incidents = [
            decide_incident(sc.incident, facts, norm)
            for sc, facts, norm in zip(scored, all_facts, normalized, strict=True)
        ]
        typed = [
            self._relevance_and_type(se, sc, inc[0]) for se, sc, inc in zip(searched, scored, incidents, strict=True)
        ]
        decisions = [
            self.units.resolve(norm, event_type.value, sc.routing, rule.removeprefix("rule:") if rule else None)
            if relevant
            else None
            for norm, sc, (relevant, event_type, rule, _by) in zip(normalized, scored, typed, strict=True)
        ]
        return [
            self._result(*args)
            for args in zip(
                docs, normalized, scored, relevance_terms, event_terms, searched, typed, all_facts, decisions,
                incidents, [opinions] * len(docs), strict=True,
            )
        ]  # fmt: skip

    def _result(
        self,
        doc: Doc,
        norm: str,
        scored: _Scored,
        relevance_terms: list[str],
        event_terms: list[str],
        searched: Searched,
        typed: tuple[bool, EventType, str | None, str | None],
        facts: Facts,
        decision: UnitDecision | None,
        incident_decision: tuple[bool, str],
        opinions: dict[tuple[Any, ...], tuple[OpinionLevel, list[str]]],
    ) -> Result:
        relevant, event_type, rule, relevant_by = typed
        category = category_of(event_type)
        collective = searched.has(COLLECTIVE_UNIT)
        level, level_why = (
            grade(event_type, facts, collective_unit=collective, text=norm, schemes=self.grading)
            if category
            else (None, [])
        )
        flags = tuple(flags_for(searched, facts.value("deaths"))) if relevant else ()
        opinion, opinion_why = self._opinion(doc, relevant, level, flags, opinions)
        incident, incident_why = incident_decision
        why = {
            "relevance": {
                "score": round(scored.relevance, 4),
                "by": relevant_by,
                "top_terms": relevance_terms,
            },
            "event_type": {
                "label": event_type.value,
                "by": rule or "model",
                "score": round(scored.event_score, 4),
                "top_terms": event_terms,
            },
            "incident": {"value": incident, "score": round(scored.incident, 4), "because": incident_why},
            "facts": [m.to_dict() | {"field": m.field} for m in facts.mentions],
            "event_level": level_why,
            "opinion_level": opinion_why,
            "unit": list(decision.why) if decision else ["非政务舆情，不分派"],
        }
        return Result(
            id=doc.id, relevant=relevant, relevance_score=scored.relevance, event_type=event_type,
            event_category=category, facts=facts, event_level=level, opinion_level=opinion,
            unit=decision.unit if decision else Unit(None), co_units=decision.co_units if decision else (),
            vertical_managed=bool(decision and decision.vertical_managed),
            multi_region=bool(decision and decision.multi_region), flags=flags, incident=incident, why=why,
        )  # fmt: skip

    @staticmethod
    def _relevance_and_type(
        searched: Searched, scored: _Scored, incident: bool
    ) -> tuple[bool, EventType, str | None, str | None]:
        """Relevance, type, the rule that set the type, and what made the item relevant.

        The model decides relevance; a keyword rule may change the type and, above a floor, make an
        item relevant (§1.2 kinds the corpora do not label). An incident (a 突发事件 by the incident
        decision) is relevant whatever the relevance head says — the head never saw drownings or
        falls as positives, DuEE files them under 人生 — and takes the likeliest emergency kind
        when the model's type is not one. An accident kind the text's words contradict is
        corrected, and an emergency the text says did not happen (网传……系谣言) is a rumour."""
        event_type, rule = type_rule(searched, scored.event_type)
        by = "model" if scored.relevance >= RELEVANCE_THRESHOLD else None
        if by is None and rule is not None and scored.relevance >= RULE_RELEVANCE_FLOOR:
            by = rule
        if by is None and rule == "rule:public_health" and searched.has(OUTBREAK):
            by = rule  # (cases of a disease: the head, trained before 2020, never saw one)
        if by is None and incident and scored.emergency_type is not None:
            by = "rule:incident"
            if category_of(event_type) is None:
                event_type, rule = scored.emergency_type, "rule:incident"
        if by is None:
            return False, EventType.NOT_GOV, None, None
        corrected, kind_rule = accident_kind_rule(searched, event_type)
        if kind_rule is not None:
            event_type, rule = corrected, kind_rule
        if category_of(event_type) is not None and debunked(searched):
            event_type, rule = EventType.RUMOR, "rule:debunked"
        return True, event_type, rule, by

    def _opinion(
        self,
        doc: Doc,
        relevant: bool,
        level: EventLevel | None,
        flags: Sequence[str],
        known_levels: dict[tuple[Any, ...], tuple[OpinionLevel, list[str]]],
    ) -> tuple[OpinionLevel, list[str]]:
        if not relevant:
            return OpinionLevel.L4, ["非政务舆情 → L4"]
        tiers = [doc.media_tier] if doc.media_tier else []
        # A pure function of few distinct inputs: remembered for the batch (a fresh list each time).
        key = (level, doc.media_tier, *flags)
        known = known_levels.get(key)
        if known is None:
            known = known_levels[key] = opinion_level(level, tiers, 1, 0.0, flags, self.opinion_config)
        return known[0], list(known[1])

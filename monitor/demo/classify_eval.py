"""Agreement of the classifier with the demo corpus's gold labels: ``python -m monitor.demo.classify_eval``.

The demo corpus (``monitor/demo/corpus.yaml``) was written for the project with an ``expected``
block per item (relevance, event type, statutory level, department, region). It is the only
labelled data for the kinds no public corpus labels (政策误读, 道德底线, 谣言; it has no 公共卫生
item), so the per-kind precision and recall below are the evaluation of those keyword rules. The
rules were revised after a first run on this corpus, so these figures are not held-out estimates
(benchmarks/README.md records the figures before and after).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classifiers import Doc, Pipeline
from monitor.classify.models import SHIPPED_MODELS_DIR
from monitor.classify.orgmap import OrgMapping, org_mapping
from monitor.config import load_settings, resolve_org_file
from monitor.demo.corpus import DemoCorpus, load_corpus
from monitor.policy import load_org

RULE_KINDS = ("公共卫生", "政策误读", "道德底线", "谣言")
FIELDS = ("relevant", "event_type", "event_level", "department", "region")


@dataclass(frozen=True)
class KindScore:
    kind: str
    precision: float | None  # None when the classifier never predicted the kind
    recall: float | None  # None when the corpus has no item of the kind
    predicted: int
    gold: int


def demo_predictions(pipeline: Pipeline, corpus: DemoCorpus) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(gold labels, prediction) per demo item, the prediction in the labels' vocabulary."""
    docs = [Doc(i.id, i.title, i.text, media_tier=corpus.feeds[i.feed].media_tier.value) for i in corpus.items]
    out = []
    for item, result in zip(corpus.items, pipeline.classify(docs), strict=True):
        predicted = {
            "relevant": result.relevant,
            "event_type": result.event_type.value,
            "event_level": result.event_level and result.event_level.value,
            "department": result.unit.department,
            "region": result.unit.region,
        }
        out.append((item.expected, predicted))
    return out


def agreement(pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, tuple[int, int]]:
    """Per field: (agreeing, compared). Relevance over every item; the other fields over the
    items the gold labels call relevant (a non-政务 item has no type, level or unit to agree on)."""
    out: dict[str, tuple[int, int]] = {}
    for name in FIELDS:
        compared = [(g, p) for g, p in pairs if name == "relevant" or g.get("relevant")]
        out[name] = (sum(g.get(name) == p[name] for g, p in compared), len(compared))
    return out


def kind_scores(pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], kinds: Sequence[str]) -> list[KindScore]:
    scores = []
    for kind in kinds:
        gold = sum(g.get("event_type") == kind for g, _ in pairs)
        predicted = sum(p["event_type"] == kind for _, p in pairs)
        hits = sum(g.get("event_type") == kind == p["event_type"] for g, p in pairs)
        scores.append(
            KindScore(kind, hits / predicted if predicted else None, hits / gold if gold else None, predicted, gold)
        )
    return scores


def _pipeline(mapping: OrgMapping) -> Pipeline:
    return Pipeline.load(SHIPPED_MODELS_DIR, gazetteer=mapping.gazetteer)


def report(pipeline: Pipeline | None = None) -> str:
    """The two tables (markdown) for benchmarks/README.md."""
    org = load_org(resolve_org_file(load_settings(env={}).settings))
    pairs = demo_predictions(pipeline or _pipeline(org_mapping(org)), load_corpus())
    lines = ["| field | agreement | n |", "|---|---|---|"]
    for name, (agree, n) in agreement(pairs).items():
        lines.append(f"| {name} | {agree / n:.3f} | {n} |")
    lines += ["", "| kind | precision | recall | predicted | gold |", "|---|---|---|---|---|"]
    for s in kind_scores(pairs, RULE_KINDS):
        lines.append(f"| {s.kind} | {_fmt(s.precision)} | {_fmt(s.recall)} | {s.predicted} | {s.gold} |")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(prog="python -m monitor.demo.classify_eval", description=__doc__).parse_args(argv)
    print(report())


if __name__ == "__main__":
    main()

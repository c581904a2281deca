"""``monitor retrain``: fold duty officers' corrections into a new model version.

Corrections (the ``corrections`` table, written by Dismiss / Reassign / Regrade and the web) become
labelled rows: ``relevant`` trains relevance, ``department`` (a unit id) trains routing through the
department's routing class, ``event_type`` trains the event-type head. ``event_level``,
``opinion_level`` and ``region`` are decided by rules (statutory thresholds, configured levels,
the gazetteer), not learned: they are counted and reported, and show where rules need work.

A fifth of the corrected items (by a hash of the item id) is held out to measure the old and the
new model on corrections neither was trained on. Both models are also scored on the held-out test
split of the shared corpora; when any of those metrics drops by more than ``retrain_max_drop``
the new model is written but not activated (unless ``force``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers import Doc, Pipeline
from monitor.classify.orgmap import OrgMapping
from monitor.classify.runner import model_version
from monitor.domain import EventType
from monitor.storage.db import Database
from monitor.storage.repo.classify import correction_rows

HELD_OUT_SHARE = 0.2
MIN_HELD_OUT_ITEMS = 5  # with fewer corrected items, all of them are trained on
# Corpus metrics compared between the models: task → metric (classifiers.evaluate rows).
COMPARED = {
    "relevance": "f1",
    "relevance (titles only)": "f1",
    # the incident decision against the hand-labelled test sample (benchmarks/incident_gold.csv, in a
    # checkout), not DuEE's own label, which the model departs from on purpose (benchmarks/README.md)
    "incident vs not (hand-labelled)": "f1",
    "event type (model)": "macro_f1",
    "routing (unsegmented)": "macro_f1",
}


@dataclass
class CorrectionSet:
    """Corrections as one labelled row per corrected item."""

    train: list[dict[str, Any]] = field(default_factory=list)
    held_out: list[dict[str, Any]] = field(default_factory=list)
    correction_ids: set[int] = field(default_factory=set)  # folded into the training rows
    ignored: dict[str, int] = field(default_factory=dict)  # field → corrections not learnable


async def load_corrections(db: Database, mapping: OrgMapping) -> CorrectionSet:
    """Read every correction (one query) and turn it into labelled rows, latest value winning."""
    async with db.read() as conn:
        rows = await correction_rows(conn)
    department_names = {unit_id: name for name, unit_id in mapping.department_units.items()}
    labelled: dict[int, dict[str, Any]] = {}
    sources: dict[int, set[int]] = {}
    result = CorrectionSet()
    for row in rows:
        label = _label(row.field, row.new_value, department_names)
        if label is None:
            result.ignored[row.field] = result.ignored.get(row.field, 0) + 1
            continue
        item = labelled.setdefault(row.item_id, {"item_id": row.item_id, **_text(row)})
        item[label[0]] = label[1]
        sources.setdefault(row.item_id, set()).add(row.id)
    held = _held_out_ids(list(labelled))
    for item_id, item in labelled.items():
        (result.held_out if item_id in held else result.train).append(item)
        if item_id not in held:
            result.correction_ids |= sources[item_id]
    return result


def _label(name: str, value: str | None, department_names: Mapping[str, str]) -> tuple[str, Any] | None:
    if value is None:
        return None
    if name == "relevant" and value.lower() in ("true", "false", "1", "0"):
        return "relevant", value.lower() in ("true", "1")
    if name == "department" and value in department_names:
        return "department", department_names[value]
    if name == "event_type":
        try:
            return "event_type", EventType.from_label(value).label
        except ValueError:
            return None
    return None


def _text(row: Any) -> dict[str, str]:
    if row.text_norm:
        return {"title": "", "text": row.text_norm}
    return {"title": row.title or "", "text": row.text or ""}


def _held_out_ids(item_ids: Sequence[int]) -> set[int]:
    if len(item_ids) < MIN_HELD_OUT_ITEMS:
        return set()
    return {i for i in item_ids if _bucket(i) < HELD_OUT_SHARE}


def _bucket(item_id: int) -> float:
    return int(hashlib.sha1(f"item:{item_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


@dataclass
class RetrainReport:
    version: str
    out_dir: Path
    corpus: dict[str, tuple[float, float]]  # task → (before, after)
    corrections: dict[str, tuple[float, float, int]]  # label → (before, after, n) on held-out corrections
    drops: list[str]  # tasks whose metric dropped beyond the tolerance

    @property
    def acceptable(self) -> bool:
        return not self.drops


def retrain(
    data_dir: Path,
    root: Path,
    current_dir: Path,
    corrections: CorrectionSet,
    mapping: OrgMapping,
    max_drop: float,
) -> RetrainReport:
    """Train a new version under ``root`` (CPU-heavy: minutes on the full corpora) and compare it
    with the model in ``current_dir`` on the same held-out data."""
    from classifiers.corpora import load_examples
    from classifiers.train import train

    examples = load_examples(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / ".training"
    shutil.rmtree(staging, ignore_errors=True)
    extra = root / ".corrections.jsonl"
    extra.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in corrections.train), "utf-8")
    try:
        meta = train(data_dir, staging, extra if corrections.train else None, examples=examples)
    finally:
        extra.unlink(missing_ok=True)
    version = model_version(meta)
    out_dir = root / version
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    old = Pipeline.load(current_dir, gazetteer=mapping.gazetteer)
    new = Pipeline.load(out_dir, gazetteer=mapping.gazetteer)
    corpus = {task: (before, after) for task, before, after in _corpus_metrics(old, new, examples)}
    drops = [f"{task}: {b:.4f} → {a:.4f}" for task, (b, a) in corpus.items() if b - a > max_drop]
    held = _corrections_metrics(old, new, corrections.held_out)
    return RetrainReport(version, out_dir, corpus, held, drops)


def _corpus_metrics(old: Pipeline, new: Pipeline, examples: Sequence[Any]) -> list[tuple[str, float, float]]:
    from classifiers.evaluate import INCIDENT_GOLD, evaluate_heads, evaluate_incident_decisions

    def rows(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
        out = evaluate_heads(pipeline, examples)
        if INCIDENT_GOLD.exists():
            out += [r for r in evaluate_incident_decisions(pipeline, examples, strict=False) if r["n"]]
        return {r["task"]: r for r in out}

    before, after = rows(old), rows(new)
    return [(t, float(before[t][m]), float(after[t][m])) for t, m in COMPARED.items() if t in before and t in after]


def _corrections_metrics(
    old: Pipeline, new: Pipeline, rows: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[float, float, int]]:
    """Agreement of each model with the officers' labels on held-out corrected items."""
    if not rows:
        return {}
    docs = [Doc(str(r["item_id"]), r["title"], r["text"]) for r in rows]
    got = {"old": old.classify(docs), "new": new.classify(docs)}
    read = {
        "relevant": lambda res: res.relevant,
        "department": lambda res: res.unit.department,
        "event_type": lambda res: res.event_type.value,
    }
    out: dict[str, tuple[float, float, int]] = {}
    for label, value in read.items():
        idx = [i for i, r in enumerate(rows) if label in r]
        if idx:
            scores = [sum(value(got[m][i]) == rows[i][label] for i in idx) / len(idx) for m in ("old", "new")]
            out[label] = (scores[0], scores[1], len(idx))
    return out

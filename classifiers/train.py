"""Train every head on the shared corpora: ``python -m classifiers.train --data DIR --out DIR``.

The regularisation strength of each head is chosen on the validation split; the chosen model is
refitted on train + validation and scored once on the test split (recorded in meta.json).
Extra labelled rows (duty officers' corrections) can be folded in with ``--extra rows.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from classifiers import models_io
from classifiers.corpora import (
    CORPUS_SOURCES,
    Example,
    corpus_hashes,
    default_data_dir,
    load_examples,
    require_corpora,
)
from classifiers.features import FeatureSpace, analyze, feature_text, fit_feature_space
from classifiers.gazetteer import load_data_yaml
from classifiers.incident import training_label as incident_label
from classifiers.models_io import Head, LinearModels
from classifiers.normalize import normalize
from classifiers.tokenize import Tokenizer, base_user_words
from classifiers.types import EventType

MAX_TERMS = {"w": 40_000, "b": 30_000, "c": 30_000}
LR_GRID = (4.0, 16.0, 64.0, 256.0)
SVM_GRID = (0.3, 1.0, 3.0, 10.0)
# Softmax temperatures tried for a linear SVM's scores (chosen by validation log loss).
SVM_SCALES = (1.0, 2.0, 4.0, 8.0, 16.0)
# Decision thresholds (on the linear score) tried for the incident head.
INCIDENT_THRESHOLDS = (-1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5)


@dataclass(frozen=True)
class HeadSpec:
    name: str
    label: Callable[[Example], str | bool | None]
    metric: str  # "f1" (binary, positive class) or "macro_f1"
    # "lr" (logistic regression), "svm" (linear SVM, scaled softmax) or "nbsvm" (NB-SVM: a linear
    # SVM per class over features scaled by their naive-Bayes log-count ratio; scaled softmax)
    estimator: str = "lr"
    select_on: str | None = None  # corpus whose validation rows choose C (None: all)


HEAD_SPECS = (
    HeadSpec("relevance", lambda e: e.relevant, "f1"),
    # Trained on hand labels and DuEE's label corrected to the written definition
    # (classifiers.incident); C and the decision threshold are chosen on the labelled validation split.
    HeadSpec("incident", incident_label, "f1", select_on="incident_gold"),
    HeadSpec("event_type", lambda e: e.event_type, "macro_f1"),
    # NB-SVM: validation macro-F1 0.9278 vs 0.9225 for the plain SVM (benchmarks/README.md note 1).
    HeadSpec("routing", lambda e: e.routing, "macro_f1", estimator="nbsvm"),
)


def with_title_views(examples: Sequence[Example]) -> list[Example]:
    """Add the title alone of raw messages and news reports (not in test), so that short
    inputs are not scored as ordinary news merely for being short."""
    extra = [
        replace(e, id=e.id + "#title", text=e.text.split("\n", 1)[0])
        for e in examples
        if e.source in ("responses", "cec") and e.split != "test"
    ]
    return list(examples) + extra


def read_extra_rows(path: Path) -> list[Example]:
    """JSONL rows {title, text, relevant?, department?, event_type?} as training examples.
    A row that cannot be used stops training with its line number and the fix (a wrong label
    would otherwise become a class of its own, and a model the pipeline cannot load)."""
    class_of = _routing_class_of_department()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SystemExit(f"{path}: not UTF-8 (byte offset {exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise SystemExit(f"{path}: cannot be read ({exc.strerror})") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(_extra_example(json.loads(line), number, class_of))
        except json.JSONDecodeError as exc:
            raise SystemExit(f"{path}:{number}: not a JSON object ({exc})") from None
        except ValueError as exc:
            raise SystemExit(f"{path}:{number}: {exc}") from None
    return rows


_EVENT_TYPES = tuple(t.value for t in EventType)


def _extra_example(row: Any, number: int, class_of: dict[str, str]) -> Example:
    if not isinstance(row, dict):
        raise ValueError('expected a JSON object such as {"title": "…", "text": "…", "relevant": true}')
    title, text, department = (row.get(name) for name in ("title", "text", "department"))
    for name, value in (("title", title), ("text", text), ("department", department)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f'"{name}" must be a string')
    relevant, event_type = row.get("relevant"), row.get("event_type")
    if relevant is not None and not isinstance(relevant, bool):
        raise ValueError(f'"relevant" must be true, false or null, got {json.dumps(relevant, ensure_ascii=False)}')
    if event_type is not None and event_type not in _EVENT_TYPES:
        raise ValueError(f'"event_type" {event_type!r} is not one of {" ".join(_EVENT_TYPES)}')
    return Example(
        "extra",
        f"extra-{number}",
        f"{title or ''}\n{text or ''}".strip(),
        relevant=relevant,
        event_type=event_type,
        routing=class_of.get(department or ""),
    )


def _routing_class_of_department() -> dict[str, str]:
    classes = load_data_yaml("units.yaml")["routing_classes"]
    out: dict[str, str] = {}
    for routing_class, departments in classes.items():
        for department in departments:
            out.setdefault(department, routing_class)
    return out


def featurize(examples: Sequence[Example], tokenizer: Tokenizer) -> tuple[list[list[str]], list[str]]:
    texts = [feature_text(normalize(e.text)) for e in examples]
    return [tokenizer.cut(t) for t in texts], texts


def fit_head(spec: HeadSpec, x: sparse.csr_matrix, examples: Sequence[Example]) -> tuple[Any, dict[str, Any]]:
    """Pick C on validation, refit on train + validation, score on test."""
    labels = [spec.label(e) for e in examples]
    split = np.array([e.split for e in examples])
    have = np.array([lab is not None for lab in labels])
    y = np.array([str(lab) for lab in labels], dtype=object)
    fit_mask, val_mask = have & (split == "train"), have & (split == "validation")
    grid = LR_GRID if spec.estimator == "lr" else SVM_GRID
    fitted = {c: _estimator(spec, c).fit(x[fit_mask], y[fit_mask]) for c in grid}
    threshold, selected_on = 0.0, "validation split"
    gold = _select_incident(fitted, x, examples) if spec.select_on == "incident_gold" else None
    if gold is not None:
        scores, threshold = gold
        selected_on = (
            "labelled DuEE + TNEWS validation split (classifiers/data/labels/incident_gold_validation_full.csv)"
        )
    else:
        if spec.select_on and spec.select_on != "incident_gold":
            val_mask &= np.array([e.source == spec.select_on for e in examples])
        scores = {c: _score(spec, m, x[val_mask], y[val_mask]) for c, m in fitted.items()}
    best_c = max(scores, key=lambda c: scores[c])
    scale = _softmax_scale(fitted[best_c], x[val_mask], y[val_mask]) if spec.estimator != "lr" else 1.0
    final_mask = have & (split != "test")
    model = _estimator(spec, best_c).fit(x[final_mask], y[final_mask])
    if threshold:
        model.intercept_ = model.intercept_ - threshold  # the chosen threshold becomes 0.5
    test_mask = have & (split == "test")
    report = {
        "estimator": spec.estimator,
        "C": best_c,
        "softmax_scale": scale,
        "threshold": threshold,
        "selected_on": selected_on,
        "validation": {str(c): round(s, 4) for c, s in scores.items()},
        "test": round(_score(spec, model, x[test_mask], y[test_mask]), 4),
        "n_train": int(final_mask.sum()),
        "n_test": int(test_mask.sum()),
    }
    return model, report


def _select_incident(
    fitted: dict[float, Any], x: sparse.csr_matrix, examples: Sequence[Example]
) -> tuple[dict[float, float], float] | None:
    """F1 of the whole incident decision (head + facts + overrides) on the labelled DuEE + TNEWS
    validation split (every row; weights are 1 where a stratum is complete), per C at its best
    threshold; returns the scores and the best threshold, or None when these corpora do not hold
    (nearly all of) the labelled texts."""
    from classifiers.evaluate import INCIDENT_GOLD_VALIDATION_FULL, incident_gold_rows, weighted_binary
    from classifiers.facts import extract_facts
    from classifiers.incident import decide

    rows = incident_gold_rows(examples, INCIDENT_GOLD_VALIDATION_FULL, split="validation", strict=False)
    with INCIDENT_GOLD_VALIDATION_FULL.open(encoding="utf-8") as handle:
        labelled = sum(1 for _ in handle) - 1
    if len(rows) < 0.95 * labelled:
        print(f"incident: {len(rows)} of {labelled} hand-labelled validation rows found; C chosen on the split")
        return None
    index = {(e.source, e.id): i for i, e in enumerate(examples)}
    at = np.array([index[(e.source, e.id)] for e, _ in rows], dtype=np.int64)
    facts = [extract_facts(e.text) for e, _ in rows]
    truth = [int(r["incident"]) for _, r in rows]
    weights = [int(r["stratum_size"]) / int(r["sample_size"]) for _, r in rows]
    scores, thresholds = {}, {}
    for c, model in fitted.items():
        raw = model.decision_function(x[at])
        best = (-1.0, 0.0)
        for t in INCIDENT_THRESHOLDS:
            probability = 1.0 / (1.0 + np.exp(-(raw - t)))
            predicted = [
                int(decide(float(p), f, e.text)[0]) for p, f, (e, _) in zip(probability, facts, rows, strict=True)
            ]
            f1 = weighted_binary(truth, predicted, weights)["f1"]
            best = max(best, (f1, -t))
        scores[c], thresholds[c] = best[0], -best[1]
    best_c = max(scores, key=lambda c: scores[c])
    return scores, thresholds[best_c]


def _estimator(spec: HeadSpec, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if spec.estimator == "svm":
        return LinearSVC(C=c, class_weight="balanced")
    if spec.estimator == "nbsvm":
        return NBSVM(C=c)
    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")


class NBSVM:
    """NB-SVM (Wang & Manning 2012), one-vs-rest: for each class, every feature is scaled by the
    log-ratio of its smoothed presence frequency in that class and in the others, and a binary
    linear SVM is fitted on the scaled features. The scaling folds into the weights
    (``coef_[k] = r_k * w_k``), so the model is an ordinary linear head on the shared features."""

    def __init__(self, C: float = 1.0, alpha: float = 1.0) -> None:
        self.C, self.alpha = C, alpha

    def fit(self, x: sparse.csr_matrix, y: np.ndarray) -> NBSVM:
        from sklearn.svm import LinearSVC

        present = sparse.csr_matrix(x, dtype=np.float64, copy=True)
        present.data = (present.data > 0).astype(np.float64)
        self.classes_ = np.array(sorted(set(y.tolist())), dtype=object)
        if len(self.classes_) < 3:
            raise ValueError("NBSVM is a multi-class head: it needs at least three classes")
        coefs, intercepts = [], []
        for cls in self.classes_:
            positive = y == cls
            p = self.alpha + np.asarray(present[positive].sum(axis=0)).ravel()
            q = self.alpha + np.asarray(present[~positive].sum(axis=0)).ravel()
            ratio = np.log((p / p.sum()) / (q / q.sum()))
            svm = LinearSVC(C=self.C).fit(x @ sparse.diags(ratio), positive)
            coefs.append(svm.coef_.ravel() * ratio)
            intercepts.append(float(svm.intercept_[0]))
        self.coef_, self.intercept_ = np.vstack(coefs), np.array(intercepts)
        return self

    def decision_function(self, x: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.coef_.T) + self.intercept_

    def predict(self, x: sparse.csr_matrix) -> np.ndarray:
        return self.classes_[self.decision_function(x).argmax(axis=1)]


def _softmax_scale(model: Any, x: sparse.csr_matrix, y: np.ndarray) -> float:
    """Temperature that turns SVM scores into probabilities with the least validation log loss."""
    from sklearn.metrics import log_loss

    scores = model.decision_function(x)
    best, best_loss = SVM_SCALES[0], float("inf")
    for scale in SVM_SCALES:
        shifted = np.exp(scale * scores - (scale * scores).max(axis=1, keepdims=True))
        loss = log_loss(y, shifted / shifted.sum(axis=1, keepdims=True), labels=model.classes_)
        if loss < best_loss:
            best, best_loss = scale, loss
    return best


def _score(spec: HeadSpec, model: Any, x: sparse.csr_matrix, y: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    predicted = model.predict(x)
    if spec.metric == "f1":
        return float(f1_score(y, predicted, pos_label="True"))
    return float(f1_score(y, predicted, average="macro"))


def stack_heads(features: FeatureSpace, fitted: dict[str, Any], scales: dict[str, float]) -> LinearModels:
    """One weight matrix for all heads (binary heads keep the positive-class column); SVM
    heads are multiplied by their softmax temperature so every head is read the same way."""
    columns, biases, heads = [], [], {}
    start = 0
    for name, model in fitted.items():
        classes = tuple(str(c) for c in model.classes_)
        coef, bias = model.coef_.T * scales[name], model.intercept_ * scales[name]
        if len(classes) == 2:
            classes = ("True",) if classes == ("False", "True") else classes[1:]
        columns.append(coef)
        biases.append(bias)
        heads[name] = Head(name, classes, start, start + coef.shape[1])
        start += coef.shape[1]
    weights = np.hstack(columns).astype(np.float32)
    return LinearModels(features, weights, np.concatenate(biases).astype(np.float32), heads)


def train(
    data_dir: Path, out_dir: Path, extra: Path | None = None, examples: Sequence[Example] | None = None
) -> dict[str, Any]:
    """Fit every head and write the model; ``examples`` may pass ``load_examples(data_dir)``
    when the caller already has them (the split is the same)."""
    started = time.perf_counter()
    extra_rows = [] if extra is None else read_extra_rows(extra)  # a bad file stops before the slow part
    examples = with_title_views(load_examples(data_dir) if examples is None else examples) + extra_rows
    tokenizer = Tokenizer(base_user_words())
    tokens, texts = featurize(examples, tokenizer)
    fit_rows = [i for i, e in enumerate(examples) if e.split != "test"]
    space = fit_feature_space((analyze(tokens[i], texts[i]) for i in fit_rows), MAX_TERMS)
    x = space.transform(tokens, texts)
    fitted, reports = {}, {}
    for spec in HEAD_SPECS:
        fitted[spec.name], reports[spec.name] = fit_head(spec, x, examples)
        print(f"{spec.name}: {json.dumps(reports[spec.name])}", flush=True)
    meta = {
        "built": datetime.now(UTC).date().isoformat(),
        "data": {
            "dir_name": data_dir.name,
            "sources": CORPUS_SOURCES,
            "licence": "no open licence: research and teaching use; corpora are not in the repository",
            "sha256": corpus_hashes(data_dir),
            "extra_rows": 0 if extra is None else sum(e.source == "extra" for e in examples),
        },
        "training_metrics": reports,
        "tokenizer_backend": tokenizer.backend,
        "n_features": space.n_features,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    scales = {name: float(report["softmax_scale"]) for name, report in reports.items()}
    return models_io.save(stack_heads(space, fitted, scales), out_dir, meta)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m classifiers.train", description=__doc__)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="shared corpora directory (default: $CLASSIFIERS_DATA_DIR or ../shared/data)",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "models", help="model directory to write")
    parser.add_argument("--extra", type=Path, default=None, help="JSONL of extra labelled rows to fold in")
    args = parser.parse_args(argv)
    data_dir = args.data or default_data_dir()
    require_corpora(data_dir)
    meta = train(data_dir, args.out, args.extra)
    print(f"wrote {args.out} ({meta['n_features']} features, {meta['train_seconds']} s)")


if __name__ == "__main__":
    main()

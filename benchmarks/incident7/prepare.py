"""Phase 7, step 1 (project venv): everything the order-aware study needs from the shipped code.

Writes a cache (outside the repository; it holds corpus text) with, for every labelled non-test
row the incident head trains on: the normalised feature text, ``training_label``, split, source,
fold; for the validation rows of the labelled split: truth, the shipped head's raw score (fitted
on train, C 16), stated casualties and the war / crime override; and for the grouped 5-fold
over train + validation DuEE + TNEWS rows: each row's head score from the fold that left it out.

    PYTHONPATH=/work/inc7 /work/main/.venv/bin/python benchmarks/incident7/prepare.py --cache /work/cache/inc7

No test-split row is written or scored.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from classifiers.corpora import default_data_dir, load_examples
from classifiers.evaluate import INCIDENT_GOLD_VALIDATION_FULL, incident_gold_rows
from classifiers.facts import extract_facts
from classifiers.features import analyze, feature_text, fit_feature_space
from classifiers.incident import overridden, training_label
from classifiers.normalize import normalize
from classifiers.tokenize import Tokenizer, base_user_words
from classifiers.train import MAX_TERMS, featurize, with_title_views

C = 16.0
FOLDS = 5


def fold_of(source: str, doc_id: str, salt: str = "") -> int:
    """Phase 6's grouped fold: md5 of source + id without '#title' (a title view stays with its text)."""
    key = salt + source + doc_id.removesuffix("#title")
    return int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16) % FOLDS


def fit_lr(x, y):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(x, y)


def casualties(text: str) -> bool:
    facts = extract_facts(text)
    return any((facts.value(name) or 0) > 0 for name in ("deaths", "injured", "missing"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--salts", default="", help="comma-separated extra fold salts for the k-fold")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    examples = [e for e in with_title_views(load_examples(default_data_dir())) if e.split != "test"]
    tokenizer = Tokenizer(base_user_words())
    tokens, texts = featurize(examples, tokenizer)
    space = fit_feature_space((analyze(t, s) for t, s in zip(tokens, texts, strict=True)), MAX_TERMS)
    x = space.transform(tokens, texts)
    labels = [training_label(e) for e in examples]
    have = np.array([lab is not None for lab in labels])
    y = np.array([bool(lab) for lab in labels])
    split = np.array([e.split for e in examples])
    print(f"{len(examples)} non-test rows, {have.sum()} labelled; features {time.perf_counter() - started:.0f} s")

    # Train-fitted harness: the shipped recipe (head on labelled train rows), scored on validation.
    train_mask = have & (split == "train")
    head = fit_lr(x[train_mask], y[train_mask])
    rows = incident_gold_rows(examples, INCIDENT_GOLD_VALIDATION_FULL, split="validation", strict=True)
    index = {(e.source, e.id): i for i, e in enumerate(examples)}
    at = np.array([index[(e.source, e.id)] for e, _ in rows])
    validation = {
        "index": at.tolist(),
        "truth": [int(r.get("incident_adjudicated") or r["incident"]) for _, r in rows],
        "read": [r.get("read", "yes") for _, r in rows],
        "raw": head.decision_function(x[at]).tolist(),
        "casualties": [casualties(e.text) for e, _ in rows],
        "override": [overridden(e.text) is not None for e, _ in rows],
    }
    print(
        f"validation harness: {len(at)} rows, {sum(validation['truth'])} incidents;"
        f" {time.perf_counter() - started:.0f} s"
    )

    # Grouped k-fold over labelled non-test rows; scored rows are DuEE + TNEWS (no title views).
    kfold: dict[str, list] = {}
    scored = np.array(
        [
            h and e.source in ("duee", "tnews") and not e.id.endswith("#title")
            for h, e in zip(have, examples, strict=True)
        ]
    )
    kfold_rows = np.flatnonzero(scored)
    kfold["index"] = kfold_rows.tolist()
    kfold["casualties"] = [casualties(examples[i].text) for i in kfold_rows]
    kfold["override"] = [overridden(examples[i].text) is not None for i in kfold_rows]
    for salt in [""] + [s for s in args.salts.split(",") if s]:
        folds = np.array([fold_of(e.source, e.id, salt) for e in examples])
        raw = np.zeros(len(kfold_rows))
        for k in range(FOLDS):
            model = fit_lr(x[have & (folds != k)], y[have & (folds != k)])
            held = folds[kfold_rows] == k
            raw[held] = model.decision_function(x[kfold_rows[held]])
            print(f"k-fold salt {salt!r} fold {k}: {time.perf_counter() - started:.0f} s", flush=True)
        kfold[f"raw{salt}"] = raw.tolist()
        kfold[f"fold{salt}"] = folds.tolist()

    rows_out = [
        {
            "source": e.source,
            "id": e.id,
            "split": e.split,
            "label": None if lab is None else bool(lab),
            "text": feature_text(normalize(e.text)),
        }
        for e, lab in zip(examples, labels, strict=True)
    ]
    (args.cache / "rows.json").write_text(json.dumps(rows_out, ensure_ascii=False), encoding="utf-8")
    (args.cache / "validation.json").write_text(json.dumps(validation), encoding="utf-8")
    (args.cache / "kfold.json").write_text(json.dumps(kfold), encoding="utf-8")
    print(f"wrote {args.cache} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

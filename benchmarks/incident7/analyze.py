"""Phase 7, step 3 (numpy): score the order-aware model's variants on the labelled validation split.

    /work/venv-torch/bin/python benchmarks/incident7/analyze.py --cache DIR --runs cnn_s1 cnn_s2 ... [--epoch N]

Variants (the decision = override → not; p ≥ 0.5 or stated casualties and p ≥ 0.27 → incident):
  head      the shipped head (C 16, threshold −0.25), p = sigmoid(raw + 0.25)
  replace   p = the model's probability (mean of the listed runs' logits; optional logit shift)
  average   p = (p_head + p_model) / 2
  band      p = p_model (or the average) only where p_head lies in [lo, hi), else p_head
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from harness import SHIPPED_THRESHOLD, decision, paired_bootstrap, prf, sigmoid

BANDS = ((0.05, 0.95), (0.1, 0.9), (0.2, 0.8))


def variants(p_head: np.ndarray, logit: np.ndarray, shift: float = 0.0) -> dict[str, np.ndarray]:
    p_model = sigmoid(logit + shift)
    average = (p_head + p_model) / 2
    out = {"replace": p_model, "average": average}
    for lo, hi in BANDS:
        inside = (p_head >= lo) & (p_head < hi)
        out[f"band {lo}-{hi} replace"] = np.where(inside, p_model, p_head)
        out[f"band {lo}-{hi} average"] = np.where(inside, average, p_head)
    return out


def fmt(scores: tuple[float, float, float]) -> str:
    return f"{scores[0]:.3f} ({scores[1]:.3f} / {scores[2]:.3f})"


def kfold_report(cache: Path, runs: list[str], salt: str, variant: str) -> None:
    """The grouped k-fold (prepare.py's folds): the shipped decision vs ``variant`` on all scored
    rows, the validation rows and the phase-4 hand-labelled train rows, with paired bootstrap CIs."""
    import csv

    rows = json.loads((cache / "rows.json").read_text(encoding="utf-8"))
    kfold = json.loads((cache / "kfold.json").read_text())
    index = np.array(kfold["index"])
    truth = np.array([bool(rows[i]["label"]) for i in index])
    casualties = np.array(kfold["casualties"], bool)
    override = np.array(kfold["override"], bool)
    p_head = sigmoid(np.array(kfold[f"raw{salt}"]) - SHIPPED_THRESHOLD)
    logit = np.mean([np.load(cache / "runs" / f"kfold{salt}_{run}.npz")["logits"] for run in runs], axis=0)
    shipped = decision(p_head, casualties, override)
    predicted = decision(variants(p_head, logit)[variant], casualties, override)
    labels_file = Path(__file__).resolve().parents[2] / "classifiers/data/labels/incident_train_labels.csv"
    with labels_file.open(encoding="utf-8") as handle:
        read = {(r["source"], r["doc_id"]) for r in csv.DictReader(handle)}
    groups = {
        "all scored rows": np.ones(len(index), bool),
        "validation rows": np.array([rows[i]["split"] == "validation" for i in index]),
        "phase-4 read train rows": np.array([(rows[i]["source"], rows[i]["id"]) in read for i in index]),
    }
    groups["all but phase-4 read rows"] = ~groups["phase-4 read train rows"]
    for name, mask in groups.items():
        diff, low, high = paired_bootstrap(truth[mask], shipped[mask], predicted[mask], resamples=2000)
        print(
            f"{name:28s} n {mask.sum():5d} ({truth[mask].sum()} incidents):"
            f" shipped {fmt(prf(truth[mask], shipped[mask]))}"
            f"  {variant} {fmt(prf(truth[mask], predicted[mask]))}  diff {diff:+.3f} ({low:+.3f} … {high:+.3f})"
            f"  changed {(shipped[mask] != predicted[mask]).sum()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--runs", nargs="+", required=True)
    parser.add_argument("--epoch", type=int, default=0, help="1-based epoch (0: last)")
    parser.add_argument("--shift", type=float, default=0.0, help="added to the model's logit")
    parser.add_argument("--flips", default="", help="variant whose flipped rows to list (by index, no text)")
    parser.add_argument("--kfold", default="", help="variant to score in the k-fold instead (e.g. 'average')")
    parser.add_argument("--salt", default="")
    args = parser.parse_args()
    if args.kfold:
        kfold_report(args.cache, args.runs, args.salt, args.kfold)
        return
    validation = json.loads((args.cache / "validation.json").read_text())
    truth = np.array(validation["truth"], bool)
    casualties = np.array(validation["casualties"], bool)
    override = np.array(validation["override"], bool)
    p_head = sigmoid(np.array(validation["raw"]) - SHIPPED_THRESHOLD)
    shipped = decision(p_head, casualties, override)
    logits = []
    for run in args.runs:
        history = np.load(args.cache / "runs" / f"val_{run}.npz")["logits"]
        logits.append(history[args.epoch - 1] if args.epoch else history[-1])
    logit = np.mean(logits, axis=0)
    print(
        f"shipped decision: {fmt(prf(truth, shipped))};"
        f" band 0.05-0.95 holds {((p_head >= 0.05) & (p_head < 0.95)).sum()} rows"
    )
    print(f"model alone (p >= 0.5, no facts/overrides): {fmt(prf(truth, sigmoid(logit + args.shift) >= 0.5))}")
    for name, p in variants(p_head, logit, args.shift).items():
        predicted = decision(p, casualties, override)
        diff, low, high = paired_bootstrap(truth, shipped, predicted)
        gained = int((predicted & ~shipped & truth).sum() + (~predicted & shipped & ~truth).sum())
        lost = int((predicted & ~shipped & ~truth).sum() + (~predicted & shipped & truth).sum())
        print(
            f"{name:24s} {fmt(prf(truth, predicted))}  diff {diff:+.3f} ({low:+.3f} … {high:+.3f})"
            f"  flips {gained} right / {lost} wrong"
        )
        if name == args.flips:
            changed = np.flatnonzero(predicted != shipped)
            for i in changed:
                print(
                    f"  row {i}: truth {int(truth[i])} shipped {int(shipped[i])} -> {int(predicted[i])}"
                    f" p_head {p_head[i]:.2f} p {p[i]:.2f} read={validation['read'][i]}"
                )


if __name__ == "__main__":
    main()

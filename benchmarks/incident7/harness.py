"""Phase 7 harness (numpy only): the incident decision from a probability, F1, paired bootstrap.

The decision is ``classifiers.incident.decide`` restated over arrays (override → not; p ≥ 0.5 →
incident; stated casualties and p ≥ CASUALTY_FLOOR → incident), so that probabilities from any
model can be scored without the project's venv; check_decide.py confirms
it matches ``decide`` row for row on the shipped head.
"""

from __future__ import annotations

import numpy as np

CASUALTY_FLOOR = 0.27  # classifiers.incident.CASUALTY_FLOOR
SHIPPED_THRESHOLD = -0.25  # the shipped head's chosen threshold on its linear score


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def decision(probability: np.ndarray, casualties: np.ndarray, override: np.ndarray) -> np.ndarray:
    p = np.asarray(probability)
    return ~np.asarray(override) & ((p >= 0.5) | (np.asarray(casualties) & (p >= CASUALTY_FLOOR)))


def prf(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    t, p = np.asarray(truth, bool), np.asarray(predicted, bool)
    tp, fp, fn = (t & p).sum(), (~t & p).sum(), (t & ~p).sum()
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(f1), float(precision), float(recall)


def paired_bootstrap(
    truth: np.ndarray, first: np.ndarray, second: np.ndarray, resamples: int = 4000, seed: int = 7
) -> tuple[float, float, float]:
    """F1(second) − F1(first), with a 95 % percentile interval over rows resampled with replacement."""
    t, a, b = (np.asarray(v, bool) for v in (truth, first, second))
    rng = np.random.default_rng(seed)
    n = len(t)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)

    def f1s(pred: np.ndarray) -> np.ndarray:
        tp = counts @ (t & pred)
        fp = counts @ (~t & pred)
        fn = counts @ (t & ~pred)
        return 2 * tp / np.maximum(2 * tp + fp + fn, 1)

    diff = f1s(b) - f1s(a)
    point = prf(t, b)[0] - prf(t, a)[0]
    low, high = np.percentile(diff, [2.5, 97.5])
    return float(point), float(low), float(high)

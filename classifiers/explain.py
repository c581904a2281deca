"""Top terms behind a linear decision, for a whole batch at once (vectorised)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


def top_terms(
    matrix: sparse.csr_matrix, weights: np.ndarray, columns: np.ndarray, terms: Sequence[str], k: int = 5
) -> list[list[str]]:
    """For each row, the ``k`` terms with the largest positive contribution (tf-idf × weight)
    to the score of that row's output column ``columns[row]``."""
    n_rows = matrix.shape[0]
    rows = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
    contributions = matrix.data * weights[matrix.indices, columns[rows]]
    positive = contributions > 0
    rows, contributions, indices = rows[positive], contributions[positive], matrix.indices[positive]
    out: list[list[str]] = [[] for _ in range(n_rows)]
    if rows.size == 0:
        return out
    # One argsort: the integer part orders rows, the fraction orders contributions (largest first).
    key = rows + 0.5 * (1.0 - contributions / (float(contributions.max()) * 1.000001))
    order = np.argsort(key, kind="stable")
    sorted_rows = rows[order]
    starts = np.searchsorted(sorted_rows, np.arange(n_rows))
    rank = np.arange(order.size) - starts[sorted_rows]
    keep = order[rank < k]
    for row, index in zip(rows[keep].tolist(), indices[keep].tolist(), strict=True):
        out[row].append(terms[index])
    return out

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
    if weights.flags.c_contiguous:  # one flat gather: several times faster than weights[i, j]
        flat = matrix.indices.astype(np.intp) * weights.shape[1] + columns[rows]
        contributions = matrix.data * weights.reshape(-1)[flat]
    else:
        contributions = matrix.data * weights[matrix.indices, columns[rows]]
    positive = contributions > 0
    rows, contributions, indices = rows[positive], contributions[positive], matrix.indices[positive]
    out: list[list[str]] = [[] for _ in range(n_rows)]
    if rows.size == 0:
        return out
    # One argsort: the integer part orders rows, the fraction orders contributions (largest first).
    key = rows + 0.5 * (1.0 - contributions / (float(contributions.max()) * 1.000001))
    # Only entries that can be among their row's k smallest keys take part in the sort.
    candidates = _candidates(key, rows, n_rows, k)
    key, rows, indices = key[candidates], rows[candidates], indices[candidates]
    order = np.argsort(key, kind="stable")
    sorted_rows = rows[order]
    starts = np.searchsorted(sorted_rows, np.arange(n_rows))
    rank = np.arange(order.size) - starts[sorted_rows]
    keep = order[rank < k]
    for row, index in zip(rows[keep].tolist(), indices[keep].tolist(), strict=True):
        out[row].append(terms[index])
    return out


def _candidates(key: np.ndarray, rows: np.ndarray, n_rows: int, k: int) -> np.ndarray:
    """Mask of the entries whose key is at most a bound on their row's k-th smallest key: the
    row's entries are cut into k consecutive chunks, and the largest of the chunk minima is
    the key of one of k distinct entries, so at least k entries are at or below it. Keeping
    every entry at or below the bound keeps each row's k smallest keys and, the sort being
    stable, their order among equal keys. Rows with fewer than k entries keep all of them.
    ``rows`` is sorted and each row's keys lie in [row, row + 1)."""
    counts = np.bincount(rows, minlength=n_rows)
    full = np.flatnonzero(counts >= k)
    bound = np.full(n_rows, np.inf)
    if full.size:
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[full]
        cuts = starts[:, None] + (np.arange(k)[None, :] * counts[full][:, None]) // k
        # A chunk that runs on into later rows has the same minimum: their keys are larger.
        minima = np.minimum.reduceat(key, cuts.ravel()).reshape(full.size, k)
        bound[full] = minima.max(axis=1)
    mask: np.ndarray = key <= bound[rows]
    return mask

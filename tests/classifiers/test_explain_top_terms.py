"""top_terms (vectorised, with a candidate pre-filter) against a plain per-row sort."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from classifiers.explain import top_terms


def _plain(matrix: sparse.csr_matrix, weights: np.ndarray, columns: np.ndarray, k: int) -> list[list[int]]:
    out = []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        pairs = [
            (float(matrix.data[i] * weights[matrix.indices[i], columns[row]]), int(matrix.indices[i]))
            for i in range(start, end)
        ]
        pairs = [p for p in pairs if p[0] > 0]
        pairs.sort(key=lambda p: -p[0])  # stable: equal contributions keep column order
        out.append([index for _, index in pairs[:k]])
    return out


@pytest.mark.parametrize("k", [1, 2, 5, 9])
def test_top_terms_match_a_plain_sort(k: int) -> None:
    rng = np.random.default_rng(3)
    n_rows, n_features, n_out = 60, 400, 4
    matrix = sparse.random(n_rows, n_features, density=0.05, format="csr", random_state=4, dtype=np.float32)
    matrix.data = np.round(matrix.data * 4) / 4 + 0.25  # ties between contributions
    keep = np.ones(n_rows, dtype=np.float32)
    keep[5] = 0  # an empty row
    matrix = sparse.csr_matrix(sparse.diags(keep) @ matrix)
    matrix.eliminate_zeros()
    weights = np.round(rng.normal(size=(n_features, n_out)) * 4).astype(np.float32) / 4
    columns = rng.integers(0, n_out, size=n_rows)
    terms = [f"t{i}" for i in range(n_features)]
    expected = [[terms[i] for i in row] for row in _plain(matrix, weights, columns, k)]
    assert top_terms(matrix, weights, columns, terms, k) == expected
    assert top_terms(matrix, np.asfortranarray(weights), columns, terms, k) == expected

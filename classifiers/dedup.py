"""Near-duplicate grouping for leak-free splits (training/evaluation only; needs scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SIMILARITY = 0.5


def near_duplicate_groups(texts: Sequence[str], threshold: float = SIMILARITY) -> list[int]:
    """For each text, the index of the first text of its near-duplicate component."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), min_df=2, max_df=0.05, dtype=np.float32)
    matrix = vectorizer.fit_transform(texts)
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    step = 2000
    for start in range(0, matrix.shape[0], step):
        block = (matrix[start : start + step] @ matrix.T).tocoo()
        keep = block.data >= threshold
        for i, j in zip(block.row[keep] + start, block.col[keep], strict=True):
            if i != j:
                a, b = find(int(i)), find(int(j))
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return [find(i) for i in range(len(texts))]

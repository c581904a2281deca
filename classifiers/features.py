"""The one feature pass every task shares: TF-IDF over words, word bigrams and character bigrams.

Words come from the tokenizer (jieba dictionary + user words, HMM off); character bigrams make
the features robust to segmentation differences between the pre-segmented training corpus and
raw input. Digits are folded to 0 so that numbers do not become vocabulary. Vectorising is
written by hand (dict look-ups into a CSR matrix) because scikit-learn's analyzers are several
times slower and the features are the throughput bottleneck.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, pairwise, repeat
from operator import add, is_not

import numpy as np
from scipy import sparse

_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
_NON_WORD = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]+")
NAMESPACES = ("w", "b", "c")  # words, word bigrams, character bigrams


def feature_text(normalized: str) -> str:
    """The text features are read from: normalised, digits folded to 0."""
    return normalized.translate(_DIGITS_TO_ZERO)


def analyze(tokens: Sequence[str], text: str) -> tuple[list[str], list[str], list[str]]:
    """Word, word-bigram and character-bigram terms of one document (for fitting)."""
    words = [t for t in tokens if t[0].isalnum()]
    bigrams = [f"{a} {b}" for a, b in pairwise(words)]
    chars = _NON_WORD.sub("", text)
    return words, bigrams, [chars[i : i + 2] for i in range(len(chars) - 1)]


@dataclass
class FeatureSpace:
    """Vocabulary (term → column per namespace) and IDF weights."""

    vocab: dict[str, dict[str, int]]
    idf: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.idf.shape[0])

    def terms(self) -> list[str]:
        """Column index → human-readable term (word, 'a b' bigram, or '«ab»' char bigram)."""
        names = [""] * self.n_features
        for namespace, table in self.vocab.items():
            for term, column in table.items():
                names[column] = f"«{term}»" if namespace == "c" else term
        return names

    def _columns(self, tokens: Sequence[str], text: str) -> list[int]:
        # map/filter keep the per-term loop in C: this is the hot path of classification.
        words_get, bigram_get, char_get = (self.vocab[n].get for n in NAMESPACES)
        words = [t for t in tokens if t[0].isalnum()]
        spaced = map(add, words, repeat(" "))
        chars = _NON_WORD.sub("", text)
        found = chain(
            map(words_get, words),
            map(bigram_get, map(add, spaced, words[1:])),
            map(char_get, map(add, chars, chars[1:])),
        )
        return list(filter(partial(is_not, None), found))  # type: ignore[arg-type]

    def transform(self, token_lists: Sequence[Sequence[str]], texts: Sequence[str]) -> sparse.csr_matrix:
        """L2-normalised sublinear TF-IDF rows for documents given as tokens + feature text."""
        indptr = [0]
        indices: list[int] = []
        for tokens, text in zip(token_lists, texts, strict=True):
            indices.extend(self._columns(tokens, text))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        shape = (len(indptr) - 1, self.n_features)
        matrix = sparse.csr_matrix((data, np.asarray(indices, dtype=np.int32), indptr), shape=shape)
        matrix.sum_duplicates()
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
        matrix.data *= self.idf[matrix.indices]
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        matrix.data /= np.repeat(norms, np.diff(matrix.indptr)).astype(np.float32)
        return matrix


def fit_feature_space(
    analyzed: Iterable[tuple[list[str], list[str], list[str]]],
    max_terms: dict[str, int],
    min_df: int = 2,
) -> FeatureSpace:
    """Choose the most frequent terms per namespace (document frequency ≥ ``min_df``)."""
    counts = {n: Counter[str]() for n in NAMESPACES}
    n_docs = 0
    for parts in analyzed:
        n_docs += 1
        for namespace, terms in zip(NAMESPACES, parts, strict=True):
            counts[namespace].update(set(terms))
    vocab: dict[str, dict[str, int]] = {}
    dfs: list[int] = []
    for namespace in NAMESPACES:
        kept = [(t, df) for t, df in counts[namespace].most_common(max_terms[namespace]) if df >= min_df]
        kept.sort()
        vocab[namespace] = {t: len(dfs) + i for i, (t, _) in enumerate(kept)}
        dfs.extend(df for _, df in kept)
    df_array = np.asarray(dfs, dtype=np.float64)
    idf = (np.log((1 + n_docs) / (1 + df_array)) + 1.0).astype(np.float32)
    return FeatureSpace(vocab=vocab, idf=idf)

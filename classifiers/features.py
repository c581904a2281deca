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
from dataclasses import dataclass, field
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
    words = list(filter(str.isalnum, tokens))
    bigrams = [f"{a} {b}" for a, b in pairwise(words)]
    chars = _NON_WORD.sub("", text)
    return words, bigrams, [chars[i : i + 2] for i in range(len(chars) - 1)]


@dataclass
class FeatureSpace:
    """Vocabulary (term → column per namespace) and IDF weights."""

    vocab: dict[str, dict[str, int]]
    idf: np.ndarray
    _char_keys: np.ndarray | None = field(default=None, repr=False)
    _char_cols: np.ndarray | None = field(default=None, repr=False)

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

    def _word_columns(self, tokens: Sequence[str]) -> list[int]:
        # map/filter keep the per-term loop in C: this is the hot path of classification.
        words_get, bigram_get = self.vocab["w"].get, self.vocab["b"].get
        words = list(filter(str.isalnum, tokens))  # drops punctuation and whitespace tokens
        spaced = map(add, words, repeat(" "))
        found = chain(map(words_get, words), map(bigram_get, map(add, spaced, words[1:])))
        return list(filter(partial(is_not, None), found))  # type: ignore[arg-type]

    def _char_table(self) -> tuple[np.ndarray, np.ndarray]:
        if self._char_keys is None or self._char_cols is None:
            table = self.vocab["c"]
            keys = np.array([(ord(t[0]) << 21) | ord(t[1]) for t in table], dtype=np.uint64)
            order = np.argsort(keys)
            self._char_keys = keys[order]
            self._char_cols = np.fromiter(table.values(), dtype=np.int32, count=len(table))[order]
        return self._char_keys, self._char_cols

    def _char_entries(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known character bigram of the batch, found with one
        vectorised search: code points → 42-bit keys → searchsorted in the sorted vocabulary."""
        keys_sorted, columns = self._char_table()
        cleaned = [_NON_WORD.sub("", t) for t in texts]
        joined = "\x00".join(cleaned)  # NUL separates documents (never inside a bigram)
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        if points.size < 2 or keys_sorted.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        keys = (points[:-1] << np.uint64(21)) | points[1:]
        rows = np.repeat(np.arange(len(cleaned)), [len(c) + 1 for c in cleaned])[: points.size - 1]
        where = np.minimum(np.searchsorted(keys_sorted, keys), keys_sorted.size - 1)
        hit = (keys_sorted[where] == keys) & (points[:-1] != 0) & (points[1:] != 0)
        return rows[hit], columns[where[hit]]

    def transform(self, token_lists: Sequence[Sequence[str]], texts: Sequence[str]) -> sparse.csr_matrix:
        """L2-normalised sublinear TF-IDF rows for documents given as tokens + feature text."""
        word_columns = [self._word_columns(tokens) for tokens in token_lists]
        word_rows = np.repeat(np.arange(len(word_columns)), [len(c) for c in word_columns])
        char_rows, char_columns = self._char_entries(texts)
        rows = np.concatenate([word_rows, char_rows])
        cols = np.concatenate([np.fromiter(chain.from_iterable(word_columns), dtype=np.int32), char_columns])
        data = np.ones(rows.size, dtype=np.float32)
        shape = (len(word_columns), self.n_features)
        matrix = sparse.coo_matrix((data, (rows, cols)), shape=shape).tocsr()
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

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
from itertools import pairwise, repeat

import numpy as np
from scipy import sparse

_NONZERO_DIGIT = re.compile("[1-9]")
_NON_WORD = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]+")
NAMESPACES = ("w", "b", "c")  # words, word bigrams, character bigrams


def feature_text(normalized: str) -> str:
    """The text features are read from: normalised, digits folded to 0 (a regex substitution:
    several times faster than ``str.translate`` on CJK text)."""
    return _NONZERO_DIGIT.sub("0", normalized)


def analyze(tokens: Sequence[str], text: str) -> tuple[list[str], list[str], list[str]]:
    """Word, word-bigram and character-bigram terms of one document (for fitting)."""
    words = list(filter(str.isalnum, tokens))
    bigrams = [f"{a} {b}" for a, b in pairwise(words)]
    chars = _NON_WORD.sub("", text)
    return words, bigrams, [chars[i : i + 2] for i in range(len(chars) - 1)]


@dataclass(frozen=True)
class _WordIndex:
    """Integer ids for every word of the word and bigram vocabularies, so that bigram look-ups
    are integer searches: key = id(a) * n_ids + id(b)."""

    ids: dict[str, int]
    n_ids: int
    word_columns: np.ndarray  # id → column of the word feature, −1 when the word is no feature
    bigram_keys: np.ndarray  # sorted int64 keys
    bigram_columns: np.ndarray  # column of each key

    @classmethod
    def build(cls, words: dict[str, int], bigrams: dict[str, int]) -> _WordIndex:
        ids: dict[str, int] = {w: i for i, w in enumerate(words)}
        for bigram in bigrams:
            for word in bigram.split(" "):
                ids.setdefault(word, len(ids))
        word_columns = np.full(len(ids), -1, dtype=np.int64)
        word_columns[: len(words)] = np.fromiter(words.values(), dtype=np.int64, count=len(words))
        pairs = [bigram.split(" ") for bigram in bigrams]
        keys = np.array([ids[a] * len(ids) + ids[b] for a, b in pairs], dtype=np.int64)
        columns = np.fromiter(bigrams.values(), dtype=np.int32, count=len(bigrams))
        order = np.argsort(keys)
        return cls(ids, len(ids), word_columns, keys[order], columns[order])

    def bigrams(self, ids: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of the known bigrams among consecutive ids (−1 never pairs)."""
        if self.bigram_keys.size == 0 or ids.size < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        left, right = ids[:-1], ids[1:]
        keys = left * self.n_ids + right
        where = np.minimum(np.searchsorted(self.bigram_keys, keys), self.bigram_keys.size - 1)
        hit = (left >= 0) & (right >= 0) & (self.bigram_keys[where] == keys)
        return rows[:-1][hit], self.bigram_columns[where[hit]]


@dataclass
class FeatureSpace:
    """Vocabulary (term → column per namespace) and IDF weights."""

    vocab: dict[str, dict[str, int]]
    idf: np.ndarray
    _words: _WordIndex | None = field(default=None, repr=False)
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

    def _word_index(self) -> _WordIndex:
        if self._words is None:
            self._words = _WordIndex.build(self.vocab["w"], self.vocab["b"])
        return self._words

    def _word_entries(self, token_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known word and word bigram of the batch: one dict look-up per
        token (in C via map), then integer bigram keys searched in the sorted vocabulary."""
        index = self._word_index()
        flat: list[int] = []
        lengths = []
        for tokens in token_lists:
            ids = list(map(index.ids.get, filter(str.isalnum, tokens), repeat(-1)))
            flat.extend(ids)
            flat.append(-1)  # separates documents: no bigram spans two of them
            lengths.append(len(ids) + 1)
        ids_array = np.asarray(flat, dtype=np.int64)
        rows = np.repeat(np.arange(len(lengths)), lengths)
        known = ids_array >= 0
        word_columns = np.where(known, index.word_columns[np.maximum(ids_array, 0)], -1)
        is_word = word_columns >= 0
        bigram_rows, bigram_columns = index.bigrams(ids_array, rows)
        out_rows = np.concatenate([rows[is_word], bigram_rows])
        out_cols = np.concatenate([word_columns[is_word], bigram_columns])
        return out_rows, out_cols.astype(np.int32)

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
        word_rows, word_columns = self._word_entries(token_lists)
        char_rows, char_columns = self._char_entries(texts)
        rows = np.concatenate([word_rows, char_rows])
        cols = np.concatenate([word_columns, char_columns])
        data = np.ones(rows.size, dtype=np.float32)
        shape = (len(token_lists), self.n_features)
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

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
from itertools import chain, compress, pairwise, repeat

import numpy as np
from scipy import sparse

_NONZERO_DIGIT = re.compile("[1-9]")
_NON_WORD = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff]+")
NAMESPACES = ("w", "b", "c")  # words, word bigrams, character bigrams


def feature_text(normalized: str) -> str:
    """The text features are read from: normalised, digits folded to 0 (a regex substitution:
    several times faster than ``str.translate`` on CJK text)."""
    return _NONZERO_DIGIT.sub("0", normalized)


def feature_texts(normalized: Sequence[str]) -> list[str]:
    """``[feature_text(n) for n in normalized]`` for a batch: one encode, one masked assignment
    over the code points, one decode."""
    if not normalized:
        return []
    joined = "\x00".join(normalized)  # NUL is no digit, so it still separates the texts
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).copy()
    points[(points >= ord("1")) & (points <= ord("9"))] = ord("0")
    return points.tobytes().decode("utf-32-le").split("\x00")


def _word_chars(points: np.ndarray) -> np.ndarray:
    """Which code points are in ``[0-9A-Za-z\u4e00-\u9fff]`` (the complement of ``_NON_WORD``)."""
    return (
        ((points >= 0x4E00) & (points <= 0x9FFF))
        | ((points >= ord("0")) & (points <= ord("9")))
        | ((points >= ord("A")) & (points <= ord("Z")))
        | ((points >= ord("a")) & (points <= ord("z")))
    )


def analyze(tokens: Sequence[str], text: str) -> tuple[list[str], list[str], list[str]]:
    """Word, word-bigram and character-bigram terms of one document (for fitting)."""
    words = list(filter(str.isalnum, tokens))
    bigrams = [f"{a} {b}" for a, b in pairwise(words)]
    chars = _NON_WORD.sub("", text)
    return words, bigrams, [chars[i : i + 2] for i in range(len(chars) - 1)]


class _KeyTable:
    """A read-only hash table from int64 keys (0 ≤ key < 2^44) to int32 values (0 ≤ value <
    2^19), looked up for a whole array of keys at once. It gives the same answers as a binary
    search of the sorted keys (which made ``searchsorted`` a tenth of the feature pass), with
    one memory access for most queries: each slot packs key and value into one int64, empty
    slots are −1, and the few keys whose home slot holds another key fall back to the search."""

    _VALUE_BITS = 19
    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        if keys.size and (int(keys.min()) < 0 or int(keys.max()) >= 1 << 44):
            raise ValueError("keys must be in [0, 2^44)")
        if values.size and (int(values.min()) < 0 or int(values.max()) >= 1 << self._VALUE_BITS):
            raise ValueError(f"values must be in [0, 2^{self._VALUE_BITS})")
        bits = max(4, int(len(keys) * 8 - 1).bit_length())  # load factor ≤ 1/8
        self._shift = np.uint64(64 - bits)
        self.size = len(keys)
        order = np.argsort(keys)
        self._sorted_keys, self._sorted_values = keys[order], values[order]
        slots = np.full(1 << bits, -1, dtype=np.int64)
        # The first key of a slot keeps it; later ones are found by the search.
        homes, first = np.unique(self._homes(keys), return_index=True)
        slots[homes] = (keys[first].astype(np.int64) << self._VALUE_BITS) | values[first]
        self._slots = slots

    def _homes(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * self._MULTIPLIER) >> self._shift).astype(np.intp)

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of every key (int64 in range), −1 where the key is absent."""
        if self.size == 0 or keys.size == 0:
            return np.full(keys.size, -1, dtype=np.int32)
        entries = self._slots[self._homes(keys)]
        stored = entries >> self._VALUE_BITS  # −1 for an empty slot
        out = np.where(stored == keys, entries & ((1 << self._VALUE_BITS) - 1), -1).astype(np.int32)
        rest = np.flatnonzero((stored != keys) & (stored >= 0))
        if rest.size:
            where = np.minimum(np.searchsorted(self._sorted_keys, keys[rest]), self.size - 1)
            known = self._sorted_keys[where] == keys[rest]
            out[rest[known]] = self._sorted_values[where[known]]
        return out


@dataclass(frozen=True)
class _WordIndex:
    """Integer ids for every word of the word and bigram vocabularies, so that bigram look-ups
    are integer look-ups: key = id(a) * n_ids + id(b)."""

    ids: dict[str, int]
    n_ids: int
    word_columns: np.ndarray  # id → column of the word feature, −1 when the word is no feature
    bigram_table: _KeyTable  # key → column
    tokens: _TokenIds

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
        return cls(ids, len(ids), word_columns, _KeyTable(keys, columns), _TokenIds(ids))

    def bigrams(self, ids: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of the known bigrams among consecutive ids of one row (−1 never pairs)."""
        if self.bigram_table.size == 0 or ids.size < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        left, right = ids[:-1], ids[1:]
        both = (left >= 0) & (right >= 0) & (rows[:-1] == rows[1:])  # no bigram spans two documents
        columns = self.bigram_table.get(left[both] * self.n_ids + right[both])
        hit = columns >= 0
        return rows[:-1][both][hit], columns[hit]


class _TokenIds:
    """Word ids of a batch's alphanumeric tokens from the code points of the texts they cut:
    a token of up to MAX_LEN characters is a key of its characters' vocabulary indices
    looked up in a hash table; only longer tokens use the ``ids`` dict. Same answers as
    ``ids.get(token, -1)`` over ``filter(str.isalnum, tokens)``, without hashing a string."""

    MAX_LEN = 3

    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids
        chars = np.unique(np.frombuffer("".join(ids).encode("utf-32-le"), dtype=np.uint32))
        self._bits = max(1, len(chars).bit_length())  # character index 1…len(chars); 0: in no word
        self.enabled = 2 + self.MAX_LEN * self._bits <= 44 and len(ids) < 1 << 19 and len(chars) < 1 << 16
        self._char_index = np.zeros(0x110000, dtype=np.uint16)
        self._alnum = np.full(0x110000, -1, dtype=np.int8)  # str.isalnum per code point, filled on use
        if not self.enabled:
            self._table = _KeyTable(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32))
            return
        self._char_index[chars] = np.arange(1, len(chars) + 1)
        short = [word for word in ids if len(word) <= self.MAX_LEN]
        indices = self._char_index[np.frombuffer("".join(short).encode("utf-32-le"), dtype=np.uint32)]
        lengths = np.fromiter(map(len, short), dtype=np.intp, count=len(short))
        keys, _ = self._keys(indices, np.cumsum(lengths) - lengths, lengths)
        self._table = _KeyTable(keys, np.fromiter(map(ids.__getitem__, short), dtype=np.int32, count=len(short)))

    def _keys(self, indices: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keys of the words at ``starts`` (``lengths`` ≤ MAX_LEN characters) of a text whose
        characters' vocabulary indices are ``indices``, and whether every character of the
        word has an index (occurs in some vocabulary word)."""
        keys = lengths.astype(np.int64)
        in_words = np.ones(lengths.size, dtype=bool)
        for j in range(self.MAX_LEN):
            present = lengths > j
            index = np.where(present, indices[np.minimum(starts + j, max(indices.size - 1, 0))], 0).astype(np.int64)
            in_words &= ~present | (index > 0)
            keys |= index << (2 + self._bits * j)
        return keys, in_words

    def _alnum_chars(self, points: np.ndarray) -> np.ndarray:
        known = self._alnum[points]
        if (known < 0).any():
            for point in np.unique(points[known < 0]).tolist():
                self._alnum[point] = chr(point).isalnum()
            known = self._alnum[points]
        alnum: np.ndarray = known == 1
        return alnum

    def lookup(
        self, token_lists: Sequence[Sequence[str]], texts: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(id, row) of every alphanumeric token in order; None when the tokens of each list do
        not spell its text (the caller then looks the tokens up one by one)."""
        if not self.enabled:
            return None
        flat = list(chain.from_iterable(token_lists))
        joined = "".join(texts)
        # The tokens joined by NUL: NULs mark where tokens end, the rest must be the texts.
        cut = np.frombuffer("\x00".join(flat).encode("utf-32-le"), dtype=np.uint32)
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        separators = np.flatnonzero(cut == 0)
        if separators.size != len(flat) - 1 or not np.array_equal(cut[cut != 0], points):
            return None  # a NUL in the text, or tokens that do not spell it
        ends = np.append(separators, cut.size) - np.arange(len(flat))  # token ends in ``points``
        lengths = np.diff(ends, prepend=0)
        starts = ends - lengths
        counts = np.fromiter(map(len, token_lists), dtype=np.intp, count=len(token_lists))
        text_ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.intp, count=len(texts)))
        last_tokens = np.cumsum(counts) - 1
        token_text_ends = np.where(last_tokens >= 0, ends[np.maximum(last_tokens, 0)], 0)
        if not np.array_equal(token_text_ends, text_ends):
            return None  # a token list that does not spell its own text
        not_alnum = np.concatenate([[0], np.cumsum(~self._alnum_chars(points))])
        is_alnum = (lengths > 0) & (not_alnum[ends] == not_alnum[starts])  # str.isalnum: all characters
        rows = np.repeat(np.arange(len(token_lists)), counts)[is_alnum]
        starts, lengths = starts[is_alnum], lengths[is_alnum]
        ids = np.full(starts.size, -1, dtype=np.int64)
        short = lengths <= self.MAX_LEN
        keys, in_words = self._keys(self._char_index[points], starts[short], lengths[short])
        short_ids = np.full(keys.size, -1, dtype=np.int64)
        short_ids[in_words] = self._table.get(keys[in_words])
        ids[short] = short_ids
        long = np.flatnonzero(is_alnum)[~short]
        if long.size:
            words = list(map(flat.__getitem__, long.tolist()))
            ids[~short] = np.fromiter(map(self.ids.get, words, repeat(-1)), dtype=np.int64, count=len(words))
        return ids, rows


@dataclass
class FeatureSpace:
    """Vocabulary (term → column per namespace) and IDF weights."""

    vocab: dict[str, dict[str, int]]
    idf: np.ndarray
    _words: _WordIndex | None = field(default=None, repr=False)
    _chars: _KeyTable | None = field(default=None, repr=False)

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

    def _word_entries(
        self, token_lists: Sequence[Sequence[str]], texts: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known word and word bigram of the batch: word ids of the
        alphanumeric tokens (from the code points of ``texts`` when the tokens spell them,
        else one dict look-up per token), then integer bigram keys looked up in the
        vocabulary's hash table."""
        index = self._word_index()
        found = None if texts is None else index.tokens.lookup(token_lists, texts)
        if found is None:
            flat = list(chain.from_iterable(token_lists))
            alnum = list(map(str.isalnum, flat))
            words = list(compress(flat, alnum))
            ids = np.fromiter(map(index.ids.get, words, repeat(-1)), dtype=np.int64, count=len(words))
            lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
            rows = np.repeat(np.arange(len(token_lists)), lengths)[np.fromiter(alnum, dtype=bool, count=len(alnum))]
        else:
            ids, rows = found
        known = ids >= 0
        word_columns = np.where(known, index.word_columns[np.maximum(ids, 0)], -1)
        is_word = word_columns >= 0
        bigram_rows, bigram_columns = index.bigrams(ids, rows)
        out_rows = np.concatenate([rows[is_word], bigram_rows])
        out_cols = np.concatenate([word_columns[is_word], bigram_columns])
        return out_rows, out_cols.astype(np.int32)

    def _char_table(self) -> _KeyTable:
        if self._chars is None:
            table = self.vocab["c"]
            keys = np.array([(ord(t[0]) << 21) | ord(t[1]) for t in table], dtype=np.int64)
            self._chars = _KeyTable(keys, np.fromiter(table.values(), dtype=np.int32, count=len(table)))
        return self._chars

    def _char_entries(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known character bigram of the batch (the bigrams of each text
        with ``_NON_WORD`` removed), found with one vectorised look-up: code points → word
        characters only → 42-bit keys → hash table of the vocabulary."""
        table = self._char_table()
        points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        keep = _word_chars(points)
        points, rows = points[keep], np.repeat(np.arange(len(texts)), lengths)[keep]
        if points.size < 2 or table.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        same = rows[:-1] == rows[1:]  # no bigram spans two documents
        columns = table.get(((points[:-1] << 21) | points[1:])[same])
        hit = columns >= 0
        return rows[:-1][same][hit], columns[hit]

    def transform(self, token_lists: Sequence[Sequence[str]], texts: Sequence[str]) -> sparse.csr_matrix:
        """L2-normalised sublinear TF-IDF rows for documents given as tokens + feature text."""
        word_rows, word_columns = self._word_entries(token_lists, texts)
        char_rows, char_columns = self._char_entries(texts)
        shape = (len(token_lists), self.n_features)
        matrix = _count_matrix(
            np.concatenate([word_rows, char_rows]), np.concatenate([word_columns, char_columns]), shape
        )
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
        matrix.data *= self.idf[matrix.indices]
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        matrix.data /= np.repeat(norms, np.diff(matrix.indptr)).astype(np.float32)
        return matrix


def _count_matrix(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    """CSR matrix of how often each (row, column) pair occurs, indices sorted within rows: what
    ``coo_matrix((ones, (rows, columns))).tocsr()`` + ``sum_duplicates()`` give, built with one
    sort of the flat keys (scipy's per-row index sort was the slower half)."""
    n_rows, n_columns = shape
    key_type = np.dtype(np.int32 if n_rows * n_columns < 2**31 else np.int64)
    keys = rows.astype(key_type)
    keys *= n_columns
    keys += columns
    keys.sort()
    first = np.ones(keys.size, dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, keys.size)).astype(np.float32)
    unique = keys[starts]
    unique_rows = unique // n_columns
    indptr = np.searchsorted(unique_rows, np.arange(n_rows + 1))
    return sparse.csr_matrix((counts, (unique - unique_rows * n_columns).astype(np.int32), indptr), shape=shape)


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

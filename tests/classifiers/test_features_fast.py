"""The vectorised feature helpers give what their plain versions give."""

from __future__ import annotations

import random

import numpy as np

from classifiers.features import FeatureSpace, _KeyTable, analyze, feature_text, feature_texts


def test_key_table_answers_like_a_dict() -> None:
    rng = random.Random(7)
    mapping = {rng.randrange(1 << 42): rng.randrange(100_000) for _ in range(5_000)}
    table = _KeyTable(np.array(list(mapping), dtype=np.int64), np.array(list(mapping.values()), dtype=np.int32))
    queries = list(mapping) + [rng.randrange(1 << 42) for _ in range(20_000)]
    got = table.get(np.array(queries, dtype=np.int64)).tolist()
    assert got == [mapping.get(q, -1) for q in queries]


def test_empty_key_table() -> None:
    table = _KeyTable(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32))
    assert table.get(np.array([1, 2], dtype=np.int64)).tolist() == [-1, -1]


def test_feature_texts_fold_digits_like_feature_text() -> None:
    texts = ["2024年3月5日,19人受伤", "", "abc 987\n零一二"]
    assert feature_texts(texts) == [feature_text(t) for t in texts]


def test_entries_match_the_analyzer() -> None:
    texts = ["某市发生火灾,3人死亡。", "", "ab12 消防 ab", "x", "居民反映:小区停水停电!"]
    tokens = [list(t.replace(",", " , ").split(" ")) for t in texts]
    parts = [analyze(tok, t) for tok, t in zip(tokens, texts, strict=True)]
    words = sorted({w for p in parts for w in p[0]})
    bigrams = sorted({b for p in parts for b in p[1]})
    chars = sorted({c for p in parts for c in p[2]})
    vocab = {
        "w": {w: i for i, w in enumerate(words)},
        "b": {b: len(words) + i for i, b in enumerate(bigrams)},
        "c": {c: len(words) + len(bigrams) + i for i, c in enumerate(chars)},
    }
    space = FeatureSpace(vocab=vocab, idf=np.ones(len(words) + len(bigrams) + len(chars), dtype=np.float32))
    rows, columns = space._word_entries(tokens)
    char_rows, char_columns = space._char_entries(texts)
    for row, (w, b, c) in enumerate(parts):
        expected = sorted([vocab["w"][x] for x in w] + [vocab["b"][x] for x in b] + [vocab["c"][x] for x in c])
        got = sorted(columns[rows == row].tolist() + char_columns[char_rows == row].tolist())
        assert got == expected


def _space(words: list[str]) -> FeatureSpace:
    vocab = {"w": {w: i for i, w in enumerate(words)}, "b": {}, "c": {}}
    return FeatureSpace(vocab=vocab, idf=np.ones(len(words), dtype=np.float32))


def test_token_ids_from_code_points_match_dict_look_ups() -> None:
    words = ["火灾", "3", "人", "死亡", "消防救援", "ab0", "abcd", "Ⅳ级", "𠀋城"]
    space = _space(words)
    token_lists = [
        ["某市", "火灾", ",", "3", "人", "死亡", "。"],
        [],
        ["消防救援", "ab0", " ", "abcd", "abc", "Ⅳ级", "𠀋城", "𠀋"],
        ["x"],
    ]
    texts = ["".join(tokens) for tokens in token_lists]
    index = space._word_index()
    found = index.tokens.lookup(token_lists, texts)
    assert found is not None
    ids, rows = found
    expected = [
        (words.index(t) if t in words else -1, r) for r, ts in enumerate(token_lists) for t in ts if t.isalnum()
    ]
    assert list(zip(ids.tolist(), rows.tolist(), strict=True)) == expected


def test_token_ids_fall_back_when_tokens_do_not_spell_the_texts() -> None:
    index = _space(["火灾"])._word_index()
    assert index.tokens.lookup([["火灾"], ["人"]], ["火灾人", ""]) is None  # a token in the wrong text
    assert index.tokens.lookup([["火", "灾"]], ["火灾!"]) is None
    assert index.tokens.lookup([["火\x00", "灾"]], ["火\x00灾"]) is None  # NUL marks token ends
    assert index.tokens.lookup([[]], [""]) is None
    space = _space(["火灾"])
    rows, columns = space._word_entries([["火", "灾"], ["火灾"]], ["火灾!", "火灾"])
    assert rows.tolist() == [1] and columns.tolist() == [0]


def test_count_matrix_equals_scipy_coo_sum() -> None:
    from scipy import sparse

    from classifiers.features import _count_matrix

    rng = np.random.default_rng(1)
    for n_rows, n_columns, n in [(5, 7, 40), (3, 4, 0), (50, 1000, 3000)]:
        rows = rng.integers(0, n_rows, n)
        columns = rng.integers(0, n_columns, n).astype(np.int32)
        expected = sparse.coo_matrix((np.ones(n, np.float32), (rows, columns)), shape=(n_rows, n_columns)).tocsr()
        expected.sum_duplicates()
        got = _count_matrix(rows, columns, (n_rows, n_columns))
        assert np.array_equal(got.indptr, expected.indptr)
        assert np.array_equal(got.indices, expected.indices)
        assert np.array_equal(got.data, expected.data) and got.data.dtype == np.float32

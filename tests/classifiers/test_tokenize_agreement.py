"""rjieba may replace jieba only if it gives the same tokens on the corpora (HMM off)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from classifiers.corpora import CORPUS_FILES
from classifiers.normalize import normalize
from classifiers.tokenize import Tokenizer, base_user_words

pytest.importorskip("rjieba")


def _texts(data_dir: Path, limit: int) -> list[str]:
    texts: list[str] = []
    for name, column in (("responses", "detail"), ("cec", "text"), ("duee", "text"), ("tnews", "sentence")):
        with (data_dir / CORPUS_FILES[name]).open(encoding="utf-8") as handle:
            texts += [row[column] for _, row in zip(range(limit), csv.DictReader(handle), strict=False)]
    return texts


def test_rjieba_agrees_with_jieba_on_corpora(data_dir: Path) -> None:
    words = base_user_words()
    reference, fast = Tokenizer(words, backend="jieba"), Tokenizer(words, backend="rjieba")
    texts = [normalize(t) for t in _texts(data_dir, 400)]
    differing = [t for t in texts if reference.cut(t) != fast.cut(t)]
    assert not differing, f"{len(differing)}/{len(texts)} documents segment differently, e.g. {differing[0][:60]}"


def test_rjieba_agrees_with_jieba_on_user_words() -> None:
    words = base_user_words()
    reference, fast = Tokenizer(words, backend="jieba"), Tokenizer(words, backend="rjieba")
    text = normalize("城东街道住建局回应：烂尾楼、维修基金、直接经济损失约1200万元，网传系谣言")
    assert reference.cut(text) == fast.cut(text)

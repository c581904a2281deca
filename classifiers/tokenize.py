"""Word segmentation: jieba (the reference) or rjieba (same algorithm and dictionary, faster).

Both run with HMM off so that unknown-word guessing cannot make them disagree; the test
``test_tokenize_agreement`` checks on the shared corpora that rjieba gives jieba's tokens.
Government terms, department names and the gazetteer's place names are added as user words
with the same frequency in either backend.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Literal, Protocol

from classifiers.gazetteer import Gazetteer
from classifiers.normalize import normalize

Backend = Literal["auto", "jieba", "rjieba"]

# Frequency given to every user word that jieba's dictionary lacks: high enough that the word
# beats the product of its parts' probabilities, the same in both backends.
USER_WORD_FREQ = 2000


class _Segmenter(Protocol):
    def cut(self, text: str) -> list[str]: ...


class _RjiebaSegmenter:
    def __init__(self, words: Iterable[str]) -> None:
        import rjieba

        self._jieba = rjieba.Jieba()
        for word in words:
            if not self._jieba.has_word(word):
                self._jieba.add_word(word, USER_WORD_FREQ, None)

    def cut(self, text: str) -> list[str]:
        return self._jieba.cut(text, hmm=False)


class _JiebaSegmenter:
    def __init__(self, words: Iterable[str]) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for word in words:
            if not self._jieba.FREQ.get(word):
                self._jieba.add_word(word, USER_WORD_FREQ)

    def cut(self, text: str) -> list[str]:
        return list(self._jieba.cut(text, HMM=False))


def base_user_words(gazetteer: Gazetteer | None = None) -> list[str]:
    """User words: ``data/userdict.txt`` + the gazetteer's department terms and place names."""
    gazetteer = gazetteer or Gazetteer.default()
    text = resources.files("classifiers").joinpath("data/userdict.txt").read_text("utf-8")
    words = {w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#")}
    words.update(gazetteer.department_terms())
    words.update(gazetteer.place_names())
    # ASCII runs are kept whole by both backends already; only Chinese words need adding.
    return sorted(w for w in words if not w.isascii())


class Tokenizer:
    """Normalises then segments text; one instance per word list (it owns a dictionary)."""

    def __init__(self, extra_words: Iterable[str] = (), backend: Backend = "auto") -> None:
        words = sorted({normalize(w) for w in extra_words})
        self.backend = _resolve(backend)
        self._segmenter: _Segmenter = _RjiebaSegmenter(words) if self.backend == "rjieba" else _JiebaSegmenter(words)

    def cut(self, normalized_text: str) -> list[str]:
        """Segment text that is already normalised; whitespace tokens are dropped."""
        return [t for t in self._segmenter.cut(normalized_text) if not t.isspace()]

    def segment(self, normalized_text: str) -> list[str]:
        """Segment without dropping whitespace tokens (the feature pass filters them anyway)."""
        return self._segmenter.cut(normalized_text)

    def tokenize(self, text: str) -> list[str]:
        """Normalise and segment ``text``."""
        return self.cut(normalize(text))


def _resolve(backend: Backend) -> Literal["jieba", "rjieba"]:
    if backend != "auto":
        return backend
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return "jieba"
    return "rjieba"


@lru_cache(maxsize=2)
def default_tokenizer(backend: Backend = "auto") -> Tokenizer:
    """The tokenizer with the default user words (shared, built on first use)."""
    return Tokenizer(base_user_words(), backend=backend)


def tokenize(text: str) -> list[str]:
    """Normalise ``text`` and return its words (default dictionary + user words)."""
    return default_tokenizer().tokenize(text)

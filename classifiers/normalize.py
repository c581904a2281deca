"""Script and width normalisation: traditional → simplified, full width → half width.

Both are single-character mappings applied with one ``str.translate`` call (C speed). The
traditional → simplified table is OpenCC's TSCharacters (first candidate), shipped in
``data/t2s_chars.tsv``; OpenCC's phrase table is not applied, which only matters for a few
hundred idioms whose simplified form differs character by character from the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np

_FULLWIDTH_START = 0xFF01  # '！'
_FULLWIDTH_END = 0xFF5E  # '～'
_FULLWIDTH_OFFSET = 0xFEE0
_IDEOGRAPHIC_SPACE = 0x3000


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(_FULLWIDTH_START, _FULLWIDTH_END + 1):
        table[code] = chr(code - _FULLWIDTH_OFFSET)
    table[_IDEOGRAPHIC_SPACE] = " "
    # Small form variants (﹐﹑﹔﹕﹖﹗﹙﹚, Taiwanese and Hong Kong pages): the punctuation they stand for.
    table.update({0xFE50: ",", 0xFE51: "、", 0xFE52: ".", 0xFE54: ";", 0xFE55: ":", 0xFE56: "?", 0xFE57: "!"})
    table.update({0xFE59: "(", 0xFE5A: ")"})
    text = resources.files("classifiers").joinpath("data/t2s_chars.tsv").read_text("utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        src, dst = line.split("\t")
        table[ord(src)] = dst
    return table


def normalize(text: str) -> str:
    """Return ``text`` in simplified script with ASCII-width letters, digits and punctuation.

    >>> normalize("臺北市發生火災，３人死亡")
    '台北市发生火灾,3人死亡'
    """
    return text.translate(_table())


@lru_cache(maxsize=1)
def _lookup() -> np.ndarray:
    """The same mapping as an array over every code point (each mapping is one character to one
    character), for normalising a whole batch with one indexing operation."""
    lut = np.arange(0x110000, dtype=np.uint32)
    for source, target in _table().items():
        lut[source] = ord(target)
    return lut


def normalize_many(texts: Sequence[str]) -> list[str]:
    """``[normalize(t) for t in texts]``, vectorised: one encode, one table look-up, one decode."""
    if not texts:
        return []
    joined = "\x00".join(texts)  # NUL maps to itself, so it still separates the texts afterwards
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    return _lookup()[points].astype("<u4").tobytes().decode("utf-32-le").split("\x00")

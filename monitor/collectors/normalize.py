"""The text the classifier sees: simplified script, half-width letters and digits, tidy spaces.

The original text is kept in `items.text`; this produces `items.text_norm`. Traditional ->
simplified uses OpenCC (the C++ library with its bundled dictionaries, phrase-aware: 發佈 ->
发布, 颱風 -> 台风), full-width -> half-width uses Unicode NFKC (ＡＢＣ１２３ -> ABC123, and
full-width ASCII punctuation such as ：，（） -> :,()), which the classifier's tokens expect.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_converter().convert(text)) if text else text


def normalize_text(text: str) -> str:
    """NFKC (full-width -> half-width), traditional -> simplified, collapsed whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def title_core(title_norm: str) -> str:
    """A normalised title reduced to letters and digits (for exact-duplicate hashing)."""
    return "".join(ch for ch in title_norm if unicodedata.category(ch)[0] in "LN")

"""Plain text from HTML fragments (feed descriptions, list-page cells). Never renders HTML."""

from __future__ import annotations

import html
import re

_DROP = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_BREAK = re.compile(r"<(?:br|/p|/div|/li|/h[1-6]|/tr|/section|/article|/blockquote)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"[ \t\r\f\v\xa0\u3000]+")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates


def scrub(value: str) -> str:
    """NUL characters and lone surrogates replaced by U+FFFD: PostgreSQL text cannot hold NUL and
    neither UTF-8 output nor any database driver accepts a lone surrogate (a JSON Feed's
    "\\u0000" or "\\ud800" escapes, a broken page)."""
    return _UNSTORABLE.sub("\ufffd", value)


def html_to_text(markup: str) -> str:
    """Tags dropped (script/style with their content), entities decoded, one line per block."""
    if "<" not in markup and "&" not in markup:
        return _tidy(markup)
    text = _COMMENT.sub(" ", markup)
    text = _DROP.sub(" ", text)
    text = _BREAK.sub("\n", text)
    text = _TAG.sub(" ", text)
    return _tidy(html.unescape(text))


def _tidy(text: str) -> str:
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)

"""Parse local feed or page files (`monitor parse`): the same parsers the collectors use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.collectors.feeds import ParsedEntry, ParsedFeed, parse_feed, scrubbed
from monitor.collectors.html import extract_article, parse_list_page
from monitor.collectors.text import scrub

_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<div", b"<meta", b"<p>", b"<article")


def looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    if not head.startswith(b"<"):
        return False
    return any(marker in head for marker in _HTML_MARKERS) and b"<rss" not in head and b"<feed" not in head


def parse_document(body: bytes, *, name: str = "", options: Mapping[str, Any] | None = None) -> ParsedFeed:
    """A feed, a list page (when selector options are given) or one article page. Never raises;
    what it returns can always be printed as UTF-8 (NUL and lone surrogates are replaced)."""
    parsed = _parse(body, name, options)
    return ParsedFeed(
        [scrubbed(e) for e in parsed.entries],
        [scrub(w) for w in parsed.warnings],
        parsed.encoding,
        parsed.format,
        parsed.next_url,
    )


def _parse(body: bytes, name: str, options: Mapping[str, Any] | None) -> ParsedFeed:
    try:
        if options and options.get("item"):
            return parse_list_page(body, url=name, options=options)
        if looks_like_html(body):
            return _article(body, name)
        return parse_feed(body, url=name)
    except Exception as exc:  # the contract of `monitor parse`: never crash, say what went wrong
        return ParsedFeed([], [f"parser error: {type(exc).__name__}: {exc}"])


def _article(body: bytes, name: str) -> ParsedFeed:
    article = extract_article(body, url="")
    if not article.text and not article.title:
        return ParsedFeed([], [*article.warnings, f"no feed or article text found in {name or 'input'}"])
    entry = ParsedEntry(article.title, article.url or "", article.text, article.published, None)
    return ParsedFeed([entry], list(article.warnings), None, "html_article")


def is_bad(parsed: ParsedFeed) -> bool:
    """A file counts as bad when nothing usable came out of it and something was wrong."""
    return not parsed.entries and (bool(parsed.warnings) or parsed.format is None)

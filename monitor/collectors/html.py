"""HTML list pages (configured CSS selectors) and full article text (trafilatura, offline).

A source of kind `html_list` carries its selectors in `options`:

    item   CSS selector of one entry on the list page            (required, e.g. "ul.news li")
    link   selector of the element whose href is the article URL (default "a")
    title  selector of the title text inside an entry            (default: the link's text or title)
    date   selector of the date text inside an entry             (optional; Chinese forms understood)
    fetch_articles  fetch each new article page for its full text (default true)

Article pages go through trafilatura, which strips navigation and boilerplate; the raw HTML is
kept as evidence by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector, SelectorError

from monitor.collectors.dates import parse_date
from monitor.collectors.encoding import decode
from monitor.collectors.feeds import ParsedEntry, ParsedFeed

SELECTOR_OPTIONS = ("item", "link", "title", "date")
_MONTH_DAY = re.compile(r"^\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?\s*(?:(\d{1,2}):(\d{2}))?\s*$")


class SelectorConfigError(ValueError):
    """A source's CSS selector options are missing or invalid; the message says which and how to fix."""


@cache
def _selector(css: str) -> CSSSelector:
    return CSSSelector(css)


def check_selectors(options: Mapping[str, Any]) -> None:
    """Validate a list page's selector options (used when a source is added)."""
    if not options.get("item"):
        raise SelectorConfigError(
            "an html_list source needs an 'item' CSS selector, e.g. --option item='ul.news li' "
            "(one element per entry on the list page)"
        )
    for key in SELECTOR_OPTIONS:
        value = options.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise SelectorConfigError(f"option {key!r} must be a CSS selector string, got {value!r}")
        try:
            _selector(value)
        except SelectorError as exc:
            raise SelectorConfigError(f"option {key!r}: {value!r} is not a valid CSS selector ({exc})") from exc


def parse_list_page(
    body: bytes,
    *,
    url: str,
    options: Mapping[str, Any],
    content_type: str | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Entries of a list page. Bad selectors or HTML give warnings, never an exception."""
    try:
        check_selectors(options)
    except SelectorConfigError as exc:
        return ParsedFeed([], [str(exc)])
    decoded = decode(body, content_type)
    warnings = list(decoded.warnings)
    try:
        doc = lxml_html.document_fromstring(decoded.text)
    except (etree.ParserError, ValueError) as exc:
        return ParsedFeed([], [*warnings, f"page could not be parsed as HTML: {exc}"], decoded.encoding)
    nodes = _selector(options["item"])(doc)
    if not nodes:
        warnings.append(f"selector item={options['item']!r} matched nothing on {url or 'the page'}")
    entries = [e for e in (_list_entry(n, url, options, now) for n in nodes) if e is not None]
    return ParsedFeed(entries, warnings, decoded.encoding, "html_list")


def _list_entry(node: Any, base: str, options: Mapping[str, Any], now: datetime | None) -> ParsedEntry | None:
    links = _selector(options.get("link") or "a")(node)
    anchor = links[0] if links else (node if node.get("href") else None)
    href = (anchor.get("href") or "").strip() if anchor is not None else ""
    link = urljoin(base, href) if href and not href.lower().startswith(("javascript:", "#", "mailto:")) else ""
    title = ""
    if options.get("title"):
        found = _selector(options["title"])(node)
        title = _node_text(found[0]) if found else ""
    if not title and anchor is not None:
        title = (anchor.get("title") or "").strip() or _node_text(anchor)
    if not title and not link:
        return None
    published: datetime | None = None
    warnings: tuple[str, ...] = ()
    if options.get("date"):
        found = _selector(options["date"])(node)
        raw = _node_text(found[0]) if found else ""
        published = list_date(raw, now) if raw else None
        if raw and published is None:
            warnings = (f"unreadable date {raw!r}",)
    return ParsedEntry(title, link, "", published, None, None, warnings)


def _node_text(node: Any) -> str:
    return " ".join("".join(node.itertext()).split())


def list_date(text: str, now: datetime | None) -> datetime | None:
    """A list-page date; "09-24" style dates without a year take the year of `now` (or the one before)."""
    value = parse_date(text)
    if value is not None or now is None:
        return value
    match = _MONTH_DAY.match(text)
    if not match:
        return None
    month, day, hour, minute = (int(g) if g else 0 for g in match.groups())
    for year in (now.year, now.year - 1):
        candidate = parse_date(f"{year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}")
        if candidate is not None and candidate <= now:
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    text: str
    published: datetime | None
    url: str | None
    warnings: tuple[str, ...] = ()


def extract_article(body: bytes, *, url: str = "", content_type: str | None = None) -> Article:
    """Main text and metadata of an article page (trafilatura; works offline). Never raises."""
    import trafilatura

    decoded = decode(body, content_type)
    try:
        doc = trafilatura.bare_extraction(
            decoded.text,
            url=url or None,
            with_metadata=True,
            include_comments=False,
            include_images=False,
            date_extraction_params={"outputformat": "%Y-%m-%d %H:%M:%S", "original_date": True},
        )
    except Exception as exc:  # trafilatura on hostile HTML: record it, lose nothing
        return Article("", "", None, None, (*decoded.warnings, f"article extraction failed: {type(exc).__name__}"))
    if not doc:
        return Article("", "", None, None, (*decoded.warnings, "no article text found on the page"))
    meta: dict[str, Any] = doc if isinstance(doc, dict) else doc.as_dict()
    return Article(
        title=str(meta.get("title") or "").strip(),
        text=str(meta.get("text") or "").strip(),
        published=parse_date(str(meta.get("date") or "")),
        url=str(meta.get("url") or "") or None,
        warnings=tuple(decoded.warnings),
    )

"""HTML list pages (configured CSS selectors) and full article text (trafilatura, offline).

A source of kind `html_list` carries its selectors in `options`:

    item   CSS selector of one entry on the list page            (required, e.g. "ul.news li")
    link   selector of the element whose href is the article URL (default "a")
    title  selector of the title text inside an entry            (default: the link's text or title)
    date   selector of the date text inside an entry             (optional; Chinese forms understood)
    next   selector of the "下一页" / next-page link               (optional, e.g. "a.next" or
           'a:contains("下一页")'); followed while every entry of a page is new, up to max_pages
    max_pages  how many list pages one poll reads at most        (default 5 when `next` is set, 1..20)
    fetch_articles  fetch each new article page for its full text (default true)

Article pages go through trafilatura, which strips navigation and boilerplate; the raw HTML is
kept as evidence by the caller.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urljoin

from cssselect import HTMLTranslator, SelectorError
from lxml import etree
from lxml import html as lxml_html

from monitor.collectors.dates import parse_date
from monitor.collectors.encoding import decode
from monitor.collectors.feeds import ParsedEntry, ParsedFeed

SELECTOR_OPTIONS = ("item", "link", "title", "date", "next")
DEFAULT_MAX_PAGES = 5
MAX_PAGES_LIMIT = 20
_MONTH_DAY = re.compile(r"^\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?\s*(?:(\d{1,2}):(\d{2}))?\s*$")


class SelectorConfigError(ValueError):
    """A source's CSS selector options are missing or invalid; the message says which and how to fix.

    `message_zh` says the same for people (the web form shows it under 「选项」).
    """

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh


def _selector(css: str) -> etree.XPath:
    """A compiled CSS selector, one per thread: lxml evaluates one XPath object for one caller at a
    time, so a big list page on the collector's thread would hold up a small one on the loop."""
    return _compiled(css, threading.get_ident())


@cache
def _compiled(css: str, thread: int) -> etree.XPath:
    """Plain XPath 1.0 only: lxml's own CSSSelector implements
    `:contains()` with an XPath extension function that lxml 6.1 loses after another selector ran
    on the same document ("XPath function '{…}lower-case' not found"); cssselect's translation
    of `:contains()` (case-sensitive, which is all Chinese link texts need) has no such function."""
    return etree.XPath(HTMLTranslator().css_to_xpath(css))


def check_selectors(options: Mapping[str, Any]) -> None:
    """Validate a list page's selector options (used when a source is added or edited)."""
    if not options.get("item"):
        raise SelectorConfigError(
            "an html_list source needs an 'item' CSS selector, e.g. --option item='ul.news li' "
            "(one element per entry on the list page)",
            '「选项」缺少 item：网页列表须填写每条新闻所在元素的 CSS 选择器，例如 {"item": "ul.news li"}',
        )
    for key in SELECTOR_OPTIONS:
        value = options.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise SelectorConfigError(
                f"option {key!r} must be a CSS selector string, got {value!r}",
                f"「选项」中的 {key} 应为 CSS 选择器（文字），现为 {value!r}",
            )
        try:
            _selector(value)
        except SelectorError as exc:
            raise SelectorConfigError(
                f"option {key!r}: {value!r} is not a valid CSS selector ({exc})",
                f"「选项」中的 {key}：{value!r} 不是有效的 CSS 选择器（{exc}）",
            ) from exc
    _check_max_pages(options)


def _check_max_pages(options: Mapping[str, Any]) -> None:
    value = options.get("max_pages")
    if value is None:
        return
    if not options.get("next"):
        raise SelectorConfigError(
            "option 'max_pages' needs a 'next' selector (the next-page link to follow)",
            "「选项」填写了 max_pages 但没有 next：请同时填写“下一页”链接的 CSS 选择器",
        )
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGES_LIMIT:
        raise SelectorConfigError(
            f"option 'max_pages' must be a whole number from 1 to {MAX_PAGES_LIMIT}, got {value!r}",
            f"「选项」中的 max_pages 应为 1 到 {MAX_PAGES_LIMIT} 的整数，现为 {value!r}",
        )


def max_pages(options: Mapping[str, Any]) -> int:
    """How many list pages one poll may read (1 when no next-page selector is configured)."""
    if not options.get("next"):
        return 1
    value = options.get("max_pages", DEFAULT_MAX_PAGES)
    return value if isinstance(value, int) and 1 <= value <= MAX_PAGES_LIMIT else DEFAULT_MAX_PAGES


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
    try:
        nodes = _selector(options["item"])(doc)
        entries = [e for e in (_list_entry(n, url, options, now) for n in nodes) if e is not None]
        next_url = _next_url(doc, url, options)
    except etree.XPathError as exc:  # a selector lxml cannot evaluate: say so, lose nothing else
        return ParsedFeed([], [*warnings, f"the list page selectors failed on this page: {exc}"], decoded.encoding)
    if not nodes:
        warnings.append(f"selector item={options['item']!r} matched nothing on {url or 'the page'}")
    return ParsedFeed(entries, warnings, decoded.encoding, "html_list", next_url)


def _next_url(doc: Any, base: str, options: Mapping[str, Any]) -> str | None:
    """The next-page link's absolute URL (the first matching element with a usable href)."""
    if not options.get("next"):
        return None
    for node in _selector(options["next"])(doc):
        href = (node.get("href") or "").strip()
        if href and not href.lower().startswith(("javascript:", "#", "mailto:")):
            return urljoin(base, href)
    return None


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

"""Parse feed bytes: RSS 0.9x/1.0/2.0, Atom and JSON Feed. Nothing here fetches.

Bytes are decoded once by `encoding.decode` (header, BOM, declaration, GB18030 for GB2312/GBK)
and re-encoded as UTF-8, so every parser sees the same text. Well-formed RSS 2.0, RSS 1.0 and
Atom take a fast lxml path (`fastfeed`); anything it does not recognise, and every malformed
document, goes to feedparser (with its HTML sanitizer off: feed HTML is only ever turned into
plain text here and never rendered). JSON Feed is read with `json`.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from calendar import timegm
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from monitor.collectors.dates import parse_date
from monitor.collectors.encoding import decode
from monitor.collectors.text import html_to_text, scrub

_XML_DECL = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""")


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    title: str
    link: str
    text: str
    published: datetime | None
    guid: str | None
    author: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    entries: list[ParsedEntry]
    warnings: list[str] = field(default_factory=list)
    encoding: str | None = None
    format: str | None = None  # rss20 | rss10 | atom | jsonfeed | feedparser:<version> | None
    next_url: str | None = None  # html_list only: the next list page, when a `next` selector found one


def scrubbed(entry: ParsedEntry) -> ParsedEntry:
    """The entry with NUL characters and lone surrogates replaced (see `text.scrub`), flagged."""
    fields = (entry.title, entry.link, entry.text, entry.guid or "", entry.author or "")
    clean = tuple(scrub(f) for f in fields)
    if clean == fields:
        return entry
    note = "NUL characters or lone surrogates replaced by U+FFFD"
    return ParsedEntry(
        clean[0], clean[1], clean[2], entry.published, clean[3] or None, clean[4] or None,
        (*(scrub(w) for w in entry.warnings), note),
    )  # fmt: skip


def parse_feed(body: bytes, *, url: str = "", content_type: str | None = None, fast: bool = True) -> ParsedFeed:
    """Parse feed bytes. Malformed input yields warnings, never an exception.

    Relative entry links are resolved against `url` (the address the feed was fetched from)."""
    if body.removeprefix(codecs.BOM_UTF8).lstrip()[:1] == b"{":
        return parse_json_feed(body, url=url, content_type=content_type)
    decoded = decode(body, content_type)
    utf8 = _as_utf8_xml(decoded.text)
    if fast:
        from monitor.collectors.fastfeed import parse_fast

        quick = parse_fast(utf8)
        if quick is not None:
            entries, fmt = quick
            return ParsedFeed(entries, list(decoded.warnings), decoded.encoding, fmt)
    return _with_feedparser(utf8, decoded.encoding, list(decoded.warnings), url)


def _as_utf8_xml(text: str) -> bytes:
    """UTF-8 bytes whose XML declaration (if any) says UTF-8."""
    return _XML_DECL.sub(r'\1"utf-8"', text, count=1).encode("utf-8", errors="replace")


def _with_feedparser(body: bytes, encoding: str, warnings: list[str], url: str) -> ParsedFeed:
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),  # a stream: feedparser opens bytes that name a file (b"/etc/…") as a path
            response_headers={"content-type": "application/xml; charset=utf-8"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser promises not to raise; the duty office must not depend on it
        return ParsedFeed([], [*warnings, f"feed could not be parsed: {type(exc).__name__}: {exc}"], encoding)
    if parsed.get("bozo"):
        warnings.append(f"feed is not well-formed: {_short(parsed.get('bozo_exception'))}")
    entries = [entry for entry in (_entry(e, url) for e in parsed.entries) if entry is not None]
    version = parsed.get("version") or ""
    if not entries and not version:
        warnings.append(f"no feed found in {url or 'input'}")
    return ParsedFeed(entries, warnings, encoding, f"feedparser:{version}" if version else None)


def _short(exc: object) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "…"


def _entry(raw: Any, base: str) -> ParsedEntry | None:
    title = html_to_text(raw.get("title", "") or "")
    link = _absolute((raw.get("link") or "").strip(), base)
    if not title and not link:
        return None
    body = ""
    if raw.get("content"):
        body = raw["content"][0].get("value", "") or ""
    body = body or raw.get("summary", "") or raw.get("description", "") or ""
    published, warnings = _when(raw)
    return ParsedEntry(
        title=title,
        link=link,
        text=html_to_text(body),
        published=published,
        guid=(raw.get("id") or "").strip() or None,
        author=(raw.get("author") or "").strip() or None,
        warnings=warnings,
    )


def _when(raw: Any) -> tuple[datetime | None, tuple[str, ...]]:
    for key in ("published", "updated", "created"):
        text = raw.get(key)
        if text:
            value = parse_date(text)
            if value is None and raw.get(f"{key}_parsed"):
                value = datetime.fromtimestamp(timegm(raw[f"{key}_parsed"]), tz=UTC)
            if value is not None:
                return value, ()
            return None, (f"unreadable date {text!r}",)
    return None, ()


def parse_json_feed(body: bytes, *, url: str = "", content_type: str | None = None) -> ParsedFeed:
    """JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1)."""
    decoded = decode(body, content_type or "application/json; charset=utf-8")
    warnings = list(decoded.warnings)
    try:
        doc = json.loads(decoded.text)
    except ValueError as exc:
        return ParsedFeed([], [*warnings, f"not valid JSON: {exc}"], decoded.encoding)
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/"):
        return ParsedFeed([], [*warnings, f"no feed found in {url or 'input'} (JSON without a jsonfeed version)"])
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        return ParsedFeed([], [*warnings, "JSON Feed has no items list"], decoded.encoding, "jsonfeed")
    entries = [e for e in (_json_entry(i, url) for i in raw_items if isinstance(i, dict)) if e is not None]
    return ParsedFeed(entries, warnings, decoded.encoding, "jsonfeed")


def _json_entry(raw: dict[str, Any], base: str) -> ParsedEntry | None:
    title = html_to_text(_str(raw.get("title")))
    link = _absolute(_str(raw.get("url")) or _str(raw.get("external_url")), base)
    text = _str(raw.get("content_text")) or html_to_text(_str(raw.get("content_html")) or _str(raw.get("summary")))
    if not title and not link:
        return None
    date_text = _str(raw.get("date_published")) or _str(raw.get("date_modified"))
    published = parse_date(date_text)
    authors: list[Any] = raw["authors"] if isinstance(raw.get("authors"), list) else [raw.get("author")]
    names = [_str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")]
    return ParsedEntry(
        title=title or text[:60],
        link=link,
        text=text.strip(),
        published=published,
        guid=_str(raw.get("id")) or None,
        author=", ".join(names) or None,
        warnings=(f"unreadable date {date_text!r}",) if date_text and published is None else (),
    )


def _absolute(link: str, base: str) -> str:
    """A relative link made absolute against the feed's URL: kept relative, it would be unclickable
    and its dedup key ("http:///a/1.html") would collide with every other site's /a/1.html."""
    if not link or not base.lower().startswith(("http://", "https://")):  # `monitor parse` passes file names
        return link
    try:
        return urljoin(base, link)
    except ValueError:  # an unparseable link (e.g. a broken IPv6 literal) stays as the feed wrote it
        return link


def _str(value: object) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))

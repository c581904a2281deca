"""Parse feed bytes (RSS 0.9x/1.0/2.0, Atom) with feedparser. It never fetches by itself."""

from __future__ import annotations

import html
import re
from calendar import timegm
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    title: str
    link: str
    text: str
    published: datetime | None
    guid: str | None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    entries: list[ParsedEntry]
    warnings: list[str] = field(default_factory=list)
    encoding: str | None = None


def parse_feed(body: bytes, *, url: str = "", content_type: str | None = None) -> ParsedFeed:
    """Parse feed bytes. Malformed input yields warnings, never an exception."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    warnings = []
    if parsed.get("bozo"):
        warnings.append(f"feed is not well-formed: {parsed.get('bozo_exception')}")
    entries = [entry for entry in (_entry(e) for e in parsed.entries) if entry is not None]
    if not entries and not parsed.get("version"):
        warnings.append(f"no feed found in {url or 'input'}")
    return ParsedFeed(entries, warnings, parsed.get("encoding"))


def _entry(raw: Any) -> ParsedEntry | None:
    title = html_to_text(raw.get("title", ""))
    link = raw.get("link") or ""
    if not title and not link:
        return None
    body = ""
    if raw.get("content"):
        body = raw["content"][0].get("value", "")
    body = body or raw.get("summary", "") or raw.get("description", "")
    return ParsedEntry(
        title=title,
        link=link,
        text=html_to_text(body),
        published=_when(raw),
        guid=raw.get("id") or None,
        author=raw.get("author") or None,
    )


def _when(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if value:
            return datetime.fromtimestamp(timegm(value), tz=UTC)
    return None


def html_to_text(markup: str) -> str:
    """Plain text from an HTML fragment (tags dropped, entities decoded, whitespace tidied)."""
    text = _TAG.sub(" ", markup.replace("<br", "\n<br").replace("</p>", "</p>\n"))
    text = html.unescape(text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)

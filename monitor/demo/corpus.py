"""The bundled demo corpus (`corpus.yaml`): feeds and items written for the project.

Times in the corpus are offsets from the moment the demo starts, so deadlines are always near.
Items are served as RSS 2.0 or Atom in each feed's declared encoding (UTF-8, GB18030, Big5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from monitor.domain import MediaTier, MediaType
from monitor.domain.enums import media_type_choices
from monitor.policy.yamlfile import Section, load_yaml

CORPUS_FILE = Path(__file__).resolve().parent / "corpus.yaml"
ENCODINGS = ("utf-8", "gb18030", "big5")


@dataclass(frozen=True, slots=True)
class DemoFeed:
    id: str
    title: str
    format: str  # rss | atom
    encoding: str
    media_tier: MediaTier
    site: str
    media_type: MediaType | None = None  # None: the source infers it from its address and name

    @property
    def path(self) -> str:
        return f"/feeds/{self.id}.xml"


@dataclass(frozen=True, slots=True)
class DemoItem:
    id: str
    feed: str
    title: str
    text: str
    link: str
    published_offset: timedelta
    script: str
    expected: dict[str, Any] = field(default_factory=dict)

    def published_at(self, start: datetime) -> datetime:
        return start + self.published_offset


@dataclass(frozen=True)
class DemoCorpus:
    feeds: dict[str, DemoFeed]
    items: list[DemoItem]

    def items_of(self, feed_id: str) -> list[DemoItem]:
        return [i for i in self.items if i.feed == feed_id]


def load_corpus(path: Path = CORPUS_FILE) -> DemoCorpus:
    root = load_yaml(path).root().only("version", "feeds", "items")
    feeds = {f.id: f for f in (_feed(s) for s in root.sections("feeds"))}
    items = [_item(s, feeds) for s in root.sections("items")]
    return DemoCorpus(feeds, items)


def _feed(s: Section) -> DemoFeed:
    s.only("id", "title", "format", "encoding", "media_tier", "media_type", "site")
    fmt = s.text("format")
    if fmt not in ("rss", "atom"):
        raise s.error("format", f"{fmt!r} is not a feed format", "use rss or atom")
    encoding = s.text("encoding", "utf-8").lower()
    if encoding not in ENCODINGS:
        raise s.error("encoding", f"{encoding!r} is not supported", f"use one of {', '.join(ENCODINGS)}")
    return DemoFeed(
        s.text("id"), s.text("title"), fmt, encoding, s.enum("media_tier", MediaTier), s.text("site"), _media_type(s)
    )


def _media_type(s: Section) -> MediaType | None:
    """Optional; a value or its zh-CN label (微博, 纸媒 …). A wrong one names the file, line and choices."""
    raw = s.get("media_type", (str, int), None)
    if raw is None:
        return None
    try:
        return MediaType.from_text(str(raw))
    except ValueError:
        raise s.error(
            "media_type",
            f"{raw!r} is not a media type（媒体类型无效）",
            f"use one of {media_type_choices()}, or leave media_type out to infer it from the site address"
            "（留空则按地址推断）",
        ) from None


def _item(s: Section, feeds: dict[str, DemoFeed]) -> DemoItem:
    s.only("id", "feed", "title", "text", "link", "published_offset_min", "script", "expected")
    feed = s.text("feed")
    if feed not in feeds:
        raise s.error("feed", f"unknown feed {feed!r}", f"use one of {', '.join(feeds)}")
    return DemoItem(
        id=s.text("id"),
        feed=feed,
        title=s.text("title"),
        text=s.text("text"),
        link=s.text("link"),
        published_offset=timedelta(minutes=s.get("published_offset_min", (int, float))),
        script=s.text("script", "simplified"),
        expected=dict(s.get("expected", dict, {})),
    )


def render_feed(feed: DemoFeed, items: list[DemoItem], start: datetime, now: datetime, base_url: str) -> bytes:
    """The feed as bytes in its encoding, holding the items already published at `now`."""
    visible = sorted(
        (i for i in items if i.published_at(start) <= now), key=lambda i: i.published_at(start), reverse=True
    )
    xml = _atom(feed, visible, start, base_url) if feed.format == "atom" else _rss(feed, visible, start)
    header = f'<?xml version="1.0" encoding="{feed.encoding}"?>\n'
    return (header + xml).encode(feed.encoding, errors="xmlcharrefreplace")


def _rss(feed: DemoFeed, items: list[DemoItem], start: datetime) -> str:
    entries = "".join(
        "<item>"
        f"<title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
        f'<guid isPermaLink="false">{escape(feed.id + ":" + i.id)}</guid>'
        f"<pubDate>{format_datetime(i.published_at(start))}</pubDate>"
        f"<description>{escape(i.text)}</description>"
        "</item>\n"
        for i in items
    )
    return (
        '<rss version="2.0"><channel>'
        f"<title>{escape(feed.title)}</title><link>{escape(feed.site)}</link>"
        f"<description>{escape(feed.title)}</description><language>zh-cn</language>\n"
        f"{entries}</channel></rss>\n"
    )


def _atom(feed: DemoFeed, items: list[DemoItem], start: datetime, base_url: str) -> str:
    updated = max((i.published_at(start) for i in items), default=start).isoformat()
    entries = "".join(
        "<entry>"
        f"<title>{escape(i.title)}</title><link href={quoteattr(i.link)}/>"
        f"<id>{escape('tag:' + feed.id + ',2026:' + i.id)}</id>"
        f"<published>{i.published_at(start).isoformat()}</published>"
        f"<updated>{i.published_at(start).isoformat()}</updated>"
        f'<content type="text">{escape(i.text)}</content>'
        "</entry>\n"
        for i in items
    )
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(feed.title)}</title><id>{escape(feed.site)}</id>"
        f'<link rel="self" href={quoteattr(base_url + feed.path)}/><updated>{updated}</updated>\n'
        f"{entries}</feed>\n"
    )

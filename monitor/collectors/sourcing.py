"""From a fetched source body to entries, per source kind; article pages fetched when asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.collectors.feeds import ParsedEntry, ParsedFeed, parse_feed
from monitor.collectors.fetch import Fetcher, FetchResult
from monitor.collectors.health import Outcome
from monitor.collectors.html import extract_article, parse_list_page
from monitor.collectors.urls import canonical_url, dedup_key
from monitor.domain import SourceKind
from monitor.storage.repo.items import Evidence

KnownKeys = Callable[[list[str]], Awaitable[set[str]]]


@dataclass(slots=True)
class ParsedPoll:
    entries: list[ParsedEntry]
    warnings: list[str]
    encoding: str | None
    page_sha: str
    unusable: bool = False  # nothing could be read from a 200 response
    article_evidence: list[Evidence] = field(default_factory=list)
    article_sha: dict[int, str] = field(default_factory=dict)  # id(entry) -> sha of its article page

    def sha_for(self, entry: ParsedEntry) -> str:
        return self.article_sha.get(id(entry), self.page_sha)


def parse_body(source: Any, result: FetchResult) -> ParsedFeed:
    options = dict(source.options or {})
    url = result.final_url or result.url
    if source.kind == SourceKind.HTML_LIST:
        return parse_list_page(
            result.body, url=url, options=options, content_type=result.content_type, now=result.finished_at
        )
    return parse_feed(result.body, url=url, content_type=result.content_type)


async def parse_poll(
    fetcher: Fetcher, source: Any, result: FetchResult, max_articles: int, known: KnownKeys
) -> ParsedPoll:
    parsed = parse_body(source, result)
    poll = ParsedPoll(list(parsed.entries), list(parsed.warnings), parsed.encoding, result.sha256)
    poll.unusable = not parsed.entries and parsed.format is None
    options = dict(source.options or {})
    wants_articles = options.get("fetch_articles", source.kind == SourceKind.HTML_LIST)
    if wants_articles and max_articles > 0 and poll.entries:
        await _fetch_articles(fetcher, poll, max_articles, known)
    return poll


async def _fetch_articles(fetcher: Fetcher, poll: ParsedPoll, limit: int, known: KnownKeys) -> None:
    keys = {id(e): dedup_key(canonical_url(e.link), e.guid, "") for e in poll.entries if e.link}
    seen = await known(list(keys.values()))
    todo = [e for e in poll.entries if e.link and keys[id(e)] not in seen][:limit]
    for entry in todo:
        page = await fetcher.get(entry.link)
        if page.outcome is not Outcome.OK:
            _replace(poll, entry, replace(entry, warnings=(*entry.warnings, f"article not fetched: {page.error}")))
            continue
        article = extract_article(page.body, url=page.final_url or entry.link, content_type=page.content_type)
        updated = replace(
            entry,
            title=entry.title or article.title,
            text=article.text or entry.text,
            published=entry.published or article.published,
            warnings=(*entry.warnings, *article.warnings),
        )
        _replace(poll, entry, updated)
        poll.article_sha[id(updated)] = page.sha256
        poll.article_evidence.append(
            Evidence(
                page.sha256,
                page.final_url or entry.link,
                page.finished_at,
                page.body,
                page.status,
                page.content_type,
                None,
                dict(page.headers),
            )
        )


def _replace(poll: ParsedPoll, old: ParsedEntry, new: ParsedEntry) -> None:
    poll.entries[poll.entries.index(old)] = new

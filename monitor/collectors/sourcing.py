"""From a fetched source body to entries, per source kind; older list pages and article pages.

An HTML list page with a `next` selector is read page by page: the next page is fetched only
while every entry of the page just read is new (news lists run newest first, so a page with an
entry we already have means the rest is older and already on record), the link stays on the
same host, no page is read twice, and at most `max_pages` pages are read per poll. Each page's
bytes are kept as evidence and its entries point at them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from monitor.collectors.feeds import ParsedEntry, ParsedFeed, parse_feed
from monitor.collectors.fetch import Fetcher, FetchResult, RobotsPolicy
from monitor.collectors.health import Outcome
from monitor.collectors.html import Article, extract_article, max_pages, parse_list_page
from monitor.collectors.urls import canonical_url, dedup_key
from monitor.domain import SourceKind
from monitor.storage.repo.items import Evidence

log = logging.getLogger(__name__)

KnownKeys = Callable[[list[str]], Awaitable[set[str]]]
# The longest one poll waits on a host's spacing for article pages: a Crawl-delay of 30 s allows
# 4 of them, so a slow-asking site cannot hold up the pass (and every other source) for long.
ARTICLE_WAIT = timedelta(minutes=2)
# Runs a CPU-bound call (parsing, article extraction) on a body of the given size and awaits its
# result; the poller runs a big one on a worker thread so it does not freeze the event loop the web shares.
CpuRunner = Callable[..., Awaitable[Any]]  # (size: int, fn, *args, **kwargs)


async def run_inline(size: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


@dataclass(slots=True)
class ParsedPoll:
    entries: list[ParsedEntry]
    warnings: list[str]
    encoding: str | None
    page_sha: str
    unusable: bool = False  # nothing could be read from a 200 response
    more_evidence: list[Evidence] = field(default_factory=list)  # older list pages, article pages
    entry_sha: dict[int, str] = field(default_factory=dict)  # id(entry) -> sha of the page it came from

    def sha_for(self, entry: ParsedEntry) -> str:
        return self.entry_sha.get(id(entry), self.page_sha)


def parse_body(source: Any, result: FetchResult) -> ParsedFeed:
    options = dict(source.options or {})
    url = result.final_url or result.url
    if source.kind == SourceKind.HTML_LIST:
        return parse_list_page(
            result.body, url=url, options=options, content_type=result.content_type, now=result.finished_at
        )
    return parse_feed(result.body, url=url, content_type=result.content_type)


async def parse_poll(
    fetcher: Fetcher,
    source: Any,
    result: FetchResult,
    max_articles: int,
    known: KnownKeys,
    auth: Mapping[str, str] | None = None,
    cpu: CpuRunner = run_inline,
) -> ParsedPoll:
    """Entries of a fetched source; `auth` (the source's credentials header) also goes to its older
    list pages, which are on the same host, never to article pages elsewhere. Parsing goes through `cpu`."""
    parsed = await cpu(len(result.body), parse_body, source, result)
    poll = ParsedPoll(list(parsed.entries), list(parsed.warnings), parsed.encoding, result.sha256)
    poll.unusable = not parsed.entries and parsed.format is None
    options = dict(source.options or {})
    if source.kind == SourceKind.HTML_LIST and parsed.next_url:
        first_poll = getattr(source, "last_success_at", None) is None
        robots = functools.partial(obeys_robots, source)
        await _follow_pages(
            fetcher, poll, result, parsed, options, known, first_poll=first_poll, auth=auth, cpu=cpu, robots=robots
        )
    wants_articles = options.get("fetch_articles", source.kind == SourceKind.HTML_LIST)
    if wants_articles and max_articles > 0 and poll.entries:
        await _fetch_articles(fetcher, poll, max_articles, known, cpu, source)
    return poll


def obeys_robots(source: Any, url: str) -> bool:
    """Whether robots.txt decides about `url`: always, except on the source's own host when the
    office recorded its permission to read that channel (the `robots_permission` option)."""
    if not dict(source.options or {}).get("robots_permission"):
        return True
    return (urlsplit(url).hostname or "").lower() != (urlsplit(source.url).hostname or "").lower()


async def _fetch_articles(
    fetcher: Fetcher, poll: ParsedPoll, limit: int, known: KnownKeys, cpu: CpuRunner, source: Any
) -> None:
    """Full text of the new entries, at most `limit` pages. A host that answers 429/503 or times out
    is not asked again in this poll (a hanging site would otherwise cost a timeout per entry), and
    a host whose Crawl-delay spaces requests widely gets no more pages than fit in ARTICLE_WAIT.
    An entry left without its article says why (it is stored all the same)."""
    keys = {id(e): dedup_key(canonical_url(e.link), e.guid, "") for e in poll.entries if e.link}
    seen = await known(list(keys.values()))
    todo = [e for e in poll.entries if e.link and keys[id(e)] not in seen]
    refused: dict[str | None, str] = {}  # host -> why no more of its article pages are fetched now
    asked: dict[str | None, int] = {}
    for entry in todo[limit:]:
        _warn(poll, entry, f"article not fetched: more than {limit} new articles in one poll (max_articles)")
    for entry in todo[:limit]:
        host = urlsplit(entry.link).hostname
        if host not in refused and asked.get(host, 0) >= _crawl_budget(fetcher, entry.link):
            delay = fetcher.spacing(entry.link).total_seconds()
            refused[host] = (
                f"article not fetched: {host} asks for {delay:g} s between requests (Crawl-delay); "
                f"at most {asked[host]} of its article pages are read per poll"
            )
        if host in refused:
            _warn(poll, entry, refused[host])
            continue
        asked[host] = asked.get(host, 0) + 1
        page = await fetcher.get(entry.link, robots=functools.partial(obeys_robots, source))
        if page.outcome in (Outcome.RATE_LIMITED, Outcome.TIMEOUT):  # asking again would cost another timeout
            refused[host] = f"article not fetched: {host} failed earlier in this poll ({page.error})"
        if page.outcome is not Outcome.OK:
            _warn(poll, entry, f"article not fetched: {page.error}")
            continue
        url = page.final_url or entry.link
        article = await cpu(len(page.body), extract_article, page.body, url=url, content_type=page.content_type)
        _add_article(poll, entry, page, article)


def _crawl_budget(fetcher: Fetcher, url: str) -> int:
    """How many article pages of `url`'s host one poll reads, given the host's spacing."""
    spacing = fetcher.spacing(url).total_seconds()
    return max(1, int(ARTICLE_WAIT.total_seconds() // spacing)) if spacing > 0 else 1_000_000


def _add_article(poll: ParsedPoll, entry: ParsedEntry, page: FetchResult, article: Article) -> None:
    updated = replace(
        entry,
        title=entry.title or article.title,
        text=article.text or entry.text,
        published=entry.published or article.published,
        warnings=(*entry.warnings, *article.warnings),
    )
    _replace(poll, entry, updated)
    poll.entry_sha[id(updated)] = page.sha256
    poll.more_evidence.append(_evidence(page, page.final_url or entry.link, None))


def _warn(poll: ParsedPoll, entry: ParsedEntry, warning: str) -> None:
    _replace(poll, entry, replace(entry, warnings=(*entry.warnings, warning)))


def _evidence(page: FetchResult, url: str, encoding: str | None) -> Evidence:
    return Evidence(
        page.sha256, url, page.finished_at, page.body, page.status, page.content_type, encoding, dict(page.headers)
    )


async def _follow_pages(
    fetcher: Fetcher,
    poll: ParsedPoll,
    first: FetchResult,
    parsed: ParsedFeed,
    options: dict[str, Any],
    known: KnownKeys,
    *,
    first_poll: bool,
    auth: Mapping[str, str] | None,
    cpu: CpuRunner,
    robots: RobotsPolicy,
) -> None:
    """Read older list pages while every entry of the last one read is new (see the module doc)."""
    read = {first.url, first.final_url or first.url}
    host = urlsplit(first.final_url or first.url).hostname
    page, pages, limit = parsed, 1, max_pages(options)
    seen = {_key(e) for e in poll.entries}
    page_entries = list(poll.entries)
    while page.next_url is not None and page.next_url not in read and await _all_new(page_entries, known):
        next_url = page.next_url
        gap = _gap(next_url, host, pages, limit, first_poll)
        if gap is not None:
            _note(poll, page_entries, gap)
            return
        if pages >= limit:
            return
        read.add(next_url)
        fetched = await fetcher.get(next_url, extra_headers=auth, robots=robots)
        if fetched.outcome is not Outcome.OK:
            _note(poll, page_entries, f"older list page {next_url} not read ({fetched.error or fetched.outcome})")
            return
        url = fetched.final_url or next_url
        page = await cpu(
            len(fetched.body),
            parse_list_page,
            fetched.body,
            url=url,
            options=options,
            content_type=fetched.content_type,
            now=fetched.finished_at,
        )
        pages += 1
        poll.more_evidence.append(_evidence(fetched, url, page.encoding))
        page_entries = [replace(e, warnings=(*page.warnings, *e.warnings)) for e in page.entries if _key(e) not in seen]
        seen |= {_key(e) for e in page_entries}
        poll.entries.extend(page_entries)
        poll.entry_sha.update((id(e), fetched.sha256) for e in page_entries)
        if len(page_entries) < len(page.entries):  # entries this poll already read: the rest is older
            return


def _gap(next_url: str, host: str | None, pages: int, limit: int, first_poll: bool) -> str | None:
    """Why following `next_url` would stop while entries may be missing (None: no such reason)."""
    if urlsplit(next_url).hostname != host:
        return f"next-page link {next_url} leaves {host}; not followed, older entries may be missing"
    if pages >= limit and not first_poll:  # a new source's archive is not backfilled: no warning then
        return (
            f"read {limit} list page(s) (max_pages) and every entry was new: older entries may be missing; "
            "raise max_pages or shorten the poll interval"
        )
    return None


async def _all_new(entries: list[ParsedEntry], known: KnownKeys) -> bool:
    keys = [_key(e) for e in entries]
    return bool(keys) and not await known(keys)


def _key(entry: ParsedEntry) -> str:
    return dedup_key(canonical_url(entry.link) if entry.link else None, entry.guid, entry.title)


def _note(poll: ParsedPoll, page_entries: list[ParsedEntry], warning: str) -> None:
    """A pagination gap is recorded on the entries read just before it (that is where the gap is)."""
    log.warning("%s", warning)
    for entry in page_entries:
        _replace(poll, entry, replace(entry, warnings=(*entry.warnings, warning)))


def _replace(poll: ParsedPoll, old: ParsedEntry, new: ParsedEntry) -> None:
    poll.entries[poll.entries.index(old)] = new
    sha = poll.entry_sha.pop(id(old), None)  # ids are reused once `old` is gone: never leave a stale one
    if sha is not None:
        poll.entry_sha[id(new)] = sha

"""robots.txt (RFC 9309): parsing, matching, and a per-site cache the fetcher asks before each request.

The standard library's `urllib.robotparser` is not used: it applies the first matching rule
instead of the most specific one (so `Disallow: /` + `Allow: /xwgk/` refuses /xwgk/), ignores
the `*` and `$` wildcards (so `Disallow: /*.pdf$` is never applied), compares percent-encoded
rules with decoded paths, and matches user agents by substring. The RFC's rules are short
enough to follow here exactly:

- the group(s) naming our product token (case-insensitively) apply, else the `*` group(s), else none;
- the longest matching rule wins, and on a tie `Allow` wins; `*` matches any run, `$` the end;
- /robots.txt itself is always allowed; rules are matched against the path and query;
- a 4xx answer (except 429) means no restrictions; 5xx, 429 or no answer means "disallow
  everything for now" and is asked again after `retry`, keeping a previously read copy meanwhile;
- a copy is kept for `ttl` (a day: the RFC's "SHOULD NOT use a cached version for more than 24 hours").

`Crawl-delay` is not in the RFC; when our group gives it, it is honoured (up to a cap) as the
minimum spacing between requests to the host.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from monitor.clock import Clock
from monitor.collectors.health import Outcome

if TYPE_CHECKING:
    from monitor.collectors.fetch import FetchResult

log = logging.getLogger(__name__)

PARSE_LIMIT = 512 * 1024  # RFC 9309 §2.5: parse at least 500 KiB
_UNRESERVED = re.compile(r"%(2[DEde]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa]|7[Ee])")


@dataclass(frozen=True, slots=True)
class Rule:
    allow: bool
    pattern: str  # normalised; its length decides precedence
    regex: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """What one site's robots.txt says to us."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None

    def allowed(self, path: str) -> bool:
        """Whether `path` (path and query of a URL) may be fetched."""
        target = normalise(path or "/")
        if target == "/robots.txt":
            return True
        longest, allow = -1, True
        for rule in self.rules:
            if rule.regex.match(target) is not None and (
                len(rule.pattern) > longest or (len(rule.pattern) == longest and rule.allow)
            ):
                longest, allow = len(rule.pattern), rule.allow
        return allow


def normalise(text: str) -> str:
    """Percent-encode what must be encoded (non-ASCII as UTF-8, spaces), upper-case escapes, and
    decode escaped unreserved characters, so a rule and a path compare as the RFC says (§2.2.2)."""
    encoded = quote(text, safe="!#$%&'()*+,-./:;=?@[]^_`{|}~")
    encoded = re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(), encoded)
    return _UNRESERVED.sub(lambda m: chr(int(m.group(1), 16)), encoded)


def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = ".*".join(re.escape(part) for part in (pattern[:-1] if anchored else pattern).split("*"))
    return re.compile(body + (r"\Z" if anchored else ""), re.DOTALL)


def product_token(user_agent: str) -> str:
    """`MinghuMonitor/0.1 (+…)` → `MinghuMonitor` (what a robots.txt group names)."""
    return re.split(r"[/\s]", user_agent.strip(), maxsplit=1)[0]


def parse_robots(body: bytes, token: str) -> RobotsRules:
    """The rules for `token` in a robots.txt body (malformed lines are skipped, as the RFC says)."""
    text = body[:PARSE_LIMIT].decode("utf-8", errors="replace").lstrip("\ufeff")
    groups: list[tuple[list[str], list[tuple[str, str]]]] = []
    in_agents = False
    for raw in text.splitlines():
        key, sep, value = raw.split("#", 1)[0].partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            continue
        if key == "user-agent":
            if not in_agents:
                groups.append(([], []))
            groups[-1][0].append(product_token(value).lower() if value else "")
            in_agents = True
        elif key in ("allow", "disallow", "crawl-delay") and groups:
            groups[-1][1].append((key, value))
            in_agents = False
    wanted = token.lower()
    lines = [line for agents, group in groups if wanted in agents for line in group]
    if not lines and not any(wanted in agents for agents, _ in groups):
        lines = [line for agents, group in groups if "*" in agents for line in group]
    return _rules(lines)


def _rules(lines: list[tuple[str, str]]) -> RobotsRules:
    rules, delay = [], None
    for key, value in lines:
        if key == "crawl-delay":
            delay = _delay(value) if delay is None else delay
        elif value:  # an empty Disallow (or Allow) rule matches nothing
            pattern = normalise(value)
            rules.append(Rule(key == "allow", pattern, _compile(pattern)))
    return RobotsRules(tuple(rules), delay)


def _delay(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 < seconds < float("inf") else None


DISALLOW_ALL = RobotsRules((Rule(False, "/", _compile("/")),))


@dataclass(frozen=True, slots=True)
class SiteRobots:
    """One site's robots.txt as last read (or why it could not be read)."""

    rules: RobotsRules | None  # None: not read; everything is refused until it is
    expires_at: datetime  # ask again from then on
    failure: FetchResult | None = None  # the last attempt, when it failed


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a URL may be fetched. A refusal because robots.txt could not be read carries that
    read's outcome (timeout, network, 5xx, 429 with its Retry-After): the site is not answering,
    which is what the duty office must see, not a policy refusal."""

    allowed: bool
    error: str | None = None  # why not (English: stored as the fetch's error)
    crawl_delay: float | None = None
    outcome: Outcome = Outcome.DISALLOWED
    status: int | None = None
    retry_after: timedelta | None = None


RobotsFetch = Callable[[str], Awaitable["FetchResult"]]


class RobotsCache:
    """robots.txt per site (scheme, host, port), read at most once per `ttl`, shared by concurrent polls."""

    def __init__(self, clock: Clock, fetch: RobotsFetch, user_agent: str, ttl: timedelta, retry: timedelta) -> None:
        self.clock, self._fetch = clock, fetch
        self.token = product_token(user_agent)
        self.ttl, self.retry = ttl, retry
        self._sites: dict[str, SiteRobots] = {}
        self._reading: dict[str, asyncio.Future[SiteRobots]] = {}

    async def verdict(self, url: str) -> Verdict:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return Verdict(True)  # not for robots.txt to decide; the fetch itself will say what is wrong
        origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        site = await self._site(origin)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if site.rules is None:
            failed = site.failure
            why = (failed.error if failed else None) or "not read"
            error = (
                f"robots.txt of {origin} could not be read ({why}); nothing is fetched "
                f"from that site until it can be read (asked again after {site.expires_at:%Y-%m-%d %H:%M} UTC)"
            )
            if failed is None:
                return Verdict(False, error)
            return Verdict(False, error, None, failed.outcome, failed.status, site.expires_at - self.clock.now())
        if not site.rules.allowed(path):
            return Verdict(False, f"robots.txt of {origin} disallows {path} for {self.token}", site.rules.crawl_delay)
        return Verdict(True, None, site.rules.crawl_delay)

    async def _site(self, origin: str) -> SiteRobots:
        site = self._sites.get(origin)
        if site is not None and self.clock.now() < site.expires_at:
            return site
        reading = self._reading.get(origin)
        if reading is None:  # one read per site, however many polls ask at once
            reading = asyncio.ensure_future(self._read(origin, site))
            self._reading[origin] = reading
            reading.add_done_callback(lambda _: self._reading.pop(origin, None))
        return await asyncio.shield(reading)  # a cancelled poll does not cancel the others' read

    async def _read(self, origin: str, previous: SiteRobots | None) -> SiteRobots:
        result = await self._fetch(f"{origin}/robots.txt")
        now, status = result.finished_at, result.status
        if result.outcome is Outcome.OK:
            site = SiteRobots(parse_robots(result.body, self.token), now + self.ttl)
        elif result.outcome is Outcome.HTTP_ERROR and status is not None and status < 500:
            site = SiteRobots(RobotsRules(), now + self.ttl)  # "unavailable" (4xx but 429, a redirect not followed)
        else:
            why = result.error or result.outcome.value
            kept = previous.rules if previous is not None else None  # RFC 9309 §2.4: a cached copy may serve
            site = SiteRobots(kept, now + max(self.retry, result.retry_after or timedelta(0)), result)
            then = "keeping the copy read before" if kept else "fetching nothing there until it can be read"
            log.warning("robots.txt of %s could not be read (%s); %s", origin, why, then)
        self._sites[origin] = site
        return site

    async def close(self) -> None:
        for reading in list(self._reading.values()):
            reading.cancel()
        await asyncio.gather(*self._reading.values(), return_exceptions=True)

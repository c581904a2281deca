"""Polite HTTP fetching with aiohttp: conditional GET, limits, timeouts, never insecure.

- One global bound on concurrent requests and a per-host bound, plus a minimum interval between
  requests to the same host (timed with the injected Clock, so tests drive it).
- Timeouts for connect, socket read and the whole request; a maximum body size (the response is
  abandoned as soon as it grows past it). Redirects are followed here, hop by hop, up to a limit:
  each hop waits for its own host's slot, asks its own site's robots.txt, and credentials
  (`extra_headers`) never leave the first origin. TLS certificates are always verified:
  a certificate error is a failure like any other, never a reason to retry without verification.
- Retry-After (seconds or an HTTP date) is parsed for 429/503.
- robots.txt is read once per site and a day (`robots.py`, RFC 9309) and asked before every
  request unless the caller passes `robots=False`; a refused URL is never requested and comes
  back as `Outcome.DISALLOWED`. A `Crawl-delay` widens the host's minimum spacing (up to a cap).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
from multidict import CIMultiDict

from monitor.clock import Clock
from monitor.collectors.health import Outcome
from monitor.collectors.robots import RobotsCache

# Whether robots.txt decides about a URL: always/never, or per URL (a redirect may lead elsewhere).
RobotsPolicy = bool | Callable[[str], bool]

USER_AGENT = "MinghuMonitor/0.1 (+政务舆情回应监测; polite crawler)"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    concurrency: int = 16
    per_host: int = 2
    host_min_interval: timedelta = timedelta(seconds=1)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    total_timeout_s: float = 60.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    robots_ttl: timedelta = timedelta(days=1)  # how long a site's robots.txt is trusted
    robots_retry: timedelta = timedelta(
        minutes=15
    )  # when an unreadable robots.txt (5xx, 429, no answer) is asked again
    max_crawl_delay: timedelta = timedelta(seconds=30)  # the most a Crawl-delay spaces requests to one host


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str
    outcome: Outcome
    started_at: datetime
    finished_at: datetime
    status: int | None = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    final_url: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")


class HostGate:
    """Per-host concurrency and minimum spacing between request starts, inside a global bound.

    The host's slot is taken BEFORE a global one: a request queued behind its busy host holds no
    global slot, so one slow host with many sources cannot stall every other host. The spacing
    is kept after the global slot is taken, so a wait for it cannot bunch two starts together.
    """

    def __init__(self, clock: Clock, limits: FetchLimits, global_bound: asyncio.Semaphore | None = None) -> None:
        self._clock, self._limits = clock, limits
        self._global = global_bound or asyncio.Semaphore(limits.concurrency)
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, datetime] = {}
        self._spacing: dict[str, timedelta] = {}  # hosts whose robots.txt asks for more than the default

    def spacing(self, host: str) -> timedelta:
        return self._spacing.get(host, self._limits.host_min_interval)

    def ask_for(self, host: str, crawl_delay: float | None) -> None:
        """Honour a site's Crawl-delay (seconds) as the host's minimum spacing, up to the cap."""
        wanted = timedelta(seconds=crawl_delay or 0)
        spacing = max(self._limits.host_min_interval, min(wanted, self._limits.max_crawl_delay))
        if spacing > self._limits.host_min_interval:
            self._spacing[host] = spacing
        else:
            self._spacing.pop(host, None)

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        semaphore = self._semaphores.setdefault(host, asyncio.Semaphore(self._limits.per_host))
        async with semaphore, self._global:
            while True:  # re-check after waking: another request may have taken the slot
                ready_at = self._next_start.get(host)
                now = self._clock.now()
                if ready_at is None or ready_at <= now:
                    break
                await self._clock.sleep((ready_at - now).total_seconds())
            self._next_start[host] = now + self.spacing(host)
            yield


class Fetcher:
    """Fetches URLs politely. Use as an async context manager (it owns an aiohttp session)."""

    def __init__(self, clock: Clock, limits: FetchLimits | None = None) -> None:
        self.clock = clock
        self.limits = limits or FetchLimits()
        self._global = asyncio.Semaphore(self.limits.concurrency)
        self._hosts = HostGate(clock, self.limits, self._global)
        self._session: aiohttp.ClientSession | None = None
        self.robots = RobotsCache(
            clock, self._get_robots_txt, self.limits.user_agent, self.limits.robots_ttl, self.limits.robots_retry
        )

    async def __aenter__(self) -> Fetcher:
        timeout = aiohttp.ClientTimeout(
            total=self.limits.total_timeout_s,
            connect=self.limits.connect_timeout_s,
            sock_read=self.limits.read_timeout_s,
        )
        connector = aiohttp.TCPConnector(limit=self.limits.concurrency, ssl=True)
        self._session = aiohttp.ClientSession(
            timeout=timeout, connector=connector, headers={"User-Agent": self.limits.user_agent}
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.robots.close()
        if self._session is not None:
            await self._session.close()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        robots: RobotsPolicy = True,
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given). Never raises for network trouble.

        With `robots` (the default) the site's robots.txt is asked first, and again for each
        redirect, on the host it leads to; `robots` may be a predicate on the URL: the poller
        answers False for an official channel's own host when the office has written permission to
        read it (the source's `robots_permission`), so a redirect to another site still asks there.
        Redirects are followed here, hop by hop, each within its host's limits; `extra_headers`
        (credentials) go only to the URL's own origin."""
        headers = dict(extra_headers or {})
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        started: datetime | None = None  # when the first request got its slot (a queue wait is not the fetch's)
        current, hops = url, 0
        while True:
            obeys = robots(current) if callable(robots) else robots
            refusal = await self._refusal(url, current, started) if obeys else None
            if refusal is not None:
                return refusal
            result = await self._hop(url, current, headers, started)
            started = result.started_at
            location = _redirect_target(result)
            if location is None:
                return result
            if hops >= self.limits.max_redirects:
                return self._too_many_redirects(result, started)
            hops += 1
            if _origin(location) != _origin(current):
                headers = {k: v for k, v in headers.items() if k not in (extra_headers or {})}
            current = location

    def spacing(self, url: str) -> timedelta:
        """The minimum time between two requests to `url`'s host (its Crawl-delay when larger)."""
        return self._hosts.spacing((urlsplit(url).hostname or "").lower())

    async def _get_robots_txt(self, url: str) -> FetchResult:
        return await self.get(url, robots=False)

    async def _refusal(self, url: str, current: str, started: datetime | None) -> FetchResult | None:
        """What robots.txt of `current`'s site says against fetching it (None: it may be fetched)."""
        verdict = await self.robots.verdict(current)
        self._hosts.ask_for((urlsplit(current).hostname or "").lower(), verdict.crawl_delay)
        if verdict.allowed:
            return None
        error = verdict.error if current == url else f"redirected to {current}: {verdict.error}"
        now = self.clock.now()
        return FetchResult(
            url,
            verdict.outcome,
            started or now,
            now,
            verdict.status,
            final_url=current if current != url else None,
            error=error,
            retry_after=verdict.retry_after,
        )

    async def _hop(self, url: str, current: str, headers: dict[str, str], first: datetime | None) -> FetchResult:
        """One request (no redirect followed), within `current`'s host limits."""
        async with self._hosts.slot((urlsplit(current).hostname or "").lower()):
            started = first or self.clock.now()
            try:
                return await self._request(url, current, headers, started)
            except TimeoutError as exc:
                return self._failed(url, started, Outcome.TIMEOUT, _timeout_text(exc, self.limits))
            except aiohttp.ClientSSLError as exc:
                return self._failed(url, started, Outcome.NETWORK, f"TLS verification failed: {exc}")
            except (aiohttp.ClientError, ValueError, OSError) as exc:
                return self._failed(url, started, Outcome.NETWORK, f"{type(exc).__name__}: {exc}")

    def _too_many_redirects(self, result: FetchResult, started: datetime) -> FetchResult:
        if self.limits.max_redirects > 0:
            return self._failed(
                result.url, started, Outcome.NETWORK, f"more than {self.limits.max_redirects} redirects"
            )
        error = f"HTTP {result.status} redirect to {result.headers['Location']} not followed (the redirect limit is 0)"
        return replace(result, outcome=Outcome.HTTP_ERROR, error=error)

    async def _request(self, url: str, current: str, headers: dict[str, str], started: datetime) -> FetchResult:
        if self._session is None:
            raise RuntimeError("Fetcher must be used as `async with Fetcher(...) as fetcher`")
        async with self._session.get(current, headers=headers, allow_redirects=False) as response:
            status, response_headers = response.status, CIMultiDict(response.headers)
            if status == 200:
                body = await _read_limited(response, self.limits.max_body_bytes)
                if body is None:
                    mib = self.limits.max_body_bytes / 1048576
                    return self._failed(url, started, Outcome.TOO_LARGE, f"body larger than {mib:g} MiB", status)
            else:
                body = b""
        finished = self.clock.now()
        if status == 200:
            return FetchResult(url, Outcome.OK, started, finished, status, body, response_headers, current)
        if status == 304:
            return FetchResult(url, Outcome.NOT_MODIFIED, started, finished, status, b"", response_headers, current)
        outcome = Outcome.RATE_LIMITED if status in (429, 503) else Outcome.HTTP_ERROR
        retry_after = parse_retry_after(response_headers.get("Retry-After"), finished)
        return FetchResult(
            url, outcome, started, finished, status, b"", response_headers, current, f"HTTP {status}", retry_after
        )

    def _failed(
        self, url: str, started: datetime, outcome: Outcome, error: str, status: int | None = None
    ) -> FetchResult:
        return FetchResult(url, outcome, started, self.clock.now(), status, error=error)


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _redirect_target(result: FetchResult) -> str | None:
    """The absolute URL a redirect answer points to (None: not a redirect to follow)."""
    location = result.headers.get("Location") if result.status in _REDIRECTS else None
    if not location or result.final_url is None:
        return None
    target = urljoin(result.final_url, location.strip())
    return target.split("#", 1)[0] if urlsplit(target).scheme in ("http", "https") else None


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _timeout_text(exc: TimeoutError, limits: FetchLimits) -> str:
    """Which timeout fired (the sources page shows it as the last error)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return f"connect timed out after {limits.connect_timeout_s:g} s"
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return f"read timed out: no data for {limits.read_timeout_s:g} s"
    return f"timed out: the whole request took over {limits.total_timeout_s:g} s"


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past `limit` bytes (the rest is never read)."""
    if response.content_length is not None and response.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as a delay: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - now)

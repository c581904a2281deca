"""Polite HTTP fetching with aiohttp: conditional GET, limits, timeouts, never insecure.

- One global bound on concurrent requests and a per-host bound, plus a minimum interval between
  requests to the same host (timed with the injected Clock, so tests drive it).
- Timeouts for connect, socket read and the whole request; a maximum body size (the response is
  abandoned as soon as it grows past it); a redirect limit. TLS certificates are always verified:
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
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from monitor.clock import Clock
from monitor.collectors.health import Outcome
from monitor.collectors.robots import RobotsCache

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
        robots: bool = True,
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given). Never raises for network trouble.

        With `robots` (the default) the site's robots.txt is asked first; `robots=False` is for an
        official channel the office has written permission to read (the source's `robots_permission`)."""
        host = (urlsplit(url).hostname or "").lower()
        if robots:
            verdict = await self.robots.verdict(url)
            self._hosts.ask_for(host, verdict.crawl_delay)
            if not verdict.allowed:
                now = self.clock.now()
                return FetchResult(
                    url, verdict.outcome, now, now, verdict.status, error=verdict.error, retry_after=verdict.retry_after
                )
        headers = dict(extra_headers or {})
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        async with self._hosts.slot(host):
            started = self.clock.now()
            try:
                return await self._request(url, headers, started)
            except TimeoutError as exc:
                return self._failed(url, started, Outcome.TIMEOUT, _timeout_text(exc, self.limits))
            except aiohttp.TooManyRedirects:
                return self._failed(url, started, Outcome.NETWORK, f"more than {self.limits.max_redirects} redirects")
            except aiohttp.ClientSSLError as exc:
                return self._failed(url, started, Outcome.NETWORK, f"TLS verification failed: {exc}")
            except (aiohttp.ClientError, ValueError, OSError) as exc:
                return self._failed(url, started, Outcome.NETWORK, f"{type(exc).__name__}: {exc}")

    def spacing(self, url: str) -> timedelta:
        """The minimum time between two requests to `url`'s host (its Crawl-delay when larger)."""
        return self._hosts.spacing((urlsplit(url).hostname or "").lower())

    async def _get_robots_txt(self, url: str) -> FetchResult:
        return await self.get(url, robots=False)

    async def _request(self, url: str, headers: dict[str, str], started: datetime) -> FetchResult:
        if self._session is None:
            raise RuntimeError("Fetcher must be used as `async with Fetcher(...) as fetcher`")
        # aiohttp raises when the count of redirects reaches max_redirects (so it follows one fewer)
        # and reads 0 as "no limit"; ours is the number followed, and 0 follows none.
        follow = self.limits.max_redirects > 0
        redirects = {"max_redirects": self.limits.max_redirects + 1} if follow else {"allow_redirects": False}
        async with self._session.get(url, headers=headers, **redirects) as response:
            status, response_headers = response.status, CIMultiDict(response.headers)
            final_url = str(response.url)
            if status == 200:
                body = await _read_limited(response, self.limits.max_body_bytes)
                if body is None:
                    mib = self.limits.max_body_bytes / 1048576
                    return self._failed(url, started, Outcome.TOO_LARGE, f"body larger than {mib:g} MiB", status)
            else:
                body = b""
        finished = self.clock.now()
        if status == 200:
            return FetchResult(url, Outcome.OK, started, finished, status, body, response_headers, final_url)
        if status == 304:
            return FetchResult(url, Outcome.NOT_MODIFIED, started, finished, status, b"", response_headers, final_url)
        outcome = Outcome.RATE_LIMITED if status in (429, 503) else Outcome.HTTP_ERROR
        retry_after = parse_retry_after(response_headers.get("Retry-After"), finished)
        error = f"HTTP {status}"
        if 300 <= status < 400 and response_headers.get("Location"):
            error += f" redirect to {response_headers['Location']} not followed (the redirect limit is 0)"
        return FetchResult(
            url, outcome, started, finished, status, b"", response_headers, final_url, error, retry_after
        )

    def _failed(
        self, url: str, started: datetime, outcome: Outcome, error: str, status: int | None = None
    ) -> FetchResult:
        return FetchResult(url, outcome, started, self.clock.now(), status, error=error)


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

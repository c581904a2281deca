"""The fetcher's own limits, against the local server: concurrency bounds, timeouts, body size, TLS."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.collectors.fetch import Fetcher, FetchLimits
from monitor.collectors.health import Outcome

from .feedplay import Step, rss

MONITOR = Path(__file__).resolve().parents[1] / "monitor"


async def settle(condition, rounds: int = 20_000) -> None:
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)


@pytest.mark.parametrize(("per_host", "concurrency", "bound"), [(2, 16, 2), (10, 3, 3)])
async def test_per_host_and_global_concurrency_bounds(clock, play, per_host, concurrency, bound):
    limits = FetchLimits(per_host=per_host, concurrency=concurrency, host_min_interval=timedelta(0))
    async with Fetcher(clock, limits) as fetcher:
        tasks = [asyncio.create_task(fetcher.get(play.url(f"/held/{n}"))) for n in range(6)]
        await settle(lambda: play.in_flight == bound)
        await settle(lambda: play.in_flight > bound, rounds=2_000)  # give any extra request its chance
        assert play.in_flight == bound
        play.release.set()
        results = await asyncio.gather(*tasks)
    assert all(r.outcome is Outcome.OK for r in results)
    assert play.max_in_flight == bound and len(play.requests) == 6


async def test_total_timeout_ends_a_response_that_trickles(clock, play):
    limits = FetchLimits(host_min_interval=timedelta(0), read_timeout_s=0.3, total_timeout_s=0.6)
    async with Fetcher(clock, limits) as fetcher:
        result = await fetcher.get(play.url("/trickle"))
    assert result.outcome is Outcome.TIMEOUT and result.body == b""
    assert result.error == "timed out: the whole request took over 0.6 s"


async def test_read_timeout_ends_a_response_that_never_comes(clock, play):
    limits = FetchLimits(host_min_interval=timedelta(0), read_timeout_s=0.3, total_timeout_s=30.0)
    async with Fetcher(clock, limits) as fetcher:
        result = await fetcher.get(play.url("/slow"))
    assert (result.outcome, result.error) == (Outcome.TIMEOUT, "read timed out: no data for 0.3 s")


async def test_connect_timeout_when_the_server_accepts_no_connection(clock):
    """A listening socket whose backlog is full drops new SYNs: the TCP handshake never completes."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = [socket.socket() for _ in range(4)]
    try:
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        limits = FetchLimits(host_min_interval=timedelta(0), connect_timeout_s=0.3, read_timeout_s=30.0)
        async with Fetcher(clock, limits) as fetcher:
            result = await fetcher.get(f"http://127.0.0.1:{port}/rss.xml", robots=False)
    finally:
        for sock in (*fillers, server):
            sock.close()
    assert (result.outcome, result.error) == (Outcome.TIMEOUT, "connect timed out after 0.3 s")


async def test_a_declared_oversized_body_is_refused_before_reading(clock, play):
    limits = FetchLimits(host_min_interval=timedelta(0), max_body_bytes=1024 * 1024)
    async with Fetcher(clock, limits) as fetcher:
        result = await fetcher.get(play.url("/declared-big"))
        small = await fetcher.get(play.url("/held/0")) if play.release.set() is None else None
    assert result.outcome is Outcome.TOO_LARGE and "larger than 1 MiB" in result.error
    assert small is not None and small.outcome is Outcome.OK


@pytest.mark.parametrize(
    ("limit", "error"), [(2, "more than 2 redirects"), (0, "not followed (the redirect limit is 0)")]
)
async def test_redirect_limit_including_zero(clock, play, limit, error):
    """aiohttp reads max_redirects=0 as "no limit"; ours means "follow none"."""
    limits = FetchLimits(host_min_interval=timedelta(0), max_redirects=limit, total_timeout_s=5.0)
    async with Fetcher(clock, limits) as fetcher:
        looped = await fetcher.get(play.url("/loop/0"))
    assert looped.outcome in (Outcome.NETWORK, Outcome.HTTP_ERROR) and error in looped.error
    assert play.hits["/loop/0"] + play.hits.get("/loop/1", 0) == limit + 1


def test_no_code_path_turns_tls_verification_off():
    """TLS is verified on every request; nothing in the service may switch it off, even on error."""
    insecure = re.compile(r"ssl\s*=\s*False|verify_ssl|CERT_NONE|check_hostname\s*=\s*False|_create_unverified")
    offenders = [
        f"{path.relative_to(MONITOR)}:{n}"
        for path in MONITOR.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if insecure.search(line)
    ]
    assert offenders == []


async def test_requests_queued_for_a_busy_host_do_not_hold_back_other_hosts(clock, play):
    """Requests waiting for their host's slot hold no global slot: another host's request goes at once."""
    limits = FetchLimits(per_host=1, concurrency=2, host_min_interval=timedelta(0))
    play.scripts["other"] = [Step(body=rss([]))]
    other_host = play.url("/feed/other.xml").replace("127.0.0.1", "localhost")
    async with Fetcher(clock, limits) as fetcher:
        held = [asyncio.create_task(fetcher.get(play.url(f"/held/{n}"))) for n in range(3)]
        await settle(lambda: play.in_flight == 1)
        other = asyncio.create_task(fetcher.get(other_host))
        await settle(other.done)
        done = other.done()
        play.release.set()
        await asyncio.gather(*held, other)
    assert done and other.result().outcome is Outcome.OK
    assert play.max_in_flight == 1  # the busy host still had one request at a time

"""robots.txt: RFC 9309 matching, the per-site cache, and what the poller does with a refusal."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.collectors.fetch import USER_AGENT, Fetcher, FetchLimits
from monitor.collectors.health import HealthPolicy, Outcome
from monitor.collectors.polling import Collector, CollectorConfig
from monitor.collectors.robots import parse_robots, product_token
from monitor.collectors.sources import check_source
from monitor.domain import Source, SourceKind
from monitor.storage.repo.sources import add_sources, get_source
from monitor.storage.schema import fetches, items

from .feedplay import Playground, Step, robots, rss, start

TOKEN = product_token(USER_AGENT)


def allowed(text: str, path: str) -> bool:
    return parse_robots(text.encode(), TOKEN).allowed(path)


# --- matching (RFC 9309 §2.2) -----------------------------------------------------------


def test_our_product_token_is_what_the_collector_sends():
    assert TOKEN == "MinghuMonitor" and USER_AGENT.startswith(TOKEN + "/")


def test_the_most_specific_rule_wins_and_allow_wins_a_tie():
    rules = "User-agent: *\nDisallow: /\nAllow: /xwgk/\n"
    assert allowed(rules, "/xwgk/2026/1.html") and not allowed(rules, "/zwgk/1.html")  # first-match would refuse
    assert allowed("User-agent: *\nDisallow: /a\nAllow: /a\n", "/a/b")
    assert not allowed("User-agent: *\nAllow: /news\nDisallow: /news/private\n", "/news/private/1")


def test_wildcards_and_the_end_anchor():
    rules = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?page=\n"
    assert not allowed(rules, "/files/report.pdf") and allowed(rules, "/files/report.pdf.html")
    assert allowed(rules, "/files/report.pdf?download=1")
    assert not allowed(rules, "/list.html?page=2") and allowed(rules, "/list.html")


def test_our_group_is_chosen_over_star_and_groups_naming_us_combine():
    rules = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: MinghuMonitor\nUser-agent: Baiduspider\nDisallow: /admin/\n\n"
        "User-agent: minghumonitor\nDisallow: /tmp/\n"
    )
    assert allowed(rules, "/news/1.html")
    assert not allowed(rules, "/admin/x") and not allowed(rules, "/tmp/x")
    # a token is matched whole (case-insensitively), never as a substring
    assert not allowed("User-agent: Minghu\nAllow: /\n\nUser-agent: *\nDisallow: /\n", "/a")
    assert allowed("User-agent: MinghuMonitor\nDisallow:\n\nUser-agent: *\nDisallow: /\n", "/a")  # ours: no rule
    # blank lines do not end a run of user-agent lines: both name the group that disallows /
    assert not allowed("User-agent: MinghuMonitor\n\nUser-agent: *\nDisallow: /\n", "/a")


def test_empty_rules_comments_bom_and_robots_txt_itself():
    assert allowed("User-agent: *\nDisallow:\n", "/anything")
    assert allowed("\ufeffUser-agent: * # all\nDisallow: /private # not this\n", "/public")
    assert not allowed("\ufeffUser-agent: * # all\nDisallow: /private # not this\n", "/private/1")
    assert allowed("User-agent: *\nDisallow: /\n", "/robots.txt")
    assert allowed("Disallow: /\n", "/a")  # a rule before any user-agent line belongs to no group
    assert allowed("<html><body>首页</body></html>", "/a")  # a soft-404 page served as robots.txt


def test_percent_encoding_is_compared_as_the_rfc_says():
    assert not allowed("User-agent: *\nDisallow: /新闻/\n", "/%E6%96%B0%E9%97%BB/1.html")
    assert not allowed("User-agent: *\nDisallow: /%e6%96%b0%e9%97%bb/\n", "/新闻/1.html")
    assert not allowed("User-agent: *\nDisallow: /%7Ejoe/\n", "/~joe/index.html")


def test_crawl_delay_of_our_group():
    assert parse_robots(b"User-agent: *\nCrawl-delay: 10\nDisallow: /x\n", TOKEN).crawl_delay == 10.0
    assert parse_robots(b"User-agent: *\nCrawl-delay: soon\n", TOKEN).crawl_delay is None
    assert parse_robots(b"User-agent: Other\nCrawl-delay: 10\n", TOKEN).crawl_delay is None


# --- the fetcher's cache -------------------------------------------------------------------

LIMITS = FetchLimits(host_min_interval=timedelta(0), read_timeout_s=30.0, total_timeout_s=60.0)  # loaded machines


@pytest.fixture
async def elsewhere():
    """A second site on loopback ("localhost", another port): its own robots.txt and pages."""
    site = Playground()
    server = await start(site)
    site.server = server
    yield site
    await server.close()


def on_localhost(site: Playground, path: str) -> str:
    return site.url(path).replace("127.0.0.1", "localhost")


async def test_a_redirect_to_another_host_obeys_that_hosts_robots_txt(clock, play, elsewhere):
    elsewhere.robots = robots("User-agent: *\nDisallow: /articles/\n")
    elsewhere.articles["1"] = elsewhere.articles["2"] = b"<html><body>x</body></html>"
    play.redirects = {
        "refused": on_localhost(elsewhere, "/articles/1.html"),
        "fine": on_localhost(elsewhere, "/list.html"),
    }
    elsewhere.list_page = b"<html><body>list</body></html>"
    async with Fetcher(clock, LIMITS) as fetcher:
        refused = await fetcher.get(play.url("/go/refused"))
        fine = await fetcher.get(play.url("/go/fine"), extra_headers={"Authorization": "Bearer s3cret"})
    target = on_localhost(elsewhere, "/articles/1.html")
    assert refused.outcome is Outcome.DISALLOWED and refused.url == play.url("/go/refused")
    assert refused.final_url == target and refused.body == b""
    origin = on_localhost(elsewhere, "").rstrip("/")
    assert (
        refused.error == f"redirected to {target}: robots.txt of {origin} disallows /articles/1.html for MinghuMonitor"
    )
    assert "/articles/1.html" not in elsewhere.hits  # never requested
    assert elsewhere.robots_hits == 1 and play.robots_hits == 1  # each host's own robots.txt, read once
    assert fine.outcome is Outcome.OK and fine.final_url == on_localhost(elsewhere, "/list.html")
    assert fine.body == b"<html><body>list</body></html>"
    assert play.requests[-1][1].get("Authorization") == "Bearer s3cret"
    assert "Authorization" not in elsewhere.requests[-1][1]  # credentials stay with the source's host


async def test_robots_permission_does_not_cover_a_redirect_to_another_site(db, clock, play, elsewhere):
    play.robots = robots("User-agent: *\nDisallow: /\n")  # the official channel: read with permission
    elsewhere.robots = robots("User-agent: *\nDisallow: /feed/\n")
    elsewhere.scripts["moved"] = [Step(body=rss([{"title": "明湖市发布通告", "link": "https://a.example/1"}]))]
    play.redirects = {"feed": on_localhost(elsewhere, "/feed/moved.xml")}
    options = {"robots_permission": "市政府办公室 2026-03-01 书面同意（明政办函〔2026〕12号）"}
    sid = await add(db, clock, play.url("/go/feed"), options=options)
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert (result.items_new, result.errors) == (0, 1)
    assert play.hits["/go/feed"] == 1 and "/feed/moved.xml" not in elsewhere.hits
    row = await state(db, sid)
    assert "robots.txt of" in row.last_error and "disallows /feed/moved.xml" in row.last_error
    async with db.read() as conn:
        outcomes = [r.outcome for r in await conn.execute(select(fetches.c.outcome))]
    assert outcomes == ["disallowed"]


async def test_robots_txt_is_read_once_per_site_and_day_and_a_refused_url_is_never_requested(clock, play):
    play.robots = robots("User-agent: *\nDisallow: /articles/\n")
    play.articles["1"] = b"<html><body>x</body></html>"
    async with Fetcher(clock, LIMITS) as fetcher:
        results = await asyncio.gather(*(fetcher.get(play.url(f"/articles/{n}.html")) for n in range(3)))
        listing = await fetcher.get(play.url("/list.html"))
        assert play.robots_hits == 1  # concurrent asks share one read
        clock.advance(timedelta(hours=23))
        await fetcher.get(play.url("/list.html"))
        assert play.robots_hits == 1
        play.robots = robots("User-agent: *\nAllow: /\n")
        clock.advance(timedelta(hours=2))
        later = await fetcher.get(play.url("/articles/1.html"))
    assert play.robots_hits == 2 and later.outcome is Outcome.OK
    assert {r.outcome for r in results} == {Outcome.DISALLOWED} and listing.outcome is Outcome.OK
    assert results[0].error == f"robots.txt of {play.url('').rstrip('/')} disallows /articles/0.html for MinghuMonitor"
    assert play.hits.get("/articles/1.html") == 1  # only the request made after robots.txt allowed it


@pytest.mark.parametrize("status", [404, 410, 401, 403])
async def test_a_4xx_robots_txt_means_no_restrictions(clock, play, status):
    play.robots = Step(status=status)
    async with Fetcher(clock, LIMITS) as fetcher:
        result = await fetcher.get(play.url("/list.html"))
    assert result.outcome is Outcome.OK and play.robots_hits == 1


@pytest.mark.parametrize(
    ("step", "outcome", "why"),
    [
        (Step(status=500), Outcome.HTTP_ERROR, "HTTP 500"),
        (Step(status=503, headers={"Retry-After": "3600"}), Outcome.RATE_LIMITED, "HTTP 503"),
        (Step(status=429), Outcome.RATE_LIMITED, "HTTP 429"),
    ],
)
async def test_an_unreadable_robots_txt_refuses_the_site_for_now_and_is_asked_again_later(
    clock, play, step, outcome, why
):
    play.robots = step
    async with Fetcher(clock, LIMITS) as fetcher:
        first = await fetcher.get(play.url("/list.html"))
        again = await fetcher.get(play.url("/list.html"))
        assert play.robots_hits == 1 and play.hits.get("/list.html") is None  # refused without asking again
        play.robots = None
        clock.advance(max(LIMITS.robots_retry, first.retry_after or timedelta(0)))
        later = await fetcher.get(play.url("/list.html"))
    assert (first.outcome, again.outcome) == (outcome, outcome)
    assert first.error.startswith(f"robots.txt of {play.url('').rstrip('/')} could not be read ({why})")
    assert "nothing is fetched from that site until it can be read" in first.error
    if "Retry-After" in step.headers:
        assert first.retry_after == timedelta(hours=1)
    assert later.outcome is Outcome.OK and play.robots_hits == 2


async def test_a_site_that_does_not_answer_is_a_network_failure_not_a_refusal(clock):
    import socket

    with socket.socket() as probe:  # a port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Fetcher(clock, LIMITS) as fetcher:
        result = await fetcher.get(f"http://127.0.0.1:{port}/rss.xml")
    assert result.outcome is Outcome.NETWORK  # the duty office sees a site that is down, not a policy
    assert result.error.startswith(f"robots.txt of http://127.0.0.1:{port} could not be read (ClientConnector")


async def test_a_failed_refresh_keeps_the_copy_read_before(clock, play):
    play.robots = robots("User-agent: *\nDisallow: /articles/\n")
    async with Fetcher(clock, LIMITS) as fetcher:
        await fetcher.get(play.url("/list.html"))
        play.robots = Step(status=500)
        clock.advance(timedelta(days=1, seconds=1))
        listing = await fetcher.get(play.url("/list.html"))
        article = await fetcher.get(play.url("/articles/1.html"))
    assert play.robots_hits == 2
    assert listing.outcome is Outcome.OK and article.outcome is Outcome.DISALLOWED


async def test_crawl_delay_spaces_requests_to_the_host_up_to_the_cap(clock, play):
    play.robots = robots("User-agent: *\nCrawl-delay: 7\n")
    async with Fetcher(clock, LIMITS) as fetcher:
        await fetcher.get(play.url("/list.html"))
        assert fetcher.spacing(play.url("/list.html")) == timedelta(seconds=7)
        second = asyncio.create_task(fetcher.get(play.url("/list.html")))
        await clock.until_sleepers(1)
        assert play.hits["/list.html"] == 1  # waiting for the clock, not for the default 0 s
        clock.advance(7)
        await second
    assert play.hits["/list.html"] == 2
    play.robots = robots("User-agent: *\nCrawl-delay: 86400\n")
    async with Fetcher(clock, LIMITS) as fetcher:
        await fetcher.get(play.url("/list.html"))
        assert fetcher.spacing(play.url("/list.html")) == LIMITS.max_crawl_delay


# --- the poller ------------------------------------------------------------------------------


def config() -> CollectorConfig:
    return CollectorConfig(limits=LIMITS, health=HealthPolicy(failing_after=3))


async def add(db, clock, url: str, **kw) -> int:
    async with db.write() as conn:
        ids = await add_sources(conn, [Source(name=url, url=url, poll_min_s=60, **kw)], clock.now())
    return ids[url]


async def state(db, source_id: int):
    async with db.read() as conn:
        return await get_source(conn, str(source_id))


async def fetch_log(db, source_id: int) -> list:
    async with db.read() as conn:
        query = select(fetches).where(fetches.c.source_id == source_id).order_by(fetches.c.id)
        return list(await conn.execute(query))


async def test_a_feed_robots_txt_comes_to_disallow_is_its_own_outcome_and_loses_nothing(db, clock, play):
    play.scripts["a"] = [Step(body=rss([{"title": "明湖市发布老旧小区改造计划", "link": "https://a.example/1"}]))]
    sid = await add(db, clock, play.url("/feed/a.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        assert (await collector.run_once()).items_new == 1
        before = await state(db, sid)
        play.robots = robots("User-agent: MinghuMonitor\nDisallow: /feed/\n")
        clock.set(before.next_poll_at + timedelta(days=1))  # past the day robots.txt is trusted
        result = await collector.run_once()
    assert (result.sources, result.errors) == (1, 1) and play.hits["/feed/a.xml"] == 1  # never asked again
    after = await state(db, sid)
    assert after.health == "degraded" and after.consecutive_failures == 1
    assert after.last_error == f"robots.txt of {play.url('').rstrip('/')} disallows /feed/a.xml for MinghuMonitor"
    assert (after.etag, after.last_modified, after.last_success_at) == (
        before.etag,
        before.last_modified,
        before.last_success_at,
    )
    logged = await fetch_log(db, sid)
    assert [r.outcome for r in logged] == ["ok", "disallowed"] and logged[-1].http_status is None
    async with db.read() as conn:
        assert len(list(await conn.execute(select(items)))) == 1


LIST_PAGE = (
    '<html><head><meta charset="utf-8"></head><body><ul class="news">'
    + "".join(f'<li><a href="{{base}}/articles/{n}.html">明湖市第{n}号通知公告发布</a></li>' for n in range(1, 7))
    + "</ul></body></html>"
)
ARTICLE = (
    "<html><body><article><h1>通知</h1>"
    "<p>{n}号：明湖市住房和城乡建设局关于老旧小区改造的通知，详见正文。</p></article></body></html>"
)


async def test_article_pages_robots_txt_disallows_are_stored_without_their_text_and_say_why(db, clock, play):
    play.robots = robots("User-agent: *\nDisallow: /articles/\n")
    play.list_page = LIST_PAGE.format(base="").encode("gbk")
    await add(db, clock, play.url("/list.html"), kind=SourceKind.HTML_LIST, options={"item": "ul.news li"})
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert (result.items_new, result.errors) == (6, 0)
    assert not any(path.startswith("/articles/") for path in play.hits)
    async with db.read() as conn:
        stored = list(await conn.execute(select(items)))
    assert all(any(w.startswith("article not fetched: robots.txt of ") for w in r.warnings) for r in stored)


async def test_robots_permission_reads_the_official_channel_but_not_other_sites(db, clock, play):
    play.robots = robots("User-agent: *\nDisallow: /\n")
    other = play.url("").rstrip("/").replace("127.0.0.1", "localhost")  # another host name, same server
    play.list_page = ("<ul class='news'>" + LIST_PAGE.split('<ul class="news">')[1]).format(base="").encode("gbk")
    play.list_page = play.list_page.replace(b'href="/articles/1.html', f'href="{other}/articles/1.html'.encode())
    for n in range(1, 7):
        play.articles[str(n)] = ARTICLE.format(n=n).encode()
    options = {"item": "ul.news li", "robots_permission": "市政府办公室 2026-03-01 书面同意（明政办函〔2026〕12号）"}
    sid = await add(db, clock, play.url("/list.html"), kind=SourceKind.HTML_LIST, options=options)
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert (result.items_new, result.errors) == (6, 0) and (await state(db, sid)).health == "ok"
    assert play.hits["/list.html"] == 1 and all(play.hits.get(f"/articles/{n}.html") == 1 for n in range(2, 7))
    assert play.hits.get("/articles/1.html") is None  # on localhost: robots.txt still decides there
    async with db.read() as conn:
        first = (await conn.execute(select(items).where(items.c.url.like("%localhost%")))).one()
    assert any("disallows /articles/1.html" in w for w in first.warnings)


async def test_a_crawl_delay_bounds_the_article_pages_one_poll_reads(db, clock, play):
    play.robots = robots("User-agent: *\nCrawl-delay: 30\n")
    play.list_page = LIST_PAGE.format(base="").encode("gbk")
    for n in range(1, 7):
        play.articles[str(n)] = ARTICLE.format(n=n).encode()
    await add(db, clock, play.url("/list.html"), kind=SourceKind.HTML_LIST, options={"item": "ul.news li"})
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        task = asyncio.create_task(collector.run_once())
        while not task.done():  # every request after robots.txt waits 30 s on the clock
            parked = asyncio.ensure_future(clock.until_sleepers(1))
            await asyncio.wait({task, parked}, return_when=asyncio.FIRST_COMPLETED)
            parked.cancel()
            if not task.done():
                clock.advance(30)
        result = task.result()
    assert result.items_new == 6
    fetched = sorted(p for p in play.hits if p.startswith("/articles/"))
    assert len(fetched) == 4  # 2 minutes of waiting at 30 s each
    async with db.read() as conn:
        stored = list(await conn.execute(select(items)))
    warned = [r for r in stored if any("Crawl-delay" in w for w in r.warnings)]
    assert len(warned) == 2
    assert "asks for 30 s between requests (Crawl-delay); at most 4 of its article pages" in warned[0].warnings[-1]


def test_robots_permission_must_record_who_permitted_it():
    base = {"name": "市政府网站", "url": "https://www.example.gov.cn/feed", "media_tier": "city"}
    for bad in (True, "", "ok", "x" * 501):
        source, problems = check_source({**base, "options": {"robots_permission": bad}})
        assert source is None and problems[0].field == "options"
        assert "robots_permission" in problems[0].message and "授权依据" in problems[0].message_zh
    good = {"robots_permission": "市政府办公室 2026-03-01 书面同意（明政办函〔2026〕12号）"}
    source, problems = check_source({**base, "options": good})
    assert problems == [] and source is not None and source.options == good

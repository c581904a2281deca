"""The poller against a local server playing 200/304, 429, 500 streaks, timeouts, encodings, reposts."""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.collectors.fetch import FetchLimits
from monitor.collectors.health import HealthPolicy
from monitor.collectors.polling import Collector, CollectorConfig
from monitor.domain import MediaTier, Source, SourceKind
from monitor.storage.repo.items import item_spread, load_evidence
from monitor.storage.repo.sources import add_sources, get_source, source_events_for
from monitor.storage.schema import fetches, items

from .feedplay import Step, rss

STORY = (
    "9月24日上午，明湖市东港化工园区一企业发生爆炸，市应急管理局第一时间组织救援，"
    "目前已造成3人受伤，伤者已送医救治，事故原因正在调查中。市政府要求全力做好善后处置工作。"
)


def config(**limits) -> CollectorConfig:
    # generous timeouts: a loaded machine must not turn a loopback answer into a timeout (the
    # timeout test sets its own short one)
    base = {"host_min_interval": timedelta(0), "read_timeout_s": 30.0, "total_timeout_s": 60.0}
    base.update(limits)
    return CollectorConfig(limits=FetchLimits(**base), health=HealthPolicy(failing_after=3))


async def add(db, clock, url, **kw) -> int:
    source = Source(name=kw.pop("name", url), url=url, poll_min_s=kw.pop("poll_min_s", 60), **kw)
    async with db.write() as conn:
        ids = await add_sources(conn, [source], clock.now())
    return ids[url]


async def state(db, source_id):
    async with db.read() as conn:
        return await get_source(conn, str(source_id))


async def events(db, source_id):
    async with db.read() as conn:
        rows = await source_events_for(conn, source_id)
    return [(r.from_health, r.to_health) for r in reversed(rows)]


async def settle(condition, rounds: int = 20_000) -> None:
    """Let the event loop run (I/O included, no clock time) until `condition` holds or rounds run out."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)


async def poll_due(collector, clock, source_row_id, db):
    """Make the source due now and run one pass."""
    row = await state(db, source_row_id)
    if row.next_poll_at and row.next_poll_at > clock.now():
        clock.set(row.next_poll_at)
    return await collector.run_once()


async def test_conditional_get_200_then_304_keeps_validators(db, clock, play):
    play.scripts["a"] = [Step(body=rss([{"title": "明湖市发布老旧小区改造计划", "link": "https://a.example/1"}]))]
    sid = await add(db, clock, play.url("/feed/a.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        first = await collector.run_once()
        assert (first.items_new, first.errors) == (1, 0)
        row = await state(db, sid)
        assert row.etag and row.last_modified and row.health == "ok"
        second = await poll_due(collector, clock, sid, db)
    assert (second.items_seen, second.items_new) == (0, 0)
    assert play.requests[-1][1].get("If-None-Match") == row.etag
    after = await state(db, sid)
    assert after.etag == row.etag and after.last_success_at == clock.now()
    async with db.read() as conn:
        outcomes = [r.outcome for r in await conn.execute(select(fetches.c.outcome).order_by(fetches.c.id))]
    assert outcomes == ["ok", "not_modified"]


async def test_500_streak_degrades_then_fails_with_capped_backoff_and_is_never_disabled(db, clock, play):
    play.scripts["b"] = [Step(status=500)]
    sid = await add(db, clock, play.url("/feed/b.xml"), poll_min_s=600)
    waits = []
    async with Collector(db, clock, config(), rng=random.Random(7)) as collector:
        for _ in range(12):
            await poll_due(collector, clock, sid, db)
            row = await state(db, sid)
            waits.append(row.next_poll_at - clock.now())
    assert row.health == "failing" and row.enabled and row.consecutive_failures == 12
    assert row.last_error == "HTTP 500"
    assert all(timedelta(minutes=10) <= w <= timedelta(hours=6) for w in waits)
    assert max(waits) > timedelta(hours=2)  # it really backs off
    assert await events(db, sid) == [("ok", "degraded"), ("degraded", "failing")]


async def test_304_after_failures_is_not_recovery(db, clock, play):
    body = rss([{"title": "明湖市交通运输局发布绕行提示", "link": "https://a.example/2"}])
    play.scripts["c"] = [Step(body=body), Step(status=500), Step(status=500), Step(body=body), Step(body=body)]
    sid = await add(db, clock, play.url("/feed/c.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        for _ in range(4):
            await poll_due(collector, clock, sid, db)
        row = await state(db, sid)
        assert play.requests[-1][1].get("If-None-Match")  # validators from the first 200 were kept
        assert (row.health, row.consecutive_failures) == ("degraded", 2)  # the 304 did not count
        play.scripts["c"] = [Step(body=body + b" ")]  # content changed: a real 200
        await poll_due(collector, clock, sid, db)
    row = await state(db, sid)
    assert (row.health, row.consecutive_failures) == ("ok", 0)
    assert await events(db, sid) == [("ok", "degraded"), ("degraded", "ok")]


async def test_429_and_503_honour_retry_after(db, clock, play):
    play.scripts["d"] = [Step(status=429, headers={"Retry-After": "1800"})]
    retry_at = clock.now() + timedelta(hours=2)
    from email.utils import format_datetime

    play.scripts["e"] = [Step(status=503, headers={"Retry-After": format_datetime(retry_at, usegmt=True)})]
    d = await add(db, clock, play.url("/feed/d.xml"))
    e = await add(db, clock, play.url("/feed/e.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert result.errors == 2
    assert (await state(db, d)).next_poll_at == clock.now() + timedelta(seconds=1800)
    assert (await state(db, e)).next_poll_at == retry_at
    assert (await state(db, d)).health == "degraded"


@pytest.mark.parametrize(
    ("path", "outcome", "error"),
    [("/slow", "timeout", "timed out"), ("/big", "too_large", "larger than"), ("/loop/0", "network", "redirects")],
)
async def test_timeouts_size_limit_and_redirect_loops_are_recorded_failures(db, clock, play, path, outcome, error):
    sid = await add(db, clock, play.url(path))
    limits = {"max_body_bytes": 1024 * 1024, "read_timeout_s": 0.3, "total_timeout_s": 5.0}
    async with Collector(db, clock, config(**limits), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert result.errors == 1
    async with db.read() as conn:
        fetch = (await conn.execute(select(fetches))).one()
    assert fetch.outcome == outcome and error in fetch.error
    assert error in (await state(db, sid)).last_error


async def test_malformed_xml_is_read_when_possible_and_flagged(db, clock, play):
    broken = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<item><title>明湖市卫健委通报食物中毒事件 & 处置</title><link>https://a.example/3</link>"
        "<description>30人就医</description></item></channel>"
    ).encode()
    play.scripts["m"] = [Step(body=broken)]
    play.scripts["n"] = [Step(body=b"\x00\x01 this is not a feed at all")]
    m = await add(db, clock, play.url("/feed/m.xml"))
    n = await add(db, clock, play.url("/feed/n.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        await collector.run_once()
    async with db.read() as conn:
        row = (await conn.execute(select(items))).one()
    assert "食物中毒" in row.title and any("not well-formed" in w for w in row.warnings)
    assert (await state(db, m)).health == "ok"
    unreadable = await state(db, n)
    assert unreadable.health == "degraded" and "no feed found" in unreadable.last_error


async def test_mismatched_charsets_gbk_gb18030_big5(db, clock, play):
    text = "㐀明湖市住房和城乡建设局回应镕基小区加装电梯问题"  # 㐀 exists only in GB18030, 镕 only in GBK
    play.scripts["g"] = [
        Step(
            body=rss([{"title": text, "link": "https://a.example/g"}], encoding="gb18030", declared="gb2312"),
            content_type="application/rss+xml; charset=utf-8",  # the header lies
        )
    ]
    big5_title = "明湖市政府發佈颱風警報"
    play.scripts["t"] = [
        Step(
            body=rss([{"title": big5_title, "link": "https://a.example/t"}], encoding="big5", declared="utf-8"),
            content_type="application/rss+xml; charset=big5",
        )
    ]
    await add(db, clock, play.url("/feed/g.xml"))
    await add(db, clock, play.url("/feed/t.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        await collector.run_once()
    async with db.read() as conn:
        rows = {r.url: r for r in await conn.execute(select(items))}
    gbk, big5 = rows["https://a.example/g"], rows["https://a.example/t"]
    assert gbk.title == text and any("charset conflict" in w for w in gbk.warnings)
    assert big5.title == big5_title and big5.text_norm.startswith("明湖市政府发布台风警报")
    assert any("charset conflict" in w for w in big5.warnings)


async def test_mojibake_is_flagged_on_the_item(db, clock, play):
    garbled = "明湖市应急管理局发布暴雨预警".encode().decode("gb18030")
    play.scripts["j"] = [Step(body=rss([{"title": garbled, "link": "https://a.example/j", "text": STORY}]))]
    await add(db, clock, play.url("/feed/j.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        await collector.run_once()
    async with db.read() as conn:
        row = (await conn.execute(select(items))).one()
    assert row.title == "明湖市应急管理局发布暴雨预警"
    assert any("mojibake" in w for w in row.warnings)


async def test_html_list_page_with_full_articles_and_evidence(db, clock, play):
    play.list_page = (
        '<html><head><meta charset="gbk"></head><body><ul class="news">'
        '<li><a href="/articles/1.html">东港化工园区发生爆炸</a><span class="d">2026-09-24 09:30</span></li>'
        '<li><a href="/articles/2.html">北湖镇开展防汛演练</a><span class="d">09-23</span></li>'
        "</ul></body></html>"
    ).encode("gbk")
    article = (
        "<html><head><title>东港化工园区发生爆炸_明湖新闻网</title></head><body>"
        '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/news">新闻</a></li></ul></div>'
        f'<div class="main"><article><h1>东港化工园区发生爆炸</h1><p>{STORY}</p><p>来源：明湖日报</p></article></div>'
        '<div class="side"><h3>热点</h3><ul><li><a href="/x">北湖镇开展防汛演练</a></li></ul></div>'
        "<footer><p>版权所有 明湖新闻网</p></footer></body></html>"
    )
    play.articles["1"] = article.encode()
    sid = await add(
        db, clock, play.url("/list.html"), kind=SourceKind.HTML_LIST, options={"item": "ul.news li", "date": "span.d"}
    )
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
        assert result.items_new == 2
        await poll_due(collector, clock, sid, db)
    assert play.hits["/articles/1.html"] == 1  # known articles are not fetched again
    async with db.read() as conn:
        rows = {r.title: r for r in await conn.execute(select(items))}
        blast = rows["东港化工园区发生爆炸"]
        assert "3人受伤" in blast.text and "首页" not in blast.text and "版权所有" not in blast.text
        assert blast.origin == "明湖日报"
        assert blast.published_at.isoformat() == "2026-09-24T01:30:00+00:00"
        assert await load_evidence(conn, blast.raw_sha256) == article.encode()  # the raw HTML is kept
    drill = rows["北湖镇开展防汛演练"]
    assert any("article not fetched" in w for w in drill.warnings)


async def test_reposts_attach_to_the_original_and_count_toward_spread(db, clock, play):
    original = {"title": "东港化工园区发生爆炸 3人受伤", "link": "https://daily.example/1", "text": STORY}
    repost = {
        "title": "转载：明湖东港一化工企业爆炸",
        "link": "https://bbs.example/t/9?utm_source=wx",
        "text": "来源：明湖日报\n" + STORY + "\n责任编辑：李明",
    }
    same_link = {"title": "东港爆炸", "link": "https://daily.example/1#comments"}
    play.scripts["o"] = [Step(body=rss([original]))]
    play.scripts["r"] = [Step(body=rss([repost, same_link]))]
    await add(db, clock, play.url("/feed/o.xml"), media_tier=MediaTier.CITY)
    await add(db, clock, play.url("/feed/r.xml"), media_tier=MediaTier.SELF_MEDIA)
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        await collector.run_once()
    async with db.read() as conn:
        rows = {r.url: r for r in await conn.execute(select(items))}
        assert len(rows) == 2  # the same canonical URL is one item
        first, copy = rows["https://daily.example/1"], rows["https://bbs.example/t/9?utm_source=wx"]
        assert copy.duplicate_of == first.id and first.duplicate_of is None
        assert copy.origin == "明湖日报"
        spread = (await item_spread(conn, [first.id]))[first.id]
    assert (spread.items, spread.sources) == (2, 2)
    assert set(spread.media_tiers) == {"city", "self_media"}


async def test_dedup_index_is_rebuilt_after_restart(db, clock, play):
    play.scripts["x"] = [
        Step(body=rss([{"title": "东港化工园区发生爆炸", "link": "https://x.example/1", "text": STORY}]))
    ]
    await add(db, clock, play.url("/feed/x.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        await collector.run_once()
    play.scripts["y"] = [Step(body=rss([{"title": "网友爆料", "link": "https://y.example/2", "text": STORY + "。"}]))]
    await add(db, clock, play.url("/feed/y.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as restarted:
        assert len(restarted.index) == 1
        await restarted.run_once()
    async with db.read() as conn:
        rows = {r.url: r for r in await conn.execute(select(items))}
    assert rows["https://y.example/2"].duplicate_of == rows["https://x.example/1"].id


async def test_expected_volume_that_stops_arriving_makes_a_source_silent(db, clock, play):
    feed = [{"title": "明湖发布：今日天气预报", "link": "https://a.example/w1"}]
    play.scripts["s"] = [Step(body=rss(feed))]
    sid = await add(db, clock, play.url("/feed/s.xml"), expected_per_day=24.0, poll_min_s=3600, poll_max_s=3600)
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        await collector.run_once()
        for _ in range(7):  # hourly polls, nothing new: SILENT after 6 h
            await poll_due(collector, clock, sid, db)
        assert (await state(db, sid)).health == "silent"
        play.scripts["s"] = [
            Step(body=rss([*feed, {"title": "明湖发布：明日天气预报", "link": "https://a.example/w2"}]))
        ]
        await poll_due(collector, clock, sid, db)
    assert (await state(db, sid)).health == "ok"
    assert await events(db, sid) == [("ok", "silent"), ("silent", "ok")]
    assert (await state(db, sid)).last_new_item_at == clock.now()


async def test_per_host_minimum_interval_is_kept_on_the_clock(db, clock, play):
    play.scripts["p"] = [Step(body=rss([{"title": "第一条新闻标题内容", "link": "https://a.example/p1"}]))]
    play.scripts["q"] = [Step(body=rss([{"title": "第二条新闻标题内容", "link": "https://a.example/q1"}]))]
    await add(db, clock, play.url("/feed/p.xml"))
    await add(db, clock, play.url("/feed/q.xml"))
    cfg = config(host_min_interval=timedelta(seconds=5))
    async with Collector(db, clock, cfg, rng=random.Random(1)) as collector:
        task = asyncio.create_task(collector.run_once())
        await clock.until_sleepers(1)
        assert play.robots_hits == 1 and len(play.requests) == 0  # robots.txt is a request to the host too
        clock.advance(5)
        await settle(lambda: clock.sleepers == 1 and len(play.requests) == 1)
        await settle(lambda: len(play.requests) > 1, rounds=200)
        assert clock.sleepers == 1 and len(play.requests) == 1  # the second request waits for the clock
        clock.advance(5)
        result = await task
    assert result.items_new == 2 and len(play.requests) == 2 and play.robots_hits == 1


@pytest.fixture
def self_signed(tmp_path):
    """An SSL server context with a self-signed certificate for 127.0.0.1 (made with openssl)."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert]
    subprocess.run([*command, "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_tls_certificates_are_always_verified(db, clock, self_signed):
    """A self-signed certificate is a recorded failure, never a reason to fetch insecurely."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    hits = []

    async def feed(request):
        hits.append(request.path)
        return web.Response(body=rss([{"title": "不应被读取的内容", "link": "https://a.example/tls"}]))

    app = web.Application()
    app.router.add_get("/rss.xml", feed)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(ssl=self_signed)
    try:
        url = f"https://127.0.0.1:{server.port}/rss.xml"
        sid = await add(db, clock, url)
        async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
            result = await collector.run_once()
    finally:
        await server.close()
    assert result.errors == 1 and hits == []
    row = await state(db, sid)
    assert row.health == "degraded" and "TLS verification failed" in row.last_error


async def test_relative_links_of_two_sites_are_two_items_with_absolute_urls(db, clock, play):
    body = rss([{"title": "明湖市人民政府关于开展燃气安全检查的通告", "link": "/xwzx/1.html", "guid": "1"}])
    play.scripts["rel"] = [Step(body=body)]
    here = play.url("/feed/rel.xml")
    there = here.replace("127.0.0.1", "localhost")
    await add(db, clock, here)
    await add(db, clock, there)
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    async with db.read() as conn:
        urls = sorted(r.url for r in await conn.execute(select(items)))
    assert result.items_new == 2
    assert urls == sorted(u.replace("/feed/rel.xml", "/xwzx/1.html") for u in (here, there))


def _malformed_feed(entries: int) -> bytes:
    """An RSS feed with a bare "&" in every title: feedparser's slow path (≈ 1 ms of CPU per KiB)."""
    entry = "<item><title>明湖市第{n}号通知 & 公告</title><link>https://a.example/{n}</link><description>{text}</description></item>"
    items_xml = "".join(entry.format(n=n, text=STORY) for n in range(entries))
    return f'<?xml version="1.0" encoding="utf-8"?><rss><channel>{items_xml}'.encode()


def _record_threads(monkeypatch, on_parse=None) -> dict[str, set[str]]:
    """Which threads parse_feed and prepare ran on (`on_parse` runs inside parse_feed)."""
    import monitor.collectors.polling as polling
    import monitor.collectors.sourcing as sourcing

    threads: dict[str, set[str]] = {"parse_feed": set(), "prepare": set()}

    def recorded(name: str, fn, hook=None):
        def wrapper(*args, **kwargs):
            threads[name].add(threading.current_thread().name)
            if hook is not None:
                hook()
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(sourcing, "parse_feed", recorded("parse_feed", sourcing.parse_feed, on_parse))
    monkeypatch.setattr(polling, "prepare", recorded("prepare", polling.prepare))
    return threads


async def test_a_big_feed_is_parsed_and_prepared_off_the_event_loop(sqlite_db, clock, play, monkeypatch):
    """The collector shares its event loop with the web: a big feed's seconds of parsing and
    preparing run on the collector's parsing thread, and the loop keeps running meanwhile."""
    parsing, loop_ran = threading.Event(), threading.Event()
    waited: list[bool] = []

    def wait_for_the_loop() -> None:  # inside parse_feed: until the loop runs on (never, if parsing blocks it)
        parsing.set()
        waited.append(loop_ran.wait(10))
        parsing.clear()

    threads = _record_threads(monkeypatch, wait_for_the_loop)
    body = _malformed_feed(300)
    assert len(body) > CollectorConfig().inline_cpu_max_bytes
    play.scripts["huge"] = [Step(body=body)]
    await add(sqlite_db, clock, play.url("/feed/huge.xml"))
    loop_thread = threading.current_thread().name
    stop_ticking = asyncio.Event()

    async def ticker() -> None:  # runs only while the loop is free
        while not stop_ticking.is_set():
            if parsing.is_set():
                loop_ran.set()
            await asyncio.sleep(0)

    ticking = asyncio.ensure_future(ticker())
    async with Collector(sqlite_db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    stop_ticking.set()
    await ticking
    assert result.items_new == 300
    assert waited == [True], "the event loop did not run while the big feed was parsed"
    assert threads["parse_feed"] and threads["prepare"]
    for name, seen in threads.items():
        assert loop_thread not in seen, f"{name} ran on the event loop's thread"
        assert all(t.startswith("collector-parse") for t in seen), (name, seen)


async def test_a_small_feed_is_parsed_on_the_loop_without_a_hand_over(sqlite_db, clock, play, monkeypatch):
    """A feed under `inline_cpu_max_bytes` costs a few ms: handing it to the parsing thread would
    cost more (GIL hand-overs: bench ingest ran ≈ 15 % slower), so it is parsed where it arrived."""
    threads = _record_threads(monkeypatch)
    body = _malformed_feed(20)
    assert len(body) <= CollectorConfig().inline_cpu_max_bytes
    play.scripts["small"] = [Step(body=body)]
    await add(sqlite_db, clock, play.url("/feed/small.xml"))
    async with Collector(sqlite_db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert result.items_new == 20
    assert threads == {"parse_feed": {threading.current_thread().name}, "prepare": {threading.current_thread().name}}

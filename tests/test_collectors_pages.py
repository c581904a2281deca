"""HTML list pages with "下一页" links: followed to a bound, stopping at entries already on record."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace

from sqlalchemy import select

from monitor.collectors.polling import Collector
from monitor.domain import SourceKind
from monitor.storage.repo.items import load_evidence
from monitor.storage.schema import items

from .feedplay import Step
from .test_collectors_poll import STORY, add, config, poll_due, state

NEXT = 'a:contains("下一页")'  # the link is found by its text, as on most government sites
OPTIONS = {"item": "ul.news li", "date": "span", "next": NEXT, "max_pages": 3, "fetch_articles": False}


def page(n: int, titles: list[str], *, next_href: str | None = "auto") -> bytes:
    """A list page whose entries link to /a/<title-hash>.html, with 上一页/下一页 links."""
    rows = "".join(
        f'<li><a href="/a/{hashlib.sha1(t.encode()).hexdigest()[:8]}.html">{t}</a><span>2026-09-2{n % 4}</span></li>'
        for t in titles
    )
    href = f"/news/{n + 1}.html" if next_href == "auto" else next_href
    nav = f'<a href="/news/{max(n - 1, 1)}.html">上一页</a>' + (f'<a href="{href}">下一页</a>' if href else "")
    return f'<html><body><ul class="news">{rows}</ul><div class="pager">{nav}</div></body></html>'.encode()


def titles(n: int, count: int = 2, tag: str = "") -> list[str]:
    return [f"明湖市政务公开第{n}页第{i}条{tag}" for i in range(count)]


async def stored(db) -> dict[str, object]:
    async with db.read() as conn:
        return {r.title: r for r in await conn.execute(select(items))}


async def test_next_pages_are_followed_to_the_bound_and_stop_at_seen_items(db, clock, play):
    for n in range(1, 6):
        play.pages[str(n)] = page(n, titles(n))
    sid = await add(db, clock, play.url("/news/1.html"), kind=SourceKind.HTML_LIST, options=OPTIONS)
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        first = await collector.run_once()
        assert first.items_new == 6  # pages 1-3: the bound, and a new source's archive is not backfilled
        assert [play.hits.get(f"/news/{n}.html") for n in range(1, 5)] == [1, 1, 1, None]
        rows = await stored(db)
        assert all(not r.warnings for r in rows.values())
        async with db.read() as conn:  # each entry points at the page it was read from, kept as evidence
            evidence = await load_evidence(conn, rows["明湖市政务公开第2页第0条"].raw_sha256)
        assert evidence == play.pages["2"]

        # One new entry on top of page 1: page 2 is not read again (page 1 has entries on record).
        play.pages["1"] = page(1, ["明湖市新发布的一条通知", *titles(1)])
        second = await poll_due(collector, clock, sid, db)
        assert second.items_new == 1 and play.hits["/news/2.html"] == 1

        # A busy morning: page 1 all new, page 2 starts with new entries then reaches known ones.
        play.pages["1"] = page(1, titles(1, tag="（上午）"))
        play.pages["2"] = page(2, [*titles(2, 1, tag="（上午）"), "明湖市新发布的一条通知"])
        third = await poll_due(collector, clock, sid, db)
        assert third.items_new == 3
        assert play.hits["/news/2.html"] == 2 and play.hits["/news/3.html"] == 1

    assert (await state(db, sid)).health == "ok"


async def test_a_full_bound_of_new_pages_a_broken_page_and_an_off_host_link_are_warned_about(db, clock, play):
    for n in range(1, 4):
        play.pages[str(n)] = page(n, titles(n))
    sid = await add(db, clock, play.url("/news/1.html"), kind=SourceKind.HTML_LIST, options=OPTIONS)
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        await collector.run_once()
        # Later, three whole pages of news since the last poll: the bound is reached, which may lose entries.
        for n in range(1, 5):
            play.pages[str(n)] = page(n, titles(n, tag="（新）"))
        await poll_due(collector, clock, sid, db)
        rows = await stored(db)
        bound = "read 3 list page(s) (max_pages) and every entry was new"
        assert all(bound in " ".join(rows[t].warnings) for t in titles(3, tag="（新）"))
        assert not any(bound in " ".join(rows[t].warnings) for t in titles(2, tag="（新）"))
        assert play.hits.get("/news/4.html") is None

        # Page 2 breaks (HTTP 500): page 1's entries carry the gap; the source itself stays healthy.
        play.pages["1"] = page(1, titles(1, tag="（晚）"))
        del play.pages["2"]
        result = await poll_due(collector, clock, sid, db)
        assert (result.items_new, result.errors) == (2, 0)
        rows = await stored(db)
        gap = "older list page " + play.url("/news/2.html") + " not read (HTTP 500)"
        assert all(gap in rows[t].warnings for t in titles(1, tag="（晚）"))

        # A next link to another host is not followed.
        play.pages["1"] = page(1, titles(1, tag="（夜）"), next_href="https://elsewhere.example/news/2.html")
        await poll_due(collector, clock, sid, db)
        rows = await stored(db)
        assert "leaves 127.0.0.1; not followed" in " ".join(rows[titles(1, tag="（夜）")[0]].warnings)
    assert (await state(db, sid)).health == "ok"


async def test_a_next_link_back_to_a_page_already_read_ends_the_walk(db, clock, play):
    play.pages["1"] = page(1, titles(1))
    play.pages["2"] = page(2, titles(2), next_href="/news/1.html")  # a pager that wraps around
    await add(db, clock, play.url("/news/1.html"), kind=SourceKind.HTML_LIST, options={**OPTIONS, "max_pages": 10})
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert result.items_new == 4 and play.hits == {"/news/1.html": 1, "/news/2.html": 1}


async def test_credentials_by_reference_reach_the_site_and_its_list_pages_and_are_stored_nowhere(
    db, clock, play, tmp_path
):
    import base64

    from sqlalchemy import text

    for n in range(1, 3):
        play.pages[str(n)] = page(n, titles(n))
    secret_file = tmp_path / "token"
    secret_file.write_text("duty:很长的口令-9f2c\n", encoding="utf-8")
    env = {"GOV_SITE_TOKEN_FILE": str(secret_file)}
    options = {**OPTIONS, "max_pages": 2}
    sid = await add(
        db,
        clock,
        play.url("/news/1.html"),
        kind=SourceKind.HTML_LIST,
        options=options,
        credentials_ref="GOV_SITE_TOKEN",
    )
    missing = await add(db, clock, play.url("/feed/never.xml"), credentials_ref="NOT_EXPORTED")
    async with Collector(db, clock, config(), rng=random.Random(1), env=env) as collector:
        result = await collector.run_once()
    assert (result.items_new, result.errors) == (4, 1)
    basic = "Basic " + base64.b64encode("duty:很长的口令-9f2c".encode()).decode()
    sent = {path: headers.get("Authorization") for path, headers in play.requests}
    assert sent == {"/news/1.html": basic, "/news/2.html": basic}  # nothing sent for the missing one
    row = await state(db, missing)
    assert row.health == "degraded" and "credentials NOT_EXPORTED are not set" in row.last_error
    assert (await state(db, sid)).credentials_ref == "GOV_SITE_TOKEN"
    async with db.read() as conn:  # the secret is in no table, in any form
        for table in ("sources", "fetches", "evidence", "items", "source_events"):
            dump = repr(list(await conn.execute(text(f"SELECT * FROM {table}"))))
            assert "9f2c" not in dump and basic.split()[1] not in dump, table


def list_page(count: int) -> bytes:
    rows = "".join(f'<li><a href="/articles/{n}.html">明湖市第{n}号通知公告</a></li>' for n in range(count))
    return f'<html><head><meta charset="gbk"></head><body><ul class="news">{rows}</ul></body></html>'.encode("gbk")


async def test_a_site_that_rate_limits_article_pages_is_not_asked_again_in_the_same_poll(db, clock, play):
    play.list_page = list_page(6)
    play.article_refusal = Step(status=429, headers={"Retry-After": "3600"})
    await add(db, clock, play.url("/list.html"), kind=SourceKind.HTML_LIST, options={"item": "ul.news li"})
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    article_hits = sum(n for path, n in play.hits.items() if path.startswith("/articles/"))
    assert article_hits == 1  # one 429 is enough: the rest of the poll leaves the site alone
    assert result.items_new == 6  # nothing is lost: every entry is stored, each saying why it has no text
    rows = await stored(db)
    assert all(any("article not fetched" in w and "429" in w for w in r.warnings) for r in rows.values())


async def test_entries_beyond_the_article_limit_say_their_text_was_not_fetched(db, clock, play):
    play.list_page = list_page(4)
    play.articles = {str(n): f"<html><body><article><p>{STORY}</p></article></body></html>".encode() for n in range(4)}
    await add(db, clock, play.url("/list.html"), kind=SourceKind.HTML_LIST, options={"item": "ul.news li"})
    async with Collector(db, clock, replace(config(), max_articles=2), rng=random.Random(1)) as collector:
        await collector.run_once()
    rows = await stored(db)
    fetched = {t for t, r in rows.items() if "3人受伤" in r.text}
    assert fetched == {"明湖市第0号通知公告", "明湖市第1号通知公告"}
    for title in ("明湖市第2号通知公告", "明湖市第3号通知公告"):
        assert any("article not fetched" in w and "max_articles" in w for w in rows[title].warnings)


async def test_a_site_whose_article_page_times_out_is_not_asked_again_in_the_same_poll(db, clock, play):
    """Each article page of a hanging site would cost a full timeout: a poll could outlast its lease."""
    rows = "".join(f'<li><a href="/slow?n={n}">明湖市第{n}号通知公告</a></li>' for n in range(4))
    play.list_page = f'<html><body><ul class="news">{rows}</ul></body></html>'.encode("gbk")
    await add(db, clock, play.url("/list.html"), kind=SourceKind.HTML_LIST, options={"item": "ul.news li"})
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert play.hits["/slow"] == 1 and result.items_new == 4
    assert all(any("timed out" in w for w in r.warnings) for r in (await stored(db)).values())

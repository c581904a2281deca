"""媒体类型 (DOMAIN.md §4.4 media_type) of sources and items: set, inferred, validated, stored, migrated."""

from __future__ import annotations

import random
import shutil

import pytest
from sqlalchemy import insert, select, text

from monitor.cli import main
from monitor.collectors.polling import Collector
from monitor.collectors.sources import SourceError, build_source, check_source, read_opml, write_opml
from monitor.demo.corpus import CORPUS_FILE, load_corpus
from monitor.domain import MediaTier, MediaType, Source, SourceKind
from monitor.domain.media import media_type_of
from monitor.policy.yamlfile import PolicyError
from monitor.storage.migrate import migrate
from monitor.storage.repo.sources import add_sources, list_sources, retag_source_items, row_media_type
from monitor.storage.schema import items, sources

from .feedplay import Step, rss
from .test_collectors_poll import config


@pytest.mark.parametrize(
    ("url", "name", "kind", "expected", "basis"),
    [
        ("https://weibo.com/u/1234567", "某某发布", SourceKind.FEED, MediaType.WEIBO, "weibo.com"),
        ("https://m.weibo.cn/u/1", "x", SourceKind.FEED, MediaType.WEIBO, "weibo.cn"),
        ("https://mp.weixin.qq.com/s/abc", "x", SourceKind.FEED, MediaType.WECHAT, "weixin.qq.com"),
        ("https://channels.weixin.qq.com/x", "x", SourceKind.FEED, MediaType.SHORT_VIDEO, "channels."),
        ("https://www.douyin.com/user/1", "x", SourceKind.FEED, MediaType.SHORT_VIDEO, "douyin.com"),
        ("https://tieba.baidu.com/f?kw=明湖", "x", SourceKind.HTML_LIST, MediaType.FORUM, "tieba"),
        ("https://bbs.minghu.example/feed", "明湖在线", SourceKind.FEED, MediaType.FORUM, "bbs."),
        ("https://blog.example.cn/rss", "x", SourceKind.FEED, MediaType.BLOG, "blog."),
        ("https://epaper.jnrb.example/rss", "x", SourceKind.FEED, MediaType.PRINT, "epaper."),
        ("https://rsshub.example/weibo/user/1", "x", SourceKind.FEED, MediaType.WEIBO, "/weibo/"),
        ("https://rsshub.example/wechat/mp/1", "x", SourceKind.FEED, MediaType.WECHAT, "/wechat/"),
        ("https://www.minghu.gov.example/12345/list.html", "x", SourceKind.HTML_LIST, MediaType.HOTLINE_12345, "12345"),
        ("https://www.minghu.gov.example/ldxx/", "x", SourceKind.HTML_LIST, MediaType.MAILBOX, "ldxx"),
        ("https://www.minghu.gov.example/hd/", "市长信箱", SourceKind.HTML_LIST, MediaType.MAILBOX, "信箱"),
        ("https://www.minghu.gov.example/hd/", "人民网领导留言板", SourceKind.HTML_LIST, MediaType.MAILBOX, "留言板"),
        ("https://news.minghu.example/rss", "明湖日报", SourceKind.FEED, MediaType.PRINT, "日报"),
        ("https://news.minghu.example/rss", "明湖新闻客户端", SourceKind.FEED, MediaType.APP, "客户端"),
        ("https://news.minghu.example/rss", "Minghu News App", SourceKind.FEED, MediaType.APP, "App"),
        ("https://news.minghu.example/rss", "明湖新闻网", SourceKind.FEED, MediaType.WEBSITE, "RSS/Atom"),
        ("https://www.minghu.gov.example/xwzx/", "政府网站", SourceKind.HTML_LIST, MediaType.WEBSITE, "网页列表"),
    ],
)
def test_an_unset_media_type_is_inferred_from_the_address_then_the_name_and_says_why(url, name, kind, expected, basis):
    guess = media_type_of(None, kind, url, name)
    assert guess.media_type == expected and guess.inferred
    assert basis in guess.basis
    assert guess.text.startswith(f"{expected.label}（推断：")


def test_a_set_media_type_wins_over_the_inference():
    source = Source(name="明湖日报", url="https://weibo.com/minghudaily", media_type=MediaType.PRINT)
    assert source.media_type_guess.media_type == MediaType.PRINT
    assert not source.media_type_guess.inferred and source.media_type_guess.text == "纸媒"
    assert Source(name="明湖日报", url="https://weibo.com/minghudaily").media_type_guess.media_type == MediaType.WEIBO


@pytest.mark.parametrize("written", ["微博", "weibo", "WEIBO", " 微博 "])
def test_media_type_is_read_from_its_value_or_its_chinese_label(written):
    source = build_source({"name": "x", "url": "https://x.example/f", "media_type": written})
    assert source.media_type == MediaType.WEIBO
    assert build_source({"name": "x", "url": "https://x.example/f", "media_type": "App"}).media_type == MediaType.APP
    assert build_source({"name": "x", "url": "https://x.example/f", "media_type": "12345"}).media_type == (
        MediaType.HOTLINE_12345
    )
    assert build_source({"name": "x", "url": "https://x.example/f", "media_type": ""}).media_type is None


def test_a_wrong_media_type_is_refused_naming_the_allowed_values_in_english_and_chinese():
    source, problems = check_source({"name": "x", "url": "https://x.example/f", "media_type": "电视"})
    assert source is None and [p.field for p in problems] == ["media_type"]
    assert "unknown media type '电视'" in problems[0].message
    assert "website (网站)" in problems[0].message and "mailbox (信箱)" in problems[0].message
    listed = "网站、论坛、博客、微博、纸媒、微信、App、短视频、12345、信箱"
    assert problems[0].message_zh.startswith(f"「媒体类型」应为以下之一：{listed}")


def test_opml_carries_the_media_type_and_a_wrong_one_names_the_file_and_line():
    set_type = Source(name="明湖发布", url="https://a.example/f", media_type=MediaType.WECHAT)
    inferred = Source(name="明湖日报", url="https://b.example/f")
    back = read_opml(write_opml([set_type, inferred]).encode(), default_tier=MediaTier.CITY)
    assert [s.media_type for s in back] == [MediaType.WECHAT, None]  # an inferred type stays inferred
    bad = (
        b'<?xml version="1.0"?>\n<opml version="2.0"><body>\n'
        b'<outline text="a" xmlUrl="https://a.example/f"/>\n'
        b'<outline text="b" xmlUrl="https://b.example/f" mediaType="TV"/>\n</body></opml>'
    )
    with pytest.raises(SourceError, match=r"feeds\.opml line 4 \(https://b\.example/f\): unknown media type 'TV'"):
        read_opml(bad, default_tier=MediaTier.CITY, file="feeds.opml")


def test_the_cli_sets_lists_and_refuses_media_types(tmp_path, sqlite_template, capsys):
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    args = ["--database-url", f"sqlite+aiosqlite:///{path}"]
    assert main([*args, "sources", "add", "https://weibo.com/minghu", "--name", "明湖发布"]) == 0
    assert "媒体类型 微博（推断：按地址 weibo.com）" in capsys.readouterr().out
    assert main([*args, "sources", "add", "https://a.example/f", "--name", "明湖日报", "--media-type", "网站"]) == 0
    assert main([*args, "sources", "list"]) == 0
    out = capsys.readouterr().out
    assert "媒体类型 微博（推断：按地址 weibo.com）" in out and "媒体类型 网站\n" in out
    assert main([*args, "sources", "add", "https://c.example/f", "--media-type", "电视台"]) == 2
    err = capsys.readouterr().err
    assert "unknown media type '电视台'" in err and "short_video (短视频)" in err


def test_the_demo_corpus_sets_some_types_and_infers_the_rest():
    feeds = load_corpus().feeds
    assert feeds["minghu-tv"].media_type == MediaType.SHORT_VIDEO and feeds["gangao-view"].media_type == (
        MediaType.WECHAT
    )
    as_sources = {
        f.id: Source(name=f.title, url=f"http://127.0.0.1:1{f.path}", media_type=f.media_type) for f in feeds.values()
    }
    types = {k: s.media_type_guess.media_type for k, s in as_sources.items()}
    assert types["minghu-daily"] == types["jiangnan-daily"] == MediaType.PRINT
    assert types["minghu-bbs"] == MediaType.FORUM and types["xinhua-jiangnan"] == MediaType.WEBSITE


def test_a_wrong_media_type_in_the_corpus_yaml_names_file_line_and_choices(tmp_path):
    original = CORPUS_FILE.read_text(encoding="utf-8")
    broken = original.replace("    media_type: 短视频\n", "    media_type: 电视\n", 1)
    line = broken.splitlines().index("    media_type: 电视") + 1
    path = tmp_path / "corpus.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_corpus(path)
    message = str(caught.value)
    assert f"corpus.yaml:{line} feeds[5].media_type: '电视' is not a media type（媒体类型无效）" in message
    assert "website (网站)" in message and "hotline_12345 (12345)" in message


async def test_collected_items_carry_the_source_media_type_and_a_correction_retags_them(db, clock, play):
    play.scripts["a"] = [Step(body=rss([{"title": "明湖市老旧小区改造", "link": "https://a.example/1"}]))]
    url = play.url("/feed/a.xml")
    async with db.write() as conn:
        source_id = (await add_sources(conn, [Source(name="明湖论坛", url=url, poll_min_s=60)], clock.now()))[url]
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        assert (await collector.run_once()).items_new == 1
    async with db.read() as conn:
        assert (await conn.execute(select(items.c.media_type))).scalars().all() == ["forum"]
        row = (await conn.execute(select(sources).where(sources.c.id == source_id))).one()
        assert row.media_type is None and row_media_type(row).inferred
    async with db.write() as conn:
        assert await retag_source_items(conn, source_id, MediaType.WECHAT) == 1
        assert await retag_source_items(conn, source_id, MediaType.WECHAT) == 0
    async with db.read() as conn:
        assert (await conn.execute(select(items.c.media_type))).scalars().all() == ["wechat"]


async def test_sources_store_a_set_media_type_and_leave_an_unset_one_unset(db, clock):
    new = [
        Source(name="明湖发布", url="https://a.example/f", media_type=MediaType.WEIBO),
        Source(name="明湖日报", url="https://b.example/f"),
    ]
    async with db.write() as conn:
        await add_sources(conn, new, clock.now())
    async with db.read() as conn:
        stored = await list_sources(conn)
    assert [s.media_type for s in stored] == [MediaType.WEIBO, None]
    assert stored[1].media_type_guess.media_type == MediaType.PRINT


async def test_migration_gives_stored_items_their_source_inferred_type_and_downgrades(db, clock):
    await migrate(db, "0010_incident_assignment")
    now = clock.now()
    source = {
        "name": "明湖在线论坛", "kind": "feed", "url": "https://bbs.minghu.example/feed", "media_tier": "self_media",
        "poll_min_s": 60, "poll_max_s": 600, "created_at": now, "updated_at": now,
    }  # fmt: skip
    item = {"url": "https://bbs.minghu.example/t/1", "title": "t", "text": "x", "fetched_at": now, "created_at": now}
    async with db.write() as conn:
        sid = (await conn.execute(insert(sources).values(source).returning(sources.c.id))).scalar_one()
        await conn.execute(insert(items).values(source_id=sid, dedup_key="a" * 64, **item))
        await conn.execute(insert(items).values(source_id=None, dedup_key="b" * 64, **item))
    await migrate(db)
    async with db.read() as conn:
        found = (await conn.execute(text("SELECT dedup_key, media_type FROM items ORDER BY dedup_key"))).all()
        assert [tuple(r) for r in found] == [("a" * 64, "forum"), ("b" * 64, None)]
        assert (await conn.execute(text("SELECT media_type FROM sources"))).scalar_one() is None
    await migrate(db, "0010_incident_assignment")
    async with db.read() as conn:
        columns = (await conn.execute(text("SELECT * FROM items"))).keys()
    assert "media_type" not in columns
    await migrate(db)

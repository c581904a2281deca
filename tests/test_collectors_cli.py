"""`monitor sources …`, `monitor collect --once` and `monitor parse` as a user runs them."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.cli import main
from monitor.collectors.offline import is_bad, parse_document
from monitor.collectors.sources import read_opml, write_opml
from monitor.domain import MediaTier, Source, SourceKind

from .feedplay import rss

DATA = Path(__file__).parent / "data" / "collectors"


def db_args(tmp_path: Path, sqlite_template: Path) -> list[str]:
    path = tmp_path / "cli.db"
    if not path.exists():
        shutil.copyfile(sqlite_template, path)
    return ["--database-url", f"sqlite+aiosqlite:///{path}"]


def test_sources_add_list_remove_and_errors(tmp_path, sqlite_template, capsys):
    args = db_args(tmp_path, sqlite_template)
    assert main([*args, "sources", "add", "https://news.example/rss.xml", "--name", "明湖日报", "--tier", "市"]) == 0
    assert "added: #1 明湖日报" in capsys.readouterr().out
    options = ["--option", "item=ul.news li", "--option", "date=span"]
    assert main([*args, "sources", "add", "https://gov.example/list.html", "--kind", "html_list", *options]) == 0
    assert main([*args, "sources", "list"]) == 0
    out = capsys.readouterr().out
    assert "明湖日报" in out and "正常" in out and "下次采集" in out
    assert main([*args, "sources", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["health"] for s in listed] == ["ok", "ok"] and listed[0]["media_tier"] == "city"
    # errors name the field and the fix
    assert main([*args, "sources", "add", "https://x.example/l", "--kind", "html_list"]) == 2
    assert "needs an 'item' CSS selector" in capsys.readouterr().err
    assert main([*args, "sources", "add", "https://x.example/f", "--credentials-ref", "s3cr3t-token!"]) == 2
    assert "NAME of an environment variable" in capsys.readouterr().err
    assert main([*args, "sources", "add", "https://x.example/f", "--tier", "国际"]) == 2
    assert "unknown media tier" in capsys.readouterr().err
    assert main([*args, "sources", "remove", "1"]) == 0
    assert main([*args, "sources", "remove", "1"]) == 2
    assert "no source with id" in capsys.readouterr().err


def test_opml_round_trip_and_plain_reader_opml(tmp_path, sqlite_template, capsys):
    args = db_args(tmp_path, sqlite_template)
    plain = DATA / "reader.opml"
    assert main([*args, "sources", "import-opml", str(plain), "--tier", "provincial"]) == 0
    assert capsys.readouterr().out.count("added:") == 2
    out = tmp_path / "out.opml"
    assert main([*args, "sources", "export-opml", str(out)]) == 0
    again = read_opml(out.read_bytes(), default_tier=MediaTier.CITY)
    assert {(s.url, s.media_tier) for s in again} == {
        ("https://news.example/rss.xml", MediaTier.PROVINCIAL),
        ("https://bbs.example/atom.xml", MediaTier.SELF_MEDIA),
    }
    full = Source(
        name="城管局公告",
        url="https://gov.example/list.html",
        kind=SourceKind.HTML_LIST,
        media_tier=MediaTier.COUNTY,
        region_hint="nanshan",
        poll_min_s=120,
        poll_max_s=900,
        expected_per_day=5.0,
        credentials_ref="GOV_SITE_TOKEN",
        options={"item": "ul.list li", "date": "span.time"},
    )
    assert read_opml(write_opml([full]).encode(), default_tier=MediaTier.CITY) == [full]
    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body><outline", encoding="utf-8")
    assert main([*args, "sources", "import-opml", str(broken)]) == 2
    assert "not valid OPML" in capsys.readouterr().err


def test_collect_once_fetches_due_sources(tmp_path, sqlite_template, capsys):
    body = rss([{"title": "明湖市发布防汛四级应急响应", "link": "https://a.example/1", "text": "即日起启动"}])

    async def feed(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/rss+xml", charset="utf-8")

    app = web.Application()
    app.router.add_get("/rss.xml", feed)
    runner = web.AppRunner(app)
    import asyncio

    loop = asyncio.new_event_loop()
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        args = db_args(tmp_path, sqlite_template)
        assert main([*args, "sources", "add", f"http://127.0.0.1:{port}/rss.xml"]) == 0
        assert main([*args, "collect", "--once"]) == 0
        assert "新增 1 条" in capsys.readouterr().out
        assert main([*args, "collect", "--once"]) == 0  # not due again yet
        assert "0 个来源" in capsys.readouterr().out
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_parse_prints_exactly_the_item_fields_and_counts_bad_files(tmp_path, capsys):
    good = DATA / "gbk-mismatch.xml"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not a feed")
    assert main(["parse", str(good), str(DATA / "feed.json"), str(bad), str(tmp_path / "missing.xml")]) == 1
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert all(set(r) == {"file", "title", "link", "published", "text", "warnings"} for r in records)
    titles = {r["title"] for r in records}
    assert "明湖市住建局回应镕基小区加装电梯" in titles and "北湖镇发布防汛提示" in titles
    gbk = next(r for r in records if r["file"] == str(good))  # declared GB2312, uses GBK-only 镕: read as GB18030
    assert gbk["warnings"] == [] and gbk["published"] == "2026-09-24T01:00:00+00:00"
    assert "2 of 4 file(s) could not be parsed" in captured.err
    assert f"{bad}:" in captured.err and "missing.xml: cannot read" in captured.err


def test_parse_reads_html_list_pages_and_articles(capsys):
    page = DATA / "list.html"
    selectors = json.dumps({"item": "ul.news li", "date": "span"})
    assert main(["parse", "--selectors", selectors, str(page)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["title"] for r in records] == ["东港化工园区发生爆炸", "关于老旧小区改造的答复"]
    assert records[0]["published"] == "2026-09-24T01:30:00+00:00"
    assert main(["parse", str(DATA / "article.html")]) == 0
    (article,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "3人受伤" in article["text"] and "版权所有" not in article["text"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=500).map(lambda t: t.encode("utf-8")),
        st.sampled_from(
            [
                b"<rss><channel><item>",
                b'{"version": "https://jsonfeed.org/version/1.1", "items": [1, {"url": 5}]}',
                b"<?xml version='1.0' encoding='big5'?><feed xmlns='http://www.w3.org/2005/Atom'><entry>",
                b"<html><body><article>",
                b"\xef\xbb\xbf<rss version='2.0'><channel><item><title>&#0;</title>",
            ]
        ).flatmap(lambda head: st.binary(max_size=300).map(lambda tail: head + tail)),
    )
)
def test_parse_never_crashes_on_any_input(body):
    parsed = parse_document(body, name="fuzz")
    assert isinstance(is_bad(parsed), bool)
    for entry in parsed.entries:
        assert isinstance(entry.title, str) and isinstance(entry.text, str)
        json.dumps([entry.title, entry.link, entry.text, list(entry.warnings)], ensure_ascii=False)

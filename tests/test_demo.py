"""The demo is the product's front door: it must work with no config and no network."""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from monitor.collectors.feeds import parse_feed
from monitor.demo.corpus import load_corpus, render_feed

from .conftest import START
from .demo_support import start_demo

REPO = Path(__file__).resolve().parent.parent


def test_corpus_is_rich_enough():
    corpus = load_corpus()
    assert len(corpus.items) >= 60
    scripts = Counter(i.script for i in corpus.items)
    assert scripts["traditional"] >= 8 and scripts["simplified"] >= 40
    assert {f.format for f in corpus.feeds.values()} == {"rss", "atom"}
    assert {f.encoding for f in corpus.feeds.values()} >= {"utf-8", "gb18030", "big5"}
    expected = [i.expected for i in corpus.items]
    assert sum(1 for e in expected if e.get("relevant")) >= 30
    assert sum(1 for e in expected if e.get("relevant") is False) >= 15
    assert {e.get("event_level") for e in expected} >= {"II", "III", "IV"}
    assert len({e.get("department") for e in expected if e.get("department")}) >= 12
    # backdated so that deadlines are near when the demo starts
    assert any(-300 <= i.published_offset.total_seconds() / 60 <= -240 for i in corpus.items)
    assert any(-2880 <= i.published_offset.total_seconds() / 60 <= -2820 for i in corpus.items)


@pytest.mark.parametrize("feed_id", sorted(load_corpus().feeds))
def test_every_demo_feed_round_trips_through_the_parser(feed_id):
    corpus = load_corpus()
    feed = corpus.feeds[feed_id]
    items = corpus.items_of(feed_id)
    body = render_feed(feed, items, START, START, "http://127.0.0.1")
    parsed = parse_feed(body, content_type=f"application/xml; charset={feed.encoding}")
    assert parsed.warnings == []
    visible = [i for i in items if i.published_at(START) <= START]
    assert sorted(e.title for e in parsed.entries) == sorted(i.title for i in visible)
    by_title = {e.title: e for e in parsed.entries}
    for item in visible:
        assert by_title[item.title].published == item.published_at(START).replace(microsecond=0)
        assert item.text[:20] in by_title[item.title].text


async def test_demo_collects_and_serves_items(tmp_path):
    collected = asyncio.Event()
    demo = await start_demo(tmp_path, on_line=lambda line: line.startswith("采集完成") and collected.set())
    settings, info, lines = demo.settings, demo.info, demo.lines
    await collected.wait()  # the first pass runs at start, before any time passes
    corpus = load_corpus()
    visible = [i for i in corpus.items if i.published_at(START) <= START]
    assert f"新增 {len(visible)} 条" in [x for x in lines if x.startswith("采集完成")][-1]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # cookies for 127.0.0.1
        await _demo_login(session, info.url, "duty")
        async with session.get(info.url) as resp:  # / is the duty queue
            assert resp.status == 200 and "在办事件" in await resp.text()
        async with session.get(info.url + "items") as resp:
            page = await resp.text()
    assert resp.status == 200 and "政务舆情回应监测" in page
    for media_type in ("论坛", "纸媒", "短视频", "微信", "网站"):  # inferred (bbs, 日报 …) or set in the corpus
        assert f'<div class="muted small">{media_type}</div>' in page, media_type
    assert any("演示账户" in line for line in lines)
    assert all(f"用户名 {name}" in "\n".join(lines) for name in ("duty", "unit", "leader", "analyst", "admin"))
    for item in visible:
        assert item.title.replace('"', "&#34;") in page or item.title in page, item.title
    collected.clear()
    # the loop may still be classifying: step the clock until it polls again
    assert await demo.step_until(collected.is_set, settings.demo_refresh_s, 60)
    # the next pass finds nothing new (conditional GET)
    assert "新增 0 条" in [x for x in lines if x.startswith("采集完成")][-1]
    await demo.finish()
    assert lines[-1] == "演示已停止。"
    assert (tmp_path / "demo.db").exists()


async def _demo_login(session: aiohttp.ClientSession, base: str, username: str) -> None:
    from monitor.demo.accounts import DEMO_PASSWORD

    async with session.get(base + "login") as resp:
        token = (await resp.text()).split('name="_csrf" value="')[1].split('"')[0]
    data = {"username": username, "password": DEMO_PASSWORD, "_csrf": token, "next": "/queue"}
    async with session.post(base + "login", data=data) as resp:
        assert resp.status == 200 and str(resp.url).endswith("/queue"), await resp.text()


def test_monitor_demo_command_starts_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "MONITOR_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        started = proc.stdout.readline()
        assert "演示已启动" in started, started + proc.stderr.read()
        printed = []
        while not (printed and printed[-1].startswith("采集完成")) and len(printed) < 2000:
            printed.append(proc.stdout.readline())  # accounts, engine alerts on the console, first pass
        assert printed[0].startswith("演示账户") and "用户名 duty" in printed[1]
        first_pass = printed[-1]
        assert first_pass.startswith("采集完成") and "新增 0 条" not in first_pass
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "演示已停止" in out

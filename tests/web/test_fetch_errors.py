"""Source errors and item warnings are stored in English (the log) and shown to people in zh-CN,
with what to do; an unknown message shows a generic zh-CN line with the English after it."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from lxml import html as lxml_html
from sqlalchemy import insert, update

from monitor.collectors.fetch import Fetcher, FetchLimits
from monitor.collectors.sources import SourceError, auth_header
from monitor.domain import UserRole
from monitor.storage.schema import items, sources
from monitor.web.fetch_errors import explain_error, explain_warning, warnings_text

from ..feedplay import Step, robots
from .conftest import SOURCE, post_form

CJK = re.compile(r"[\u4e00-\u9fff]")
# generous timeouts for the answers that come (a loaded machine), a short one where it is the point
LIMITS = FetchLimits(host_min_interval=timedelta(0), read_timeout_s=30.0, total_timeout_s=60.0, max_body_bytes=1024)
HANGING = FetchLimits(host_min_interval=timedelta(0), read_timeout_s=0.3, total_timeout_s=5.0)


async def real_errors(clock, play) -> dict[str, str]:
    """What the fetcher really writes as the error of each kind of failure."""
    play.scripts.update({"gone": [Step(status=404)], "busy": [Step(status=429)], "down": [Step(status=503)]})
    play.scripts["err"] = [Step(status=500)]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}/rss.xml"
    errors = {}
    async with Fetcher(clock, LIMITS) as fetcher:
        paths = {"404": "/feed/gone.xml", "429": "/feed/busy.xml", "503": "/feed/down.xml", "500": "/feed/err.xml"}
        paths |= {"loop": "/loop/0", "big": "/big"}
        for name, path in paths.items():
            errors[name] = (await fetcher.get(play.url(path), robots=False)).error
        errors["refused"] = (await fetcher.get(refused, robots=False)).error
        errors["robots-unreachable"] = (await fetcher.get(refused)).error
        play.robots = robots("User-agent: *\nDisallow: /list.html\n")
        errors["disallowed"] = (await fetcher.get(play.url("/list.html"))).error
        play.redirects["moved"] = play.url("/list.html").replace("127.0.0.1", "localhost")  # another site
        errors["redirect-disallowed"] = (await fetcher.get(play.url("/go/moved"))).error
    async with Fetcher(clock, HANGING) as fetcher:
        errors["read"] = (await fetcher.get(play.url("/slow"), robots=False)).error
    async with Fetcher(clock, FetchLimits(host_min_interval=timedelta(0), max_redirects=0)) as fetcher:
        errors["no-redirects"] = (await fetcher.get(play.url("/loop/0"), robots=False)).error
    with pytest.raises(SourceError) as missing:
        auth_header("MINGHU_BBS_TOKEN", {})
    errors["credentials"] = str(missing.value)
    return errors


EXPECTED = {
    "404": "网址不存在（HTTP 404）",
    "429": "网站限制访问频率（HTTP 429）",
    "503": "网站暂时无法提供服务（HTTP 503）",
    "500": "网站服务器出错（HTTP 500）",
    "read": "网站响应超时（0.3 秒没有返回数据）",
    "loop": "网址跳转次数过多（超过 5 次）",
    "big": "返回内容过大（超过 0.000976562 MiB）",
    "refused": "无法连接到网站",
    "robots-unreachable": "无法读取该网站的 robots.txt（无法连接到网站（连接被拒绝或网络不通）），按规范暂停采集该网站",
    "disallowed": "网站的 robots.txt 不允许本系统采集该地址（/list.html），未发出请求",
    "redirect-disallowed": "网址跳转到了另一网站的 http://localhost:",
    "no-redirects": "网址已跳转到 /loop/1（HTTP 302），当前设置不跟随跳转",
    "credentials": "信息源要求的凭据未配置：采集进程中没有环境变量 MINGHU_BBS_TOKEN",
}


async def test_every_error_the_fetcher_writes_reads_in_chinese_with_what_to_do(clock, play):
    errors = await real_errors(clock, play)
    for name, error in errors.items():
        explained = explain_error(error)
        assert explained is not None and explained.detail is None, (name, error)
        assert explained.text.startswith(EXPECTED[name]), (name, explained.text)
        assert CJK.search(explained.advice), (name, explained)
    assert "robots_permission" in explain_error(errors["disallowed"]).advice
    assert "已采集的内容不受影响" in explain_error(errors["disallowed"]).advice
    moved = explain_error(errors["redirect-disallowed"])
    assert "/list.html" in moved.text and "robots.txt 不允许本系统采集" in moved.text
    assert "只对信息源自身所在网站有效" in moved.advice


def test_parse_failures_timeouts_and_unknown_messages():
    assert explain_error(None) is None and explain_error("") is None
    explained = explain_error("charset conflict: HTTP header says gbk, the document declares utf-8; no feed found in x")
    assert explained.text.startswith("该地址没有可识别的订阅源")
    assert explain_error("selector item='ul.news li' matched nothing on https://x/").text.startswith(
        "列表选择器 item='ul.news li' 在页面上没有匹配到任何条目"
    )
    assert explain_error("connect timed out after 10 s").text == "连接网站超时（10 秒内未连上）。"
    unknown = explain_error("SomethingNew: the flux capacitor broke")
    assert unknown.text == "采集出错（未归类的错误）。" and unknown.detail == "SomethingNew: the flux capacitor broke"
    assert str(unknown).endswith("（原始信息：SomethingNew: the flux capacitor broke）")


def test_item_warnings_read_in_chinese():
    cases = {
        "article not fetched: more than 20 new articles in one poll (max_articles)": (
            "未抓取正文：一次采集到的新稿件超过 20 篇"
        ),
        "article not fetched: robots.txt of https://a.example disallows /x.html for MinghuMonitor": (
            "未抓取正文：网站的 robots.txt 不允许本系统采集该地址（/x.html），未发出请求"
        ),
        "article not fetched: a.example failed earlier in this poll (read timed out: no data for 30 s)": (
            "未抓取正文：该网站本次采集中已出错（网站响应超时（30 秒没有返回数据）），本次不再请求"
        ),
        "article not fetched: a.example asks for 30 s between requests (Crawl-delay); at most 4 of its article "
        "pages are read per poll": "未抓取正文：网站要求每次访问间隔 30 秒",
        "older list page https://a.example/2.html not read (HTTP 500)": (
            "未读取更早的列表页（网站服务器出错（HTTP 500））"
        ),
        "mojibake repaired: UTF-8 text had been decoded as gbk": "发现乱码（编码被读错），已自动修复",
        "unreadable date '昨天'": "无法识别发布时间 '昨天'",
        "read 5 list page(s) (max_pages) and every entry was new: older entries may be missing; raise max_pages "
        "or shorten the poll interval": "已读 5 页列表且全部是新稿件",
    }
    for warning, start in cases.items():
        assert str(explain_warning(warning)).startswith(start), warning
    assert warnings_text(["odd new warning"]) == "采集提示： （原始信息：odd new warning）"


def visible(page: str) -> str:
    """The text a person reads (tooltips and hidden attributes left out)."""
    return lxml_html.fromstring(page).text_content()


async def test_sources_page_and_banner_explain_errors_in_chinese(web_env):
    env = web_env
    client = await env.login(UserRole.DUTY_OFFICER)
    await post_form(client, "/sources/new", SOURCE)
    permitted = {**SOURCE, "name": "市政府门户", "url": "https://www.minghu.gov.cn/rss.xml"}
    permitted["options"] = '{"robots_permission": "市政府办公室 2026-03-01 书面同意（明政办函〔2026〕12号）"}'
    assert (await post_form(client, "/sources/new", permitted)).status == 303
    recorded = [a.after["options"] for a in await env.audit("source.create")]
    assert any("明政办函〔2026〕12号" in options for options in recorded)  # who permitted it, in the audit log
    refusal = "robots.txt of https://news.minghu.example disallows /rss.xml for MinghuMonitor"
    async with env.db.write() as conn:
        await conn.execute(
            update(sources)
            .where(sources.c.name == "明湖日报")
            .values(health="failing", last_error=refusal, consecutive_failures=3, health_changed_at=env.clock.now())
        )
    page = await (await client.get("/sources")).text()
    text = visible(page)
    assert "网站的 robots.txt 不允许本系统采集该地址（/rss.xml）" in text and "robots_permission" in text
    assert refusal not in text and f'title="{refusal}"' in page  # the English stays at hand as a tooltip
    assert "已获授权，不受 robots.txt 限制：市政府办公室 2026-03-01 书面同意" in text
    queue = await (await client.get("/queue")).text()
    banner = visible(queue[queue.index('<div id="source-alert"') :])
    assert "明湖日报：网站的 robots.txt 不允许本系统采集该地址" in banner and "disallows" not in banner
    assert "。；" not in banner and "。）" not in banner


async def test_items_tooltip_explains_warnings_in_chinese(web_env):
    now = web_env.clock.now()
    warning = "article not fetched: read timed out: no data for 30 s"
    async with web_env.db.write() as conn:
        await conn.execute(
            insert(items),
            [{"dedup_key": "a", "url": "https://a.example/1", "title": "北湖镇开展防汛演练", "text": "",
              "warnings": [warning], "fetched_at": now, "created_at": now}],
        )  # fmt: skip
    page = await (await (await web_env.login(UserRole.DUTY_OFFICER)).get("/items")).text()
    badge = lxml_html.fromstring(page).cssselect("span.badge.warn")[0]
    assert (
        badge.get("title") == "未抓取正文：网站响应超时（30 秒没有返回数据）" and "采集提示 1" in badge.text_content()
    )

"""The sources form checks with the collectors' own rules (the CLI's) and names the field in Chinese."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from monitor.cli import main
from monitor.collectors.sources import check_source
from monitor.domain import UserRole
from monitor.storage.schema import items, sources

from .conftest import SOURCE, post_form

LIST = {"kind": "html_list", "url": "https://www.minghu.gov.cn/xwzx/"}

# (changed fields, field at fault, what the message under that field says)
BAD = [
    ({"name": ""}, "name", "「名称」为必填项"),
    ({"name": "名" * 201}, "name", "不能超过 200 个字符"),
    ({"url": "https://"}, "url", "「地址」应为以 http:// 或 https:// 开头的完整网址"),
    ({"url": "ftp://news.minghu.example/rss"}, "url", "「地址」应为以 http:// 或 https:// 开头"),
    ({"kind": "rss"}, "kind", "「类型」应从列表中选择"),
    ({"media_tier": "国际"}, "media_tier", "「媒体层级」应从列表中选择"),
    (
        {"media_type": "电视"},
        "media_type",
        "「媒体类型」应为以下之一：网站、论坛、博客、微博、纸媒、微信、App、短视频、12345",
    ),
    ({"region_hint": "atlantis"}, "region_hint", "「属地」应从列表中选择"),
    ({"poll_min_s": ""}, "poll_min_s", "「最短轮询间隔」应为正整数"),
    ({"poll_min_s": "-5"}, "poll_min_s", "「最短轮询间隔」应为正整数"),
    ({"poll_max_s": "100"}, "poll_max_s", "「最长轮询间隔」不能小于「最短轮询间隔」"),
    ({"expected_per_day": "很多"}, "expected_per_day", "「每日预期条数」应为非负数字"),
    ({"expected_per_day": "nan"}, "expected_per_day", "「每日预期条数」应为非负数字"),
    ({"credentials_ref": "s3cr3t token"}, "credentials_ref", "「凭据变量名」应为环境变量名"),
    ({"options": "{bad"}, "options", "「选项」不是有效的 JSON（第 1 行第 2 列）"),
    ({"options": "[1]"}, "options", "「选项」应为 JSON 对象"),
    ({"options": '{"itme": "li"}'}, "options", "「选项」中的 itme 无法识别"),
    ({"options": '{"api_token": "abc123"}'}, "options", "「选项」中的 api_token 像是密钥"),
    ({"options": '{"fetch_articles": "yes"}'}, "options", "fetch_articles 应为 true 或 false"),
    ({**LIST, "options": "{}"}, "options", "「选项」缺少 item"),
    ({**LIST, "options": '{"item": "ul..news"}'}, "options", "「选项」中的 item：'ul..news' 不是有效的 CSS 选择器"),
    ({**LIST, "options": '{"item": "li", "max_pages": 3}'}, "options", "填写了 max_pages 但没有 next"),
    ({**LIST, "options": '{"item": "li", "next": "a.next", "max_pages": 50}'}, "options", "max_pages 应为 1 到 20"),
]


def field_error(page: str, field: str) -> str:
    """The error text shown inside the label of the form field `field` ('' when none)."""
    doc = lxml_html.fromstring(page)
    (control,) = doc.xpath(f"//label[.//*[@name='{field}']]")
    return " ".join(span.text_content() for span in control.xpath(".//span[@class='error']"))


@pytest.mark.parametrize(("changes", "field", "message"), BAD, ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD)])
async def test_each_rule_names_its_field_in_chinese_and_keeps_what_was_typed(web_env, changes, field, message):
    client = await web_env.login(UserRole.DUTY_OFFICER)
    resp = await post_form(client, "/sources/new", {**SOURCE, **changes})
    page = await resp.text()
    assert resp.status == 400
    assert message in field_error(page, field)
    doc = lxml_html.fromstring(page)
    for key, value in changes.items():  # nothing typed is lost
        (control,) = doc.xpath(f"//*[@name='{key}']")
        if control.tag != "select":  # a select shows its choices; the rest show exactly what was typed
            assert (control.text_content() if control.tag == "textarea" else control.get("value")) == value
    async with web_env.db.read() as conn:
        assert (await conn.execute(select(sources))).first() is None
    # The same values are refused by the rules the CLI and OPML import use, on the same field.
    source, problems = check_source({**SOURCE, **changes}, regions={"nanshan", "chengdong"})
    assert source is None and field in {p.field for p in problems}


async def test_an_html_list_source_with_pagination_is_saved_and_edited(web_env):
    client = await web_env.login(UserRole.DUTY_OFFICER)
    options = {"item": "ul.news li", "date": "span", "next": 'a:contains("下一页")', "max_pages": 4}
    form = {**SOURCE, **LIST, "region_hint": "nanshan", "options": json.dumps(options, ensure_ascii=False)}
    assert (await post_form(client, "/sources/new", form)).status == 303
    async with web_env.db.read() as conn:
        row = (await conn.execute(select(sources))).one()
    assert (row.kind, row.region_hint, row.options) == ("html_list", "nanshan", options)
    assert row.expected_per_day == 20.0 and row.poll_min_s == 300
    page = await (await client.get(f"/sources/{row.id}/edit")).text()
    assert "下一页" in page and "max_pages" in page
    # Editing keeps the same rules: a later bad edit is refused and the stored source is unchanged.
    bad = {**form, "options": json.dumps({**options, "max_pages": 0})}
    resp = await post_form(client, f"/sources/{row.id}/edit", bad)
    assert resp.status == 400 and "max_pages 应为 1 到 20 的整数" in field_error(await resp.text(), "options")
    async with web_env.db.read() as conn:
        assert (await conn.execute(select(sources.c.options))).scalar_one() == options


def test_the_cli_refuses_what_the_form_refuses(tmp_path, sqlite_template, capsys):
    import shutil

    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    args = ["--database-url", f"sqlite+aiosqlite:///{path}", "sources", "add"]
    bad = ["https://www.minghu.gov.cn/xwzx/", "--kind", "html_list", "--option", "item=li", "--option", "max_pages=3"]
    assert main([*args, *bad]) == 2
    assert "option 'max_pages' needs a 'next' selector" in capsys.readouterr().err
    assert main([*args, "https://news.example/rss", "--option", "cookie=abc"]) == 2
    assert "looks like a secret" in capsys.readouterr().err
    assert main([*args, "https://news.example/rss", "--poll-min", "600", "--poll-max", "60"]) == 2
    assert "poll interval bounds must satisfy min <= max" in capsys.readouterr().err


async def test_media_type_is_inferred_until_set_and_setting_it_retags_the_items(web_env):
    client = await web_env.login(UserRole.DUTY_OFFICER)
    assert (await post_form(client, "/sources/new", {**SOURCE, "media_type": ""})).status == 303
    async with web_env.db.write() as conn:
        row = (await conn.execute(select(sources))).one()
        now = web_env.clock.now()
        await conn.execute(
            items.insert().values(source_id=row.id, dedup_key="k" * 64, url="https://news.minghu.example/1",
                                  title="t", text="x", fetched_at=now, created_at=now, media_type="print")
        )  # fmt: skip
    assert row.media_type is None
    listing = lxml_html.fromstring(await (await client.get("/sources")).text())
    assert listing.xpath("string(//div[contains(@class, 'media-type')])") == "纸媒（推断：按名称“日报”）"
    form = lxml_html.fromstring(await (await client.get(f"/sources/{row.id}/edit")).text())
    assert form.xpath("//select[@name='media_type']/option[@selected]") == []  # 自动推断 is the one chosen
    assert "现为：纸媒（推断：按名称“日报”）" in form.text_content()
    assert (await post_form(client, f"/sources/{row.id}/edit", {**SOURCE, "media_type": "weibo"})).status == 303
    listing = lxml_html.fromstring(await (await client.get("/sources")).text())
    assert listing.xpath("string(//div[contains(@class, 'media-type')])") == "微博"
    async with web_env.db.read() as conn:
        assert (await conn.execute(select(sources.c.media_type))).scalar_one() == "weibo"
        assert (await conn.execute(select(items.c.media_type))).scalar_one() == "weibo"
    api = await (await client.get("/api/sources")).json()
    assert (api["sources"][0]["media_type"], api["sources"][0]["media_type_inferred"]) == ("weibo", False)

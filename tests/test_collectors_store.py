"""Storing polls: what the database cannot hold never sinks other polls or vanishes unrecorded."""

from __future__ import annotations

import random

from sqlalchemy import select, text

from monitor.collectors.polling import Collector
from monitor.storage.schema import items

from .feedplay import Step, rss
from .test_collectors_poll import add, config, state


async def stored(db) -> dict[str, object]:
    async with db.read() as conn:
        return {r.title: r for r in await conn.execute(select(items))}


async def test_nul_characters_and_lone_surrogates_are_replaced_and_flagged(db, clock, play):
    """Neither fits in PostgreSQL text or UTF-8 output; a JSON Feed can carry both as escapes."""
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
        b'{"id": "1", "url": "https://a.example/n1", "title": "\\u660e\\u6e56\\u0000\\ud800",'
        b' "content_text": "x\\udc80"},'
        b'{"id": "2", "url": "https://a.example/n2", "title": "\\u6b63\\u5e38\\u6807\\u9898"}]}'
    )
    play.scripts["j"] = [Step(body=body, content_type="application/feed+json")]
    await add(db, clock, play.url("/feed/j.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert (result.items_new, result.errors) == (2, 0)
    rows = await stored(db)
    assert rows["明湖\ufffd\ufffd"].text == "x\ufffd"
    assert any("replaced" in w for w in rows["明湖\ufffd\ufffd"].warnings) and rows["正常标题"].warnings == []


async def test_an_overlong_author_is_cut_to_the_column_and_sinks_no_other_poll(db, clock, play):
    """items.author is VARCHAR(200): PostgreSQL refused the row, and with it the whole group commit."""
    author = "明湖市融媒体中心" * 40  # 320 characters
    long = (
        '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "url": "https://a.example/l1",'
        f' "title": "署名很长的稿件", "authors": [{{"name": "{author}"}}]}}]}}'
    ).encode()
    play.scripts["long"] = [Step(body=long, content_type="application/feed+json")]
    play.scripts["plain"] = [Step(body=rss([{"title": "普通稿件标题", "link": "https://a.example/p1"}]))]
    await add(db, clock, play.url("/feed/long.xml"))
    await add(db, clock, play.url("/feed/plain.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert (result.items_new, result.errors) == (2, 0)
    rows = await stored(db)
    assert rows["署名很长的稿件"].author == author[:200] and "普通稿件标题" in rows


REFUSE_SQLITE = """CREATE TRIGGER refuse_items BEFORE INSERT ON items WHEN NEW.title LIKE '%拒收%'
BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"""
REFUSE_PG = [
    """CREATE FUNCTION refuse_items() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.title LIKE '%拒收%' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$""",
    "CREATE TRIGGER refuse_items BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION refuse_items()",
]


async def test_a_poll_the_database_refuses_is_a_recorded_failure_and_sinks_no_other(db, clock, play):
    """Group commit writes polls together; a poll whose items cannot be stored must not take the
    others with it, and its source must show the failure instead of silently never updating."""
    async with db.write() as conn:  # a database that refuses one kind of row (an unforeseen refusal)
        for statement in [REFUSE_SQLITE] if db.is_sqlite else REFUSE_PG:
            await conn.execute(text(statement))
    play.scripts["bad"] = [Step(body=rss([{"title": "这条稿件会被拒收", "link": "https://a.example/r1"}]))]
    good = [await add(db, clock, play.url(f"/feed/good{n}.xml")) for n in range(3)]
    for n in range(3):
        play.scripts[f"good{n}"] = [Step(body=rss([{"title": f"正常稿件之{n}号", "link": f"https://a.example/g{n}"}]))]
    bad = await add(db, clock, play.url("/feed/bad.xml"))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        result = await collector.run_once()
    assert (result.sources, result.items_new, result.errors) == (4, 3, 1)
    assert set(await stored(db)) == {f"正常稿件之{n}号" for n in range(3)}
    assert [(await state(db, s)).health for s in good] == ["ok"] * 3
    row = await state(db, bad)
    assert row.health == "degraded" and row.consecutive_failures == 1 and row.lease_owner is None
    assert "could not be stored" in row.last_error and "refused by the test trigger" in row.last_error
    async with db.read() as conn:
        outcome = (await conn.execute(text(f"SELECT outcome FROM fetches WHERE source_id = {bad}"))).scalar_one()
    assert outcome == "store_failed"

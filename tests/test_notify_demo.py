"""The demo delivers what lands in its outbox through the console channel, and through any real
channel whose settings are present (here a Slack-like Web API on loopback)."""

import asyncio

from monitor.storage.db import Database

from .conftest import START
from .demo_support import start_demo
from .notify_fakes import FakeSlack, start
from .notify_support import alert_row, enqueue


async def test_demo_prints_outbox_alerts_on_the_console(tmp_path):
    delivered = asyncio.Event()

    def seen(line: str) -> None:
        if line.startswith("[通知 → 朱敏]") and "【超期】东港化工园区爆炸" in line:  # the row injected below
            delivered.set()

    demo = await start_demo(tmp_path, on_line=seen)
    settings, info, lines = demo.settings, demo.info, demo.lines
    db = Database.open(f"sqlite+aiosqlite:///{info.database}")
    try:
        await enqueue(db, alert_row(START, None, "zhu_min", kind="deadline_breach"))  # as the engine will
    finally:
        await db.close()
    # the collector, engine and notifier loops all wait on the clock: step it
    assert await demo.step_until(delivered.is_set, settings.notify_poll_s, 30), "the alert never reached the console"
    alert = next(line for line in lines if "【超期】东港化工园区爆炸" in line)
    assert "截止时间：2026-09-24 10:00（北京时间）" in alert
    await demo.finish()


async def test_demo_also_delivers_through_a_configured_real_channel(tmp_path):
    slack = FakeSlack()
    server = await start(slack.app)
    demo = await start_demo(
        tmp_path,
        slack_bot_token=FakeSlack.TOKEN,  # as `MONITOR_SLACK_BOT_TOKEN=… make demo` would set it
        slack_api_url=str(server.make_url("/api/")),
    )
    settings, info, lines = demo.settings, demo.info, demo.lines
    try:
        db = Database.open(f"sqlite+aiosqlite:///{info.database}")
        try:  # 蒋文博 prefers Slack; 朱敏's channels are [console, email]
            await enqueue(
                db,
                alert_row(START, None, "jiang_wenbo", kind="deadline_breach"),
                alert_row(START, None, "zhu_min", kind="deadline_breach"),
            )
        finally:
            await db.close()

        def delivered() -> bool:
            on_slack = any(
                p.body["channel"] == "U0GOVOFF01" and "东港化工园区爆炸" in p.body["text"] for p in slack.posts()
            )
            return on_slack and any(line.startswith("[通知 → 朱敏]") and "东港化工园区爆炸" in line for line in lines)

        assert await demo.step_until(delivered, settings.notify_poll_s, 30), (slack.posts(), lines[-5:])
        assert not any(line.startswith("[通知 → 蒋文博]") and "东港化工园区爆炸" in line for line in lines)
    finally:
        await demo.finish()
        await server.close()

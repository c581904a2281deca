"""The demo runs the whole pipeline: feeds → classification → incidents → clock engine → console alerts."""

from datetime import timedelta

from monitor.storage.db import Database
from monitor.storage.repo.engine import list_obligations

from .demo_support import start_demo


async def test_demo_console_shows_warnings_then_breaches_as_deadlines_pass(tmp_path):
    demo = await start_demo(tmp_path)
    clock, info, lines = demo.clock, demo.info, demo.lines

    async def wait_for(*texts: str) -> None:
        def shown() -> bool:
            return any(all(t in line for t in texts) for line in lines)

        # a second a step, whenever every loop waits on the clock (seconds: deadlines are minutes away)
        assert await demo.step_until(shown, 1, max_steps=600), f"{texts!r} never shown; console: {lines[-10:]}"

    explosion = "东港化工园区一企业爆炸"  # classified 重大 (II) from the corpus, so confirmed automatically
    await wait_for("研判完成")
    await wait_for("[通知 → ")  # through the outbox and the notifier's console channel
    # the first report was published 278 minutes before the demo started: 5 h counts from there
    await wait_for("【预警】" + explosion, "5小时内发布权威信息", "还剩 2")  # 22 minutes, less what the loop took
    await wait_for("【督办】" + explosion, "30分钟内电话报告")  # long overdue: caught up in one alert
    await wait_for("城北停水", "1小时内完成研判", "朱敏")  # unconfirmed incidents: the duty officers triage
    assert not any("【超期】" + explosion in line and "5小时内发布权威信息" in line for line in lines)
    clock.advance(timedelta(minutes=23))  # the 5 h deadline passes
    await wait_for("【超期】" + explosion, "5小时内发布权威信息")
    db = Database.open(f"sqlite+aiosqlite:///{info.database}")
    try:
        async with db.read() as conn:
            rules = {o.rule_id for o in await list_obligations(conn)}
    finally:
        await db.close()
    assert {"GB80-AUTH-RELEASE-5H", "GB61-PRESSCONF-24H", "PRJ-TRIAGE-1H"} <= rules
    await demo.finish()

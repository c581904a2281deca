"""`monitor notify-test`: send a test message over each of a person's channels and say which worked.

Test messages go through the outbox like any other (rows of kind 'test', one per channel, each
pinned to its channel: no retry elsewhere, no alarm), so they are recorded and respect robot limits.
"""

from __future__ import annotations

import difflib
import random
from dataclasses import dataclass
from datetime import datetime

from monitor.clock import Clock, to_local
from monitor.config import Settings
from monitor.domain import ChannelKind, OrgDirectory, Person
from monitor.notifications.service import Channels, create_notifier
from monitor.storage.db import Database
from monitor.storage.repo.outbox import ids_for_keys, insert_rows, rows_by_ids

_LABELS = {
    ChannelKind.SLACK: "Slack",
    ChannelKind.EMAIL: "电子邮件",
    ChannelKind.DINGTALK: "钉钉",
    ChannelKind.WECOM: "企业微信",
    ChannelKind.WEBHOOK: "Webhook",
    ChannelKind.CONSOLE: "控制台",
}


@dataclass(frozen=True)
class ChannelCheck:
    channel: ChannelKind
    ok: bool
    detail: str

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {_LABELS[self.channel]}（{self.channel.value}）：{self.detail}"


class UnknownPerson(LookupError):
    pass


def find_person(org: OrgDirectory, name: str) -> Person:
    """A person by id or by name; the error suggests close matches."""
    if name in org.people:
        return org.people[name]
    found = [p for p in org.people.values() if p.name == name]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise UnknownPerson(f"{name!r} matches several people ({', '.join(p.id for p in found)}); give the id")
    close = difflib.get_close_matches(name, [*org.people, *(p.name for p in org.people.values())], n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; give a person id or name from the org directory"
    raise UnknownPerson(f"no person {name!r} in the org directory{hint}")


def why_unusable(person: Person, channel: ChannelKind, settings: Settings) -> str:
    reasons = {
        ChannelKind.SLACK: "未设置 MONITOR_SLACK_BOT_TOKEN"
        if not settings.slack_bot_token
        else "通讯录中缺少 slack_user",
        ChannelKind.EMAIL: "未设置 smtp_host / smtp_from"
        if not (settings.smtp_host and settings.smtp_from)
        else "通讯录中缺少 email",
        ChannelKind.DINGTALK: "所在单位没有钉钉群机器人，或其 webhook 环境变量未设置",
        ChannelKind.WECOM: "所在单位没有企业微信群机器人，或其 webhook 环境变量未设置",
        ChannelKind.WEBHOOK: "未设置 webhook_url",
        ChannelKind.CONSOLE: "notify_console 未开启",
    }
    return "未配置：" + reasons[channel]


def probe_row(person: Person, channel: ChannelKind, now: datetime) -> dict[str, object]:
    when = to_local(now).strftime("%Y-%m-%d %H:%M")
    text = f"【测试】这是一条来自政务舆情回应监测与督办系统的测试消息（{when}）。收到即表示{_LABELS[channel]}渠道可用。"
    return {
        "idempotency_key": f"test:{person.id}:{channel.value}:{now.isoformat()}",
        "kind": "test",
        "urgent": True,
        "recipient": person.id,
        "channel": channel.value,
        "payload": {"template": "test", "text": text, "person": {"id": person.id, "name": person.name}},
        "next_attempt_at": now,
        "created_at": now,
    }


async def notify_test(
    db: Database, clock: Clock, settings: Settings, built: Channels, person: Person
) -> list[ChannelCheck]:
    now = clock.now()
    wanted = list(dict.fromkeys([*person.channels, *([ChannelKind.CONSOLE] if settings.notify_console else [])]))
    checks, rows = {}, []
    for channel in wanted:
        if built.router.destination(person, channel) is None:
            checks[channel] = ChannelCheck(channel, False, why_unusable(person, channel, settings))
        else:
            rows.append(probe_row(person, channel, now))
    async with db.write() as conn:
        await insert_rows(conn, rows)
    notifier = create_notifier(db, clock, settings, built, rng=random.Random())
    keys = {str(r["idempotency_key"]) for r in rows}
    report = await notifier.run_once(only_ids=await _ids(db, keys)) if rows else None
    async with db.read() as conn:
        stored = await rows_by_ids(conn, await _ids(db, keys))
    for row in stored:
        channel = ChannelKind(str(row.channel))
        outcome = report.outcomes.get(row.id, "未发送") if report else "未发送"
        checks[channel] = ChannelCheck(channel, row.status == "sent", "已送达" if row.status == "sent" else outcome)
    return [checks[c] for c in wanted if c in checks]


async def _ids(db: Database, keys: set[str]) -> list[int]:
    async with db.read() as conn:
        return await ids_for_keys(conn, sorted(keys))

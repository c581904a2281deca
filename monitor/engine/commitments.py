"""承诺兑现 and 谣言移交 (DOMAIN.md §4.4): validate and say what to record (no I/O).

`FulfilCommitment` meets the commitment's obligation (monitor.engine.plan.commitments) — also on a
closed incident, since a public promise outlives the 舆情. `ReferRumor` records that a rumour was
referred to 公安/网信 (国办发〔2016〕61号); it starts or stops no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from monitor.domain import EventKind
from monitor.domain import commands as c
from monitor.domain.commitments import RumorAgency, commitments_of
from monitor.engine.handlers import Change, CommandRejected, Ctx
from monitor.engine.plan.text import local_time

NOTE_CHARS = 1000
_LEEWAY = timedelta(minutes=5)  # clocks of browsers and servers differ a little


def _fulfil(ctx: Ctx, cmd: c.FulfilCommitment) -> Change:
    records = commitments_of(ctx.timeline)
    if not records:
        raise CommandRejected("本事件的回应中没有登记承诺事项，无需登记兑现。")
    record = next((r for r in records if r.number == cmd.number), None)
    if record is None:
        known = "、".join(f"#{r.number}" for r in records)
        raise CommandRejected(f"没有承诺 #{cmd.number}。本事件的承诺事项：{known}。")
    if record.fulfilled_at is not None:
        raise CommandRejected(f"承诺 #{record.number} 已于 {local_time(record.fulfilled_at)} 登记兑现，无需重复登记。")
    url = (cmd.disclosed_url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandRejected("请填写兑现情况的公开链接（以 http:// 或 https:// 开头的完整网址）：承诺须兑现并公开。")
    fulfilled = cmd.fulfilled_at or cmd.at
    if fulfilled > ctx.services.clock.now() + _LEEWAY:
        raise CommandRejected("兑现时间不能晚于当前时间，请核对（按北京时间填写）。")
    if fulfilled < record.recorded_at - timedelta(days=366):
        raise CommandRejected(f"兑现时间 {local_time(fulfilled)} 远早于作出承诺的时间，请核对。")
    if len(cmd.note) > NOTE_CHARS:
        raise CommandRejected(f"备注不能超过 {NOTE_CHARS} 个字符。")
    payload = {
        "number": record.number,
        "text": record.text,
        "due": record.due.isoformat(),
        "fulfilled_at": fulfilled.isoformat(),
        "disclosed_url": url,
        "note": cmd.note.strip(),
    }
    on_time = "按期" if fulfilled <= record.due_at else "逾期"
    return Change(
        ctx.incident,
        [ctx.event(EventKind.COMMITMENT_FULFILLED, cmd, payload)],
        message=f"已登记承诺 #{record.number} {on_time}兑现，相关提醒停止",
    )


def _refer_rumor(ctx: Ctx, cmd: c.ReferRumor) -> Change:
    try:
        agency = RumorAgency(cmd.to)
    except ValueError:
        known = "、".join(f"{a.label}（{a.value}）" for a in RumorAgency)
        raise CommandRejected(f"移交部门「{cmd.to}」不在可选范围内，请从以下选择：{known}。") from None
    note = (cmd.note or "").strip()
    if agency == RumorAgency.OTHER and not note:
        raise CommandRejected("移交其他部门时，请在备注中写明部门名称。")
    if len(note) > NOTE_CHARS:
        raise CommandRejected(f"备注不能超过 {NOTE_CHARS} 个字符。")
    referred = cmd.referred_at or cmd.at
    if referred > ctx.services.clock.now() + _LEEWAY:
        raise CommandRejected("移交时间不能晚于当前时间，请核对（按北京时间填写）。")
    payload = {"to": agency.value, "referred_at": referred.isoformat(), "note": note}
    event = ctx.event(EventKind.RUMOR_REFERRED, cmd, payload)
    return Change(ctx.incident, [event], bump=False, message=f"已登记谣言移交{agency.label}")


COMMITMENT_HANDLERS: dict[type, Callable[[Ctx, Any], Change]] = {
    c.FulfilCommitment: _fulfil,
    c.ReferRumor: _refer_rumor,
}

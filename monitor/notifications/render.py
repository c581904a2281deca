"""zh-CN wording of alerts for every channel: plain text, robot markdown, Slack Block Kit, e-mail.

Pure functions of the message and a `Context` (the instant of sending and the public base URL);
no channel library is imported here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2

from monitor.clock import to_local
from monitor.domain import EventLevel, OpinionLevel, Role
from monitor.notifications.model import Alert, Message

RESEND_NOTE = "（补发：上次发送的结果未能确认，如已收到请忽略）"
ACK_ACTION = "ack"
VIEW_ACTION = "view"


@dataclass(frozen=True)
class Context:
    now: datetime
    base_url: str  # e.g. https://yuqing.gov.example (no trailing slash)

    def link(self, alert: Alert) -> str | None:
        if alert.report is not None:
            return alert.report.url or f"{self.base_url}/reports/{alert.report.month}"
        return f"{self.base_url}/incidents/{alert.incident_id}" if alert.incident_id else None


def link_text(alert: Alert) -> str:
    return "查看月报" if alert.report is not None else "查看事件详情"


def local_time(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def time_left(due: datetime, now: datetime) -> str:
    """还剩 1小时05分 / 已超期 20分钟 (minutes rounded towards the safe side)."""
    seconds = (due - now).total_seconds()
    minutes = int(abs(seconds) // 60) if seconds < 0 else int(-(-seconds // 60))
    hours, mins = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = (
        (f"{days}天" if days else "")
        + (f"{hours}小时" if hours else "")
        + (f"{mins:02d}分" if hours or days else f"{mins}分钟")
    )
    return f"已超期 {parts}" if seconds < 0 else f"还剩 {parts}"


def level_text(alert: Alert) -> str:
    parts = []
    if alert.event_level and alert.event_level in EventLevel.__members__.values():
        parts.append(f"{alert.event_level}级（{EventLevel(alert.event_level).label}）")
    if alert.opinion_level and alert.opinion_level in OpinionLevel.__members__.values():
        level = OpinionLevel(alert.opinion_level)
        parts.append(f"舆情{level.value}（{level.label}·{level.color}）")
    return "，".join(parts)


def role_text(alert: Alert) -> str:
    try:
        return Role(alert.role).label
    except ValueError:
        return alert.role


def headline(alert: Alert) -> str:
    if alert.report is not None and alert.report.title:
        return f"【月报】{alert.report.title}"
    subject = alert.incident_title or alert.text.split("\n", 1)[0] or "提醒"
    if not alert.incident_title and subject.startswith("【"):
        return subject  # the text brings its own 【…】 label
    return f"【{alert.label}】{subject}"


def fields(alert: Alert, ctx: Context) -> list[tuple[str, str]]:
    """Label/value pairs shown under the headline, in reading order."""
    rows: list[tuple[str, str]] = []
    if alert.incident_id:
        rows.append(("事件", f"#{alert.incident_id} {alert.incident_title}".strip()))
    if level_text(alert):
        rows.append(("级别", level_text(alert)))
    if alert.rule_title:
        source = f"（{alert.rule_source}）" if alert.rule_source else ""
        rows.append(("时限要求", alert.rule_title + source))
    if alert.due_at:
        rows.append(("截止时间", f"{local_time(alert.due_at)}（北京时间）"))
        left = time_left(alert.due_at, ctx.now)
        rows.append(("时限状态" if left.startswith("已超期") else "剩余时间", left))  # not "剩余时间：已超期 …"
    if alert.owner_unit_name:
        rows.append(("责任单位", alert.owner_unit_name))
    if alert.returned_reason:
        rows.append(("退回理由", alert.returned_reason))
    if alert.supervision:
        by = alert.supervision.get("by")
        rows.append(("督查方式", f"{alert.label}" + (f"（{by}）" if by else "")))
        rows.append(("事由与要求", alert.supervision.get("reason", "")))
    if alert.person_name:
        rows.append(("提醒对象", f"{alert.person_name}（{role_text(alert)}）" if alert.role else alert.person_name))
    if alert.instruction:
        rows.append(("处置要求", alert.instruction))
    return rows


def message_fields(message: Message, ctx: Context) -> list[tuple[str, str]]:
    """The first alert's fields; one alert to several people (a group chat) names them all."""
    pairs = fields(message.alerts[0], ctx)
    if len(message.people) > 1:
        names = "、".join(p.name for p in message.people)
        pairs = [(k, names if k == "提醒对象" else v) for k, v in pairs]
    return pairs


def alert_people(message: Message, alert: Alert) -> str:
    """Who this message carries `alert` to (a digest on a shared console or group chat holds one
    alert for several people); the alert's own person when the rows do not say."""
    ids = {row.recipient for row in message.rows if row.recipient and Alert.from_row(row).alert_key == alert.alert_key}
    names = [p.name for p in message.people if p.id in ids]
    return "、".join(names) or alert.person_name


def digest_line(alert: Alert, ctx: Context, people: str | None = None) -> str:
    """One alert of a digest; `people` names everyone it is for in this message (default: its person)."""
    bits = [headline(alert)]
    if alert.rule_title:
        bits.append(alert.rule_title)
    if alert.due_at:
        bits.append(f"截止 {local_time(alert.due_at)}（{time_left(alert.due_at, ctx.now)}）")
    who = alert.person_name if people is None else people
    if who:
        bits.append(f"提醒对象 {who}")
    if alert.instruction:
        bits.append(alert.instruction)
    return "｜".join(bits)


def digest_lines(message: Message, ctx: Context) -> list[str]:
    return [digest_line(a, ctx, alert_people(message, a)) for a in message.alerts]


def title(message: Message) -> str:
    if message.digest:
        urgent = sum(1 for a in message.alerts if a.urgent)
        extra = f"，其中紧急 {urgent} 条" if urgent else ""
        return f"【汇总】{len(message.alerts)} 条舆情处置提醒{extra}"
    return headline(message.alerts[0])


def plain_text(message: Message, ctx: Context) -> str:
    """The message as plain text (console, e-mail text part, Slack notification text)."""
    lines = [title(message)]
    if message.digest:
        lines += [f"{i}. {line}" for i, line in enumerate(digest_lines(message, ctx), 1)]
    else:
        alert = message.alerts[0]
        lines += [f"{k}：{v}" for k, v in message_fields(message, ctx)]
        if alert.text and (not alert.incident_id or alert.kind in ("system_alert", "test")):
            lines.append(alert.text)
        link = ctx.link(alert)
        if link and link not in alert.text:  # a report's text already ends with its link
            lines.append(f"查看：{link}")
    if message.resend:
        lines.append(RESEND_NOTE)
    return "\n".join(lines)


def robot_markdown(message: Message, ctx: Context, *, mention: bool, warning_color: bool = False) -> str:
    """Markdown for DingTalk/WeCom group robots; `mention` appends @mobile (DingTalk needs it in the text)."""
    head = title(message)
    if warning_color and message.urgent:
        head = f'<font color="warning">{head}</font>'
    lines = [f"### {head}" if not warning_color else f"**{head}**", ""]
    if message.digest:
        lines += [f"{i}. {line}" for i, line in enumerate(digest_lines(message, ctx), 1)]
    else:
        alert = message.alerts[0]
        lines += [f"- **{k}**：{v}" for k, v in message_fields(message, ctx)]
        if alert.text and (not alert.incident_id or alert.kind in ("system_alert", "test")):
            lines.append(f"\n{alert.text}")
        link = ctx.link(alert)
        if link:
            lines.append(f"\n[{link_text(alert)}]({link})")
    if message.resend:
        lines.append(f"\n{RESEND_NOTE}")
    if mention and message.mobiles:
        lines.append("\n" + " ".join(f"@{m}" for m in message.mobiles))
    return "\n".join(lines)


def slack_blocks(message: Message, ctx: Context) -> list[dict[str, Any]]:
    """Block Kit: header, fields, and 确认收到 / 查看 buttons per alert."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title(message)[:150]}}]
    for alert in message.alerts[:20]:  # Slack allows 50 blocks; a digest of more links to the queue
        if message.digest:
            line = digest_line(alert, ctx, alert_people(message, alert))
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(line)}})
        else:
            pairs = [{"type": "mrkdwn", "text": f"*{k}*\n{_mrkdwn(v)}"} for k, v in fields(alert, ctx)]
            if alert.text and (not pairs or alert.report is not None):  # a report shows its summary
                blocks.append(_text_section(alert.text))
            if pairs:
                blocks.append({"type": "section", "fields": pairs[:10]})
        actions = _actions(alert, ctx)
        if actions:
            blocks.append({"type": "actions", "block_id": f"alert-{alert.outbox_id}", "elements": actions})
    if len(message.alerts) > 20:
        blocks.append(_text_section(f"另有 {len(message.alerts) - 20} 条，请到值班台查看。"))
    if message.resend:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": RESEND_NOTE}]})
    return blocks


def _actions(alert: Alert, ctx: Context) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = []
    if alert.incident_id and alert.kind not in ("test", "system_alert", "report", "returned", "supervised"):
        value = json.dumps({"incident": alert.incident_id, "rule": alert.rule_id, "outbox": alert.outbox_id})
        elements.append(
            {
                "type": "button",
                "action_id": ACK_ACTION,
                "style": "primary",
                "text": {"type": "plain_text", "text": "确认收到"},
                "value": value,
            }
        )
    link = ctx.link(alert)
    if link:
        elements.append(
            {"type": "button", "action_id": VIEW_ACTION, "text": {"type": "plain_text", "text": "查看"}, "url": link}
        )
    return elements


def _text_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(text) or " "}}


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_EMAIL = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body style="font-family: sans-serif; color: #222">
<h2 style="color: {{ '#b00020' if urgent else '#333' }}">{{ title }}</h2>
{% if digest %}<ol>{% for line in lines %}<li>{{ line }}</li>{% endfor %}</ol>
{% else %}<table cellpadding="4" style="border-collapse: collapse">
{% for k, v in pairs %}<tr><th align="left" style="white-space: nowrap">{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}
</table>{% if text %}<p>{{ text }}</p>{% endif %}
{% if link %}<p><a href="{{ link }}">{{ link_text }}</a></p>{% endif %}{% endif %}
{% if attached %}<p>附件：{{ attached }}</p>{% endif %}{% if not_attached %}<p>{{ not_attached }}</p>{% endif %}
{% if resend %}<p><em>{{ resend }}</em></p>{% endif %}
<p style="color: #888; font-size: small">本邮件由政务舆情回应监测与督办系统自动发送，请勿直接回复。</p>
</body></html>
"""
)


def email_parts(
    message: Message, ctx: Context, attached: Sequence[str] = (), not_attached: str = ""
) -> tuple[str, str, str]:
    """(subject, text body, HTML body); `attached` names the files attached, `not_attached` says
    which could not be and where to get them."""
    alert = message.alerts[0]
    show_text = alert.text if not alert.incident_id or alert.kind in ("system_alert", "test") else ""
    html = _EMAIL.render(
        title=title(message),
        urgent=message.urgent,
        digest=message.digest,
        lines=digest_lines(message, ctx),
        pairs=fields(alert, ctx),
        text=show_text,
        link=ctx.link(alert),
        link_text=link_text(alert),
        attached="、".join(attached),
        not_attached=not_attached,
        resend=RESEND_NOTE if message.resend else "",
    )
    notes = ([f"附件：{'、'.join(attached)}"] if attached else []) + ([not_attached] if not_attached else [])
    text = "\n".join([plain_text(message, ctx), *notes])
    text += "\n\n本邮件由政务舆情回应监测与督办系统自动发送，请勿直接回复。\n"
    return title(message), text, html

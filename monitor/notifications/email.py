"""E-mail over SMTP (aiosmtplib): STARTTLS or implicit TLS, AUTH, HTML + text.

A monthly report (`kind='report'`) arrives with its files attached (named after the report's
Chinese title; RFC 2231 filename*= parameters), as long as they fit in `report_attach_max_mb`
together; a file that does not fit, or is missing, is named in the mail with the link to the
report page instead.

Every message carries a stable Message-ID derived from its delivery id, so a message sent again
after a crash has the same Message-ID as the first copy (mail clients thread or merge them); SMTP
itself cannot refuse a duplicate, so e-mail is at-least-once.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

import aiosmtplib

from monitor.config import Settings
from monitor.domain import ChannelKind
from monitor.notifications import render
from monitor.notifications.model import Alert, DeliveryError, Message, RateLimit, ReportLink, Sent


@dataclass
class Attachments:
    """The report files one mail carries, and what could not be attached (zh-CN, with the link)."""

    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # (file name, content, content type)
    note: str = ""

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.files]


class EmailChannel:
    kind = ChannelKind.EMAIL
    max_bytes = 1_000_000
    rate_limit: RateLimit | None = None

    def __init__(self, settings: Settings, base_url: str) -> None:
        self.settings, self.base_url = settings, base_url
        self.domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "monitor.invalid"

    def cost(self, message: Message) -> int:
        return 1

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.smtp_ca_file:
            context.load_verify_locations(cafile=self.settings.smtp_ca_file)
        return context

    def attachments(self, alert: Alert) -> Attachments:
        """Read the report's files (blocking: call in a thread), largest total `report_attach_max_mb`."""
        out = Attachments()
        report = alert.report
        if report is None or not report.files:
            return out
        budget = int(self.settings.report_attach_max_mb * 1024 * 1024)
        too_big: list[str] = []
        missing: list[str] = []
        for f in report.files:
            path = Path(f.path) if Path(f.path).is_absolute() else Path(self.settings.data_dir) / f.path
            name = attachment_name(report, f.name)
            try:
                size = path.stat().st_size
                if size > budget:
                    too_big.append(name)
                    continue
                out.files.append((name, path.read_bytes(), f.content_type or "application/octet-stream"))
            except OSError:
                missing.append(name)
                continue
            budget -= size
        out.note = _not_attached_note(too_big, missing, self.settings.report_attach_max_mb, render.link_text(alert))
        return out

    def build(self, message: Message, now: datetime, attached: Attachments | None = None) -> EmailMessage:
        attached = attached or Attachments()
        ctx = render.Context(now, self.base_url)
        subject, text, html = render.email_parts(message, ctx, attached.names, attached.note)
        mail = EmailMessage()
        mail["Subject"] = subject
        mail["From"] = self.settings.smtp_from
        mail["To"] = message.destination.address
        mail["Date"] = format_datetime(now)
        mail["Message-ID"] = f"<{message.message_id}@{self.domain}>"
        mail["Auto-Submitted"] = "auto-generated"
        if message.urgent:
            mail["Importance"] = "high"
            mail["X-Priority"] = "1"
        mail.set_content(text)
        mail.add_alternative(html, subtype="html")
        for name, data, content_type in attached.files:
            maintype, _, subtype = content_type.partition(";")[0].strip().partition("/")
            mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return mail

    async def send(self, message: Message, now: datetime) -> Sent:
        s = self.settings
        attached = None
        if not message.digest and message.alerts[0].report is not None:
            attached = await asyncio.to_thread(self.attachments, message.alerts[0])
        try:
            _refused, reply = await aiosmtplib.send(
                self.build(message, now, attached),
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_user or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_security == "ssl",
                start_tls=s.smtp_security == "starttls",
                tls_context=self.tls_context() if s.smtp_security != "none" else None,
                timeout=s.notify_timeout_s,
            )
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP 登录失败（{exc.code}）：请检查 smtp_user / smtp_password", permanent=True, channel_wide=True
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"邮件服务器拒收收件人：{_reasons(exc)}", permanent=True) from None
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            raise DeliveryError(f"SMTP 错误 {exc.code}：{exc.message[:200]}", permanent=permanent) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(
                f"无法连接邮件服务器 {s.smtp_host}:{s.smtp_port}：{type(exc).__name__}: {exc}"
            ) from None
        return Sent(ref=reply[:200], detail={"message_id": f"<{message.message_id}@{self.domain}>"})

    async def find_sent(self, message: Message, since: datetime) -> Sent | None:
        return None  # resent with the same Message-ID

    async def close(self) -> None:
        return None


def _reasons(exc: aiosmtplib.SMTPRecipientsRefused) -> str:
    return "；".join(f"{r.recipient} {r.code} {r.message}" for r in exc.recipients)[:300]


def attachment_name(report: ReportLink, file_name: str) -> str:
    """report-2026-10.xlsx → 明湖市政务舆情回应情况月报（2026年10月）.xlsx (the rest of the name kept)."""
    stem = f"report-{report.month}"
    if not report.title or not file_name.startswith(stem):
        return file_name
    return report.title + file_name[len(stem) :]


def _not_attached_note(too_big: list[str], missing: list[str], cap_mb: float, link_text: str) -> str:
    parts = []
    if too_big:
        parts.append(f"{'、'.join(too_big)} 超过邮件附件上限（{cap_mb:g} MB），未附上")
    if missing:
        parts.append(f"{'、'.join(missing)} 在服务器上未找到，未附上")
    return "；".join(parts) + f"。请点击“{link_text}”在网页中查看或下载。" if parts else ""

"""E-mail over SMTP (aiosmtplib): STARTTLS or implicit TLS, AUTH, HTML + text.

Every message carries a stable Message-ID derived from its delivery id, so a message sent again
after a crash has the same Message-ID as the first copy (mail clients thread or merge them); SMTP
itself cannot refuse a duplicate, so e-mail is at-least-once.
"""

from __future__ import annotations

import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from monitor.config import Settings
from monitor.domain import ChannelKind
from monitor.notifications import render
from monitor.notifications.model import DeliveryError, Message, RateLimit, Sent


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

    def build(self, message: Message, now: datetime) -> EmailMessage:
        subject, text, html = render.email_parts(message, render.Context(now, self.base_url))
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
        return mail

    async def send(self, message: Message, now: datetime) -> Sent:
        s = self.settings
        try:
            _refused, reply = await aiosmtplib.send(
                self.build(message, now),
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

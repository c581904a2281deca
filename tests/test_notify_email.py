"""E-mail against a real SMTP server (aiosmtpd) with STARTTLS or implicit TLS and AUTH; certs from trustme."""

import asyncio
import email
import email.policy
import logging
import ssl

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from .conftest import START
from .notify_support import (
    REPORT_TITLE,
    REPORT_URL,
    add_incident,
    alert_row,
    attempt_rows,
    enqueue,
    make_settings,
    notifier,
    outbox_rows,
    report_files,
    report_row,
)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
PASSWORD = "smtp-Pa55word-never-logged"
LEADER = "jiang_wenbo"  # channels [slack, email]; Slack is not configured here, so e-mail comes first


class Inbox:
    def __init__(self) -> None:
        self.messages = []
        self.raw = []  # the bytes as received

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        over_tls = server.transport.get_extra_info("ssl_object") is not None
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed, over_tls))
        self.raw.append(envelope.content)
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"monitor" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, str(path)


def server_context(authority) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(params=["starttls", "ssl"])
async def smtp(request, ca, unused_tcp_port):
    authority, _ = ca
    inbox = Inbox()
    tls = server_context(authority)
    common = {"hostname": "127.0.0.1", "port": unused_tcp_port, "authenticator": authenticator, "auth_required": True}
    if request.param == "starttls":
        controller = Controller(inbox, tls_context=tls, require_starttls=True, **common)
    else:
        # implicit TLS: aiosmtpd cannot tell the socket is encrypted, so it must not insist on STARTTLS for AUTH
        controller = Controller(inbox, ssl_context=tls, auth_require_tls=False, **common)
    await asyncio.to_thread(controller.start)
    inbox.security, inbox.port = request.param, unused_tcp_port
    yield inbox
    await asyncio.to_thread(controller.stop)


def mail_settings(inbox, ca_file, **kw):
    values = {
        "smtp_host": "127.0.0.1",
        "smtp_port": inbox.port,
        "smtp_security": inbox.security,
        "smtp_user": "monitor",
        "smtp_password": PASSWORD,
        "smtp_from": "明湖舆情督办 <yuqing@minghu.gov.example>",
        "smtp_ca_file": ca_file,
    }
    return make_settings(**{**values, **kw})


async def test_alert_mail_is_html_and_text_over_tls_with_auth(sqlite_db, clock, smtp, ca):
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, alert_row(START, incident, LEADER))
    async with notifier(sqlite_db, clock, mail_settings(smtp, ca[1])) as (n, _):
        assert (await n.run_once()).sent == 1
    [(sender, recipients, mail, over_tls)] = smtp.messages
    assert sender == "yuqing@minghu.gov.example" and recipients == ["jiangwenbo@gov-office.minghu.gov.example"]
    assert over_tls
    [attempt] = await attempt_rows(sqlite_db)
    assert mail["Message-ID"] == f"<{attempt.message_id}@minghu.gov.example>"
    assert mail["Subject"] == "【预警】东港化工园区爆炸" and mail["Importance"] == "high"
    assert mail["To"] == "jiangwenbo@gov-office.minghu.gov.example"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "截止时间：2026-09-24 10:00（北京时间）\n剩余时间：还剩 1小时00分" in text
    assert f"查看：https://yuqing.minghu.gov.example/incidents/{incident}" in text
    assert '<th align="left" style="white-space: nowrap">责任单位</th><td>明湖市应急管理局</td>' in html
    assert f'<a href="https://yuqing.minghu.gov.example/incidents/{incident}">查看事件详情</a>' in html


async def test_wrong_password_is_a_configuration_alarm_and_never_logged(sqlite_db, clock, smtp, ca, caplog):
    caplog.set_level(logging.DEBUG)
    await enqueue(sqlite_db, alert_row(START, None, LEADER))
    wrong = "wrong-Pa55word-also-secret"
    async with notifier(sqlite_db, clock, mail_settings(smtp, ca[1], smtp_password=wrong)) as (n, _):
        report = await n.run_once()
    assert "SMTP 登录失败" in report.outcomes[1]
    rows = await outbox_rows(sqlite_db)
    assert rows[0].status == "failed"  # e-mail was the last usable channel of this person
    keys = sorted(r.idempotency_key.split(":")[1] for r in rows[1:])
    assert keys == ["channel", "undeliverable"]  # the duty officers hear about both
    stored = "\n".join(str(tuple(r)) for r in rows)
    assert wrong not in stored and wrong not in caplog.text and PASSWORD not in caplog.text


async def test_an_untrusted_certificate_is_refused_not_ignored(sqlite_db, clock, smtp):
    await enqueue(sqlite_db, alert_row(START, None, LEADER))
    async with notifier(sqlite_db, clock, mail_settings(smtp, "")) as (n, _):
        report = await n.run_once()
    assert "CERTIFICATE_VERIFY_FAILED" in report.outcomes[1] or "certificate" in report.outcomes[1].lower()
    [row] = await outbox_rows(sqlite_db)
    assert row.status == "pending" and smtp.messages == []  # retried later, never sent in clear


async def test_a_mail_resent_after_a_crash_keeps_its_message_id(sqlite_db, clock, smtp, ca):
    settings = mail_settings(smtp, ca[1])
    await enqueue(sqlite_db, alert_row(START, None, LEADER))
    async with notifier(sqlite_db, clock, settings, worker="dies") as (n, _):
        await n.send(await n.prepare(await n.claim()))  # delivered, then the worker dies before recording
    clock.advance(settings.notify_lease_s + 1)
    async with notifier(sqlite_db, clock, settings, worker="heir") as (n, _):
        assert (await n.run_once()).sent == 1
    first, second = (m[2] for m in smtp.messages)
    assert first["Message-ID"] == second["Message-ID"]  # SMTP cannot refuse it; clients can fold it
    assert "补发" in second.get_body(("plain",)).get_content()


async def test_a_monthly_report_arrives_with_its_files_named_in_chinese(sqlite_db, clock, smtp, ca, tmp_path):
    files = report_files(tmp_path, {"html": 30_000, "xlsx": 200_000})
    settings = mail_settings(smtp, ca[1], data_dir=str(tmp_path))
    calm = alert_row(START, None, LEADER, urgent=False, kind="deadline_warning")
    await enqueue(sqlite_db, report_row(START, LEADER, files), calm)
    async with notifier(sqlite_db, clock, settings) as (n, _):
        assert (await n.run_once()).sent == 2  # the report is never folded into a digest with other alerts
    [(mail, raw)] = [(m[2], r) for m, r in zip(smtp.messages, smtp.raw, strict=True) if "【月报】" in m[2]["Subject"]]
    parts = list(mail.iter_attachments())
    assert [p.get_filename() for p in parts] == [f"{REPORT_TITLE}.html", f"{REPORT_TITLE}.xlsx"]
    assert [p.get_content_type() for p in parts] == [
        "text/html", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]  # fmt: skip
    folder = tmp_path / "reports" / "2026-10"
    assert parts[1].get_content() == (folder / "report-2026-10.xlsx").read_bytes()
    # RFC 2231: the name as percent-encoded UTF-8, in numbered continuations (明湖…); no raw 8-bit headers
    assert b"filename*0*=utf-8''%E6%98%8E%E6%B9%96" in raw and raw.isascii()
    text = mail.get_body(("plain",)).get_content()
    assert f"查看：{REPORT_URL}" in text and text.count(REPORT_URL) == 1
    assert f"附件：{REPORT_TITLE}.html、{REPORT_TITLE}.xlsx" in text
    assert f'<a href="{REPORT_URL}">查看月报</a>' in mail.get_body(("html",)).get_content()


async def test_report_files_over_the_size_cap_are_linked_not_attached(sqlite_db, clock, smtp, ca, tmp_path):
    files = report_files(tmp_path, {"html": 30_000, "xlsx": 200_000})
    files.append({"name": "report-2026-10.json", "path": "reports/2026-10/gone.json", "format": "json",
                  "content_type": "application/json"})  # fmt: skip
    settings = mail_settings(smtp, ca[1], data_dir=str(tmp_path), report_attach_max_mb=0.1)
    await enqueue(sqlite_db, report_row(START, LEADER, files))
    async with notifier(sqlite_db, clock, settings) as (n, _):
        assert (await n.run_once()).sent == 1
    [(_, _, mail, _)] = smtp.messages
    assert [p.get_filename() for p in mail.iter_attachments()] == [f"{REPORT_TITLE}.html"]
    text = mail.get_body(("plain",)).get_content()
    assert f"{REPORT_TITLE}.xlsx 超过邮件附件上限（0.1 MB），未附上" in text
    assert f"{REPORT_TITLE}.json 在服务器上未找到，未附上" in text and "请点击“查看月报”在网页中查看或下载" in text
    assert REPORT_URL in text


async def test_e_mail_is_the_fallback_when_slack_refuses(sqlite_db, clock, smtp, ca):
    """蒋文博's channels are [slack, email]: Slack says user_disabled (permanent), the alert goes by mail."""
    from .notify_fakes import FakeSlack, start

    slack = FakeSlack()
    server = await start(slack.app)
    try:
        slack.fail_next("chat.postMessage", 200, {"ok": False, "error": "user_disabled"})
        settings = mail_settings(
            smtp, ca[1], slack_bot_token=FakeSlack.TOKEN, slack_api_url=str(server.make_url("/api/"))
        )
        incident = await add_incident(sqlite_db, START)
        await enqueue(sqlite_db, alert_row(START, incident, LEADER))
        async with notifier(sqlite_db, clock, settings) as (n, _):
            first = await n.run_once()
            assert first.sent == 0 and "user_disabled" in first.outcomes[1]
            assert (await n.run_once()).sent == 1  # the next usable channel, at once
    finally:
        await server.close()
    assert [r.path for r in slack.requests] == ["chat.postMessage"]
    [(_, recipients, mail, _)] = smtp.messages
    assert recipients == ["jiangwenbo@gov-office.minghu.gov.example"] and mail["Subject"] == "【预警】东港化工园区爆炸"
    [row] = await outbox_rows(sqlite_db)
    assert (row.status, row.channel) == ("sent", "email")
    assert [a.outcome for a in await attempt_rows(sqlite_db)] == ["failed", "sent"]

"""The monthly report end to end: the scheduled job on the 1st generates last month's report and
queues it; the notifier mails it (over a real SMTP server with STARTTLS/SSL and AUTH) with the
very files the job wrote attached, and the figures in the mail are those of the report."""

import dataclasses
import json

import pytest

from monitor.clock import FakeClock
from monitor.reports.job import run_scheduled
from tests.notify_support import ORG, notifier, outbox_rows
from tests.report_support import CUTOFF, seed
from tests.test_notify_email import ca, mail_settings, smtp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
TITLE = "明湖市政务舆情回应情况月报（2026年10月）"


async def test_the_report_generated_on_the_first_reaches_its_recipient_by_mail(sqlite_db, smtp, ca, tmp_path):  # noqa: F811
    await seed(sqlite_db)
    clock = FakeClock(CUTOFF)  # 08:00 on 1 November, Beijing time: the scheduled run
    settings = dataclasses.replace(
        mail_settings(smtp, ca[1], data_dir=str(tmp_path)),
        report_recipients="jiang_wenbo:email",  # 蒋文博 (Slack is not configured here)
        report_formats="html,xlsx,json",
    )
    result = await run_scheduled(sqlite_db, settings, ORG, clock.now())
    assert result.run.period.key == "2026-10" and result.queued == ["jiang_wenbo"]
    async with notifier(sqlite_db, clock, settings) as (n, _):
        assert (await n.run_once()).sent == 1
    [(_, recipients, mail, over_tls)] = smtp.messages
    assert recipients == ["jiangwenbo@gov-office.minghu.gov.example"] and over_tls
    assert mail["Subject"] == f"【月报】{TITLE}"
    parts = {p.get_filename(): p.get_content() for p in mail.iter_attachments()}
    assert list(parts) == [f"{TITLE}.html", f"{TITLE}.xlsx", f"{TITLE}.json"]
    folder = tmp_path / "reports" / "2026-10"
    assert parts[f"{TITLE}.xlsx"] == (folder / "report-2026-10.xlsx").read_bytes()  # the job's own files
    contract = json.loads(parts[f"{TITLE}.json"])
    assert (contract["month"], contract["incidents"], contract["response_rate"]) == ("2026-10", 5, 0.5)
    text = mail.get_body(("plain",)).get_content()
    assert "回应率 50.0%" in text and "https://yuqing.minghu.gov.example/reports/2026-10" in text
    [row] = [r for r in await outbox_rows(sqlite_db) if r.kind == "report"]
    assert (row.status, row.idempotency_key) == ("sent", "report:2026-10:jiang_wenbo")
    again = await run_scheduled(sqlite_db, settings, ORG, clock.now())  # a second run queues nobody
    assert again.queued == [] and again.already == ["jiang_wenbo"]

"""End to end on real data: 2,816 留言 with real reply times → import → monthly report.

The file lives outside the repository (MONITOR_SHARED_DATA, default ../shared/data) and is never
copied into it; the test is skipped, saying why, when it is absent. Expected figures are worked
out here from the CSV independently of the importer.
"""

import csv
import os
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.clock import SHANGHAI
from monitor.ledger.importer import import_ledger
from monitor.ledger.mapping import load_mapping
from monitor.ledger.plan import ImportRules
from monitor.reports.build import Period
from monitor.reports.render.files import write_report
from monitor.reports.service import generate, names_from_org
from tests.conftest import REPO
from tests.engine_support import ORG, POLICY

pytestmark = pytest.mark.corpora
SHARED = Path(os.environ.get("MONITOR_SHARED_DATA", REPO.parent / "shared" / "data"))
MESSAGES = SHARED / "responses" / "messages_with_replies.csv"
NOW = datetime(2026, 11, 1, 8, tzinfo=SHANGHAI)
MONTH = Period(2018, 11)
RULES = ImportRules(POLICY.playbook, POLICY.calendar, ORG)


def parse(text: str, date_only_end: bool) -> datetime:
    text = text.strip().replace("-", "/")
    if " " not in text:
        day = datetime.strptime(text, "%Y/%m/%d")
        return (day + timedelta(hours=23, minutes=59, seconds=59) if date_only_end else day).replace(tzinfo=SHANGHAI)
    return datetime.strptime(text, "%Y/%m/%d %H:%M:%S").replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def messages():
    if not MESSAGES.is_file():
        pytest.skip(f"{MESSAGES} is absent (set MONITOR_SHARED_DATA to the shared data directory)")
    with MESSAGES.open(encoding="utf-8") as handle:
        return [(parse(r["time"], False), parse(r["reply_time"], True)) for r in csv.DictReader(handle)]


async def test_import_then_report_on_real_messages(sqlite_db, messages, tmp_path):
    mapping = load_mapping(REPO / "playbooks/import/message-board.yaml")
    result = await import_ledger(sqlite_db, MESSAGES, mapping, NOW, RULES)
    assert (result.rows, result.imported, result.errors) == (2816, 2816, [])
    assert result.date_only == 1  # one reply is dated without a time
    again = await import_ledger(sqlite_db, MESSAGES, mapping, NOW, RULES)
    assert (again.imported, again.already) == (0, 2816)

    report = await generate(sqlite_db, MONTH, NOW, names_from_org(None))
    c = report.contract
    in_month = [(t, r) for t, r in messages if MONTH.contains(t)]
    due = [(t, r) for t, r in messages if MONTH.contains(t + timedelta(hours=48))]
    on_time = sum(1 for t, r in due if r <= t + timedelta(hours=48))
    hours = [max(0.0, (r - t).total_seconds() / 3600) for t, r in in_month]
    assert c["incidents"] == len(in_month) == c["responded"] > 50
    assert c["response_rate"] == 1.0
    assert c["rules"]["GB61-RESPOND-48H"]["due"] == len(due)
    assert c["rules"]["GB61-RESPOND-48H"]["met_on_time"] == on_time
    assert c["rules"]["GB61-RESPOND-48H"]["met_late"] == len(due) - on_time
    assert c["time_to_first_response_h"]["median"] == round(statistics.median(hours), 2)
    assert c["time_to_first_response_h"]["p90"] == round(statistics.quantiles(hours, n=10, method="inclusive")[8], 2)
    assert c["previous"]["incidents"] == sum(1 for t, _ in messages if MONTH.previous().contains(t))

    files = write_report(report, tmp_path, ["html", "xlsx"])
    assert all(p.stat().st_size > 10_000 for p in files)
    assert "超期与逾期清单（含督办记录）" in files[0].read_text(encoding="utf-8")

"""The monthly job and the `monitor report` command."""

import dataclasses
import json

import pytest
from sqlalchemy import select

from monitor.cli import main
from monitor.config import Settings
from monitor.policy import load_org
from monitor.reports.job import run_scheduled
from monitor.storage.schema import outbox
from tests.conftest import REPO
from tests.report_support import CUTOFF, seed, sh

ORG = load_org(REPO / "playbooks/org/demo-city.yaml")


async def test_the_monthly_job_writes_files_and_queues_each_recipient_once(db, tmp_path):
    await seed(db)
    settings = dataclasses.replace(
        Settings(),
        data_dir=str(tmp_path),
        report_recipients="sun_lihua:email, qian_zhiqiang",
        public_url="https://yq.example",
    )
    first = await run_scheduled(db, settings, ORG, sh(11, 3, 10))  # two days late: same report
    assert first.run.period.key == "2026-10" and first.run.cutoff == CUTOFF
    assert [p.name for p in first.files] == ["report-2026-10.html", "report-2026-10.xlsx"]
    assert all(p.parent == tmp_path / "reports" / "2026-10" for p in first.files)
    assert first.queued == ["sun_lihua", "qian_zhiqiang"] and first.already == []
    html = first.files[0].read_bytes()
    again = await run_scheduled(db, settings, ORG, sh(11, 5, 9))
    assert again.queued == [] and sorted(again.already) == ["qian_zhiqiang", "sun_lihua"]
    assert again.files[0].read_bytes() == html  # same cut-off, same bytes
    async with db.read() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.kind == "report").order_by(outbox.c.id))).all()
    assert [r.idempotency_key for r in rows] == ["report:2026-10:sun_lihua", "report:2026-10:qian_zhiqiang"]
    assert [(r.kind, r.channel, r.urgent, r.status) for r in rows] == [
        ("report", "email", False, "pending"), ("report", None, False, "pending")
    ]  # fmt: skip
    payload = rows[0].payload
    assert payload["template"] == "report" and payload["person"] == {"id": "sun_lihua", "name": "孙丽华"}
    assert payload["report"]["url"] == "https://yq.example/reports/2026-10"
    assert payload["report"]["files"][1] == {
        "name": "report-2026-10.xlsx", "path": "reports/2026-10/report-2026-10.xlsx", "format": "xlsx",
        "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }  # fmt: skip
    assert (
        payload["text"].startswith("【月报】明湖市政务舆情回应情况月报（2026年10月）已生成")
        and "回应率 50.0%" in payload["text"]
    )


async def test_unknown_recipients_are_named(sqlite_db, tmp_path):
    settings = dataclasses.replace(Settings(), data_dir=str(tmp_path), report_recipients="nobody_here")
    with pytest.raises(ValueError, match="nobody_here"):
        await run_scheduled(sqlite_db, settings, ORG, CUTOFF)


@pytest.fixture
async def seeded_url(sqlite_db, tmp_path):
    await seed(sqlite_db)
    return str(sqlite_db.engine.url)


def test_monitor_report_writes_every_format(seeded_url, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--database-url", seeded_url, "report", "--month", "2026-10", "--format", "html,csv,xlsx,json",
                 "--out", str(out), "--now", "2026-11-01T08:00"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out.split()
    assert printed[0].endswith("report-2026-10.html") and len(printed) == 3 + 26  # html, xlsx, json + one CSV per table
    contract = json.loads((out / "report-2026-10.json").read_text(encoding="utf-8"))
    assert contract["incidents"] == 5 and contract["cutoff"] == "2026-11-01T08:00:00+08:00"
    code = main(["--database-url", seeded_url, "report", "--month", "2026-10", "--unit", "housing", "--format", "json",
                 "--out", str(out), "--now", "2026-11-01T08:00"])  # fmt: skip
    unit = json.loads((out / "report-2026-10-housing.json").read_text(encoding="utf-8"))
    assert code == 0 and unit["incidents"] == 2 and unit["unit"] == "housing"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "YYYY-MM"),
        (["--month", "2027-01"], "has not started"),
        (["--format", "pdf"], "html, csv, xlsx, json"),
        (["--unit", "住房和城乡建设局"], "use the unit id 'housing'"),
        (["--unit", "no_such_unit"], "not a unit id"),
        (["--now", "yesterday"], "ISO 8601"),
    ],
)
def test_monitor_report_errors_say_what_to_do(seeded_url, tmp_path, capsys, args, message):
    base = ["--database-url", seeded_url, "report", "--out", str(tmp_path), "--now", "2026-11-01T08:00"]
    assert main(base + args) == 2
    assert message in capsys.readouterr().err


def test_monitor_report_scheduled(seeded_url, tmp_path, capsys):
    args = ["--database-url", seeded_url, "--set", f"data_dir={tmp_path}", "--set", "report_recipients=sun_lihua",
            "report", "--scheduled", "--now", "2026-11-02T09:00"]  # fmt: skip
    assert main(args) == 0
    assert "queued for: sun_lihua" in capsys.readouterr().out
    assert main(args) == 0
    assert "queued for: nobody new; already queued: sun_lihua" in capsys.readouterr().out

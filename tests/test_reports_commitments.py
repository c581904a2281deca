"""十二、承诺兑现 of the monthly report: 承诺兑现率 from commitments the engine recorded, as at the
cut-off, in the JSON contract, HTML, CSV and XLSX; commitments stay out of 回应及时率. SQLite and PostgreSQL."""

import csv
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from monitor.domain import ResponseKind
from monitor.domain import commands as c
from monitor.domain.commitments import Commitment
from monitor.engine.commands import execute
from monitor.policy import load_org
from monitor.reports.build import Period
from monitor.reports.render.files import write_report
from monitor.reports.service import generate, names_from_org
from tests.conftest import REPO
from tests.report_support import sh

from .engine_support import Svc, new_incident

OCT = Period(2026, 10)
CUTOFF = sh(11, 1, 8)
NAMES = names_from_org(load_org(Path(REPO / "playbooks/org/demo-city.yaml")))


async def _seed(db, clock) -> int:
    svc = Svc(db, clock)
    clock.set(sh(10, 2, 9))
    iid = await new_incident(svc, None, "L3", title="老城区道路塌陷", owner_unit="housing")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    promised = (
        Commitment("完成塌陷路段修复", date(2026, 10, 5)),
        Commitment("公布事故原因", date(2026, 10, 8)),
        Commitment("回访受影响商户", date(2026, 10, 20)),
        Commitment("完成全区排查", date(2026, 11, 15)),  # due next month
    )
    await execute(svc, c.RecordResponse(incident_id=iid, actor="zhao_lei", at=clock.now(), approved_by="liu_fang",
                                        kind=ResponseKind.AUTHORITATIVE_RELEASE, url="https://gov.example/1",
                                        commitments=promised))  # fmt: skip
    for number, when in ((1, sh(10, 4, 16)), (2, sh(10, 10, 11))):
        clock.set(when)
        await execute(svc, c.FulfilCommitment(incident_id=iid, actor="zhao_lei", at=clock.now(), number=number,
                                              disclosed_url=f"https://gov.example/done/{number}"))  # fmt: skip
    clock.set(sh(11, 1, 9))  # after the cut-off: not counted at it
    late = c.FulfilCommitment(incident_id=iid, actor="zhao_lei", at=clock.now(), number=3,
                              fulfilled_at=sh(10, 19, 10), disclosed_url="https://gov.example/done/3")  # fmt: skip
    await execute(svc, late)
    return iid


async def test_commitment_rate_is_computed_at_the_cutoff_in_every_format(db, clock, tmp_path):
    iid = await _seed(db, clock)
    report = await generate(db, OCT, CUTOFF, NAMES)
    assert report.contract["commitments"] == {
        "due": 3, "fulfilled": 2, "on_time": 1, "rate": 0.6667, "on_time_rate": 0.3333, "not_yet_due": 0
    }  # fmt: skip
    assert "PRJ-COMMITMENT" not in report.contract["rules"]  # not a response deadline: not in 回应及时率
    section = next(s for s in report.sections if s.key == "commitments")
    assert "承诺兑现率 66.7%，按期兑现率 33.3%" in section.paragraphs[0]
    listing = next(t for t in report.tables() if t.key == "commitments")
    assert [(r[0], r[3], r[8]) for r in listing.rows] == [
        (iid, 1, "按期兑现"), (iid, 2, "逾期兑现"), (iid, 3, "未兑现（已超期）")
    ]  # fmt: skip
    # the fulfilment recorded after the cut-off counts at a later cut-off
    later = await generate(db, OCT, sh(11, 2), NAMES)
    assert later.contract["commitments"]["fulfilled"] == 3

    paths = write_report(report, tmp_path, ["html", "csv", "xlsx"])
    html = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    assert "十二、承诺兑现" in html and "回访受影响商户" in html and "66.7%" in html
    assert "不统计承诺兑现率" not in html
    with (tmp_path / "report-2026-10-commitments_summary.csv").open(encoding="utf-8-sig") as handle:
        [summary] = list(csv.DictReader(handle))
    assert (summary["到期承诺"], summary["已兑现并公开"], summary["其中按期兑现"]) == ("3", "2", "1")
    assert summary["承诺兑现率"].startswith("66.7")
    workbook = load_workbook(next(p for p in paths if p.suffix == ".xlsx"))
    sheet = workbook["承诺事项清单"]
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert any("公布事故原因" in str(v) for row in values for v in row)
    assert any(isinstance(v, datetime) for v in values[1])  # times are real Excel times


async def test_a_month_without_commitments_says_so(db, clock):
    clock.set(sh(10, 2, 9))
    report = await generate(db, OCT, CUTOFF, NAMES)
    assert report.contract["commitments"]["rate"] is None
    section = next(s for s in report.sections if s.key == "commitments")
    assert section.paragraphs[0].startswith("本月没有到期的承诺事项")

"""效果评估 and 归档 in the monthly report (HTML, CSV, XLSX, JSON) and the exported 舆情回应台账, read
from the database as the engine writes them (SQLite and PostgreSQL). October 2026 (tests/report_support):
A and B are the month's responded incidents, so both should be evaluated; only B is, by the cut-off."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from monitor.domain import EventKind, IncidentEvent
from monitor.domain.evaluation import Evaluation, Satisfaction, SubsideRule
from monitor.policy import load_org
from monitor.reports.build import Period
from monitor.reports.build.labels import drill_label
from monitor.reports.ledger_export import DateRange, export_ledger
from monitor.reports.render.files import write_report
from monitor.reports.service import generate, names_from_org
from monitor.storage.repo.incidents import append_events
from tests.conftest import REPO
from tests.report_support import CUTOFF, seed, sh

OCT = Period(2026, 10)
NAMES = names_from_org(load_org(REPO / "playbooks/org/demo-city.yaml"))


def _evaluation(subsided, satisfaction, before=None, after=None, notes="") -> dict:
    return Evaluation(
        subsided_at=subsided,
        satisfaction=satisfaction,
        negative_before=before,
        negative_after=after,
        notes=notes,
        peak_at=sh(10, 10),
        peak_count=30,
        suggested_subsided_at=sh(10, 12),
        basis="按关联稿件的发布时间逐日统计",
    ).to_payload()


async def _evaluate(db, ids) -> None:
    """B: evaluated twice before the cut-off (the second corrects the first) and archived; A: only after it."""
    e = EventKind.EVALUATION_RECORDED
    early = CUTOFF - timedelta(days=3)
    async with db.write() as conn:
        first = IncidentEvent(ids["B"], e, sh(10, 20), "li_ming", _evaluation(sh(10, 13), Satisfaction.DISSATISFIED))
        await append_events(conn, [first], early)
        await append_events(conn, [
            IncidentEvent(ids["B"], e, sh(10, 25), "chen_jing",
                          _evaluation(sh(10, 12), Satisfaction.BASICALLY_SATISFIED, 60, 15, "回访 20 户")),
            IncidentEvent(ids["B"], EventKind.ARCHIVED, sh(10, 30, 9), "zhu_min", {"reason": "月度归档"}),
        ], early + timedelta(hours=1))  # fmt: skip
        await append_events(conn, [IncidentEvent(ids["A"], e, sh(11, 2), "li_ming",
                                                 _evaluation(sh(10, 6), Satisfaction.SATISFIED))],
                            CUTOFF + timedelta(days=1))  # fmt: skip


def table(report, key):
    t = next(t for t in report.tables() if t.key == key)
    return [dict(zip([c.key for c in t.columns], row, strict=True)) for row in t.rows]


async def test_the_monthly_report_measures_subsiding_and_lists_who_lacks_an_evaluation(db, tmp_path):
    seeded = await seed(db)
    ids = seeded.ids
    await _evaluate(db, ids)
    report = await generate(db, OCT, CUTOFF, NAMES, drill=True, subside=SubsideRule(percent=15, window_h=36))
    ev = report.contract["evaluation"]
    assert (ev["due"], ev["evaluated"], ev["not_evaluated"], ev["evaluation_rate"]) == (2, 1, 1, 0.5)
    assert ev["subsiding_h"] == {"n": 1, "median": 48.0, "p90": 48.0}  # peak day 10-10 00:00 → 10-12 00:00
    assert ev["subsided_after_response_h"]["median"] == 34.5  # B's first response 10-10 13:30
    assert ev["satisfaction"]["basically_satisfied"] == 1 and ev["satisfaction"]["dissatisfied"] == 0
    assert ev["subside_threshold"] == {"percent": 15, "window_h": 36}
    assert ev["satisfied_rate"] == 1.0 and ev["negative_conversion"] == {"n": 1, "mean": 0.75}

    rows = table(report, "evaluations")
    assert [r["incident_id"] for r in rows] == [ids["A"], ids["B"]]  # the one still to evaluate first
    assert rows[0]["satisfaction"] == "未评估" and rows[0]["subsided_at"] is None  # A's came after the cut-off
    assert (rows[1]["subsided_at"], rows[1]["subsiding_h"], rows[1]["after_response_h"]) == (sh(10, 12), 48.0, 34.5)
    assert (rows[1]["satisfaction"], rows[1]["negative_before"], rows[1]["notes"]) == ("基本满意", 60, "回访 20 户")
    assert report.drilldown["evaluation:missing"] == (ids["A"],)  # every count links to its incidents
    assert report.drilldown["evaluation:due"] == (ids["A"], ids["B"])
    assert drill_label("evaluation:missing", NAMES) == "未做效果评估的舆情"
    section = next(s for s in report.sections if s.key == "evaluation")
    assert "已评估 1 起，未评估 1 起" in section.paragraphs[0]
    [defined] = [d for d in report.definitions if d.startswith("效果评估：")]
    assert "平息标准：每小时新增稿件连续 36 小时均低于高峰小时新增量的 15%" in defined  # the configured threshold
    assert "subside_percent = 15、subside_window_h = 36" in defined
    [b_timeline] = [t for s in report.sections for t in s.timelines if t.incident_id == ids["B"]]  # 重点舆情
    whats = [what for _, what, _ in b_timeline.entries]
    assert "效果评估：评估意见：回访 20 户" in whats and "归档：归档说明：月度归档" in whats

    html, *_ = write_report(report, tmp_path, ["html"])
    page = html.read_text(encoding="utf-8")
    assert "十三、效果评估" in page and "未评估" in page and "回访 20 户" in page
    assert "<h2>十四、统计口径与数据说明</h2>" in page and "十三、统计口径" not in page  # after the last section
    assert "连续 36 小时均低于高峰小时新增量的 15%" in page
    csv_paths = write_report(report, tmp_path, ["csv"])
    [listing] = [p for p in csv_paths if p.name.endswith("-evaluations.csv")]
    with listing.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["满意度"] for line in lines] == ["未评估", "基本满意"]
    assert lines[1]["平息时长（小时）"] == "48.0"
    [xlsx] = write_report(report, tmp_path, ["xlsx"])
    sheets = load_workbook(xlsx).sheetnames
    assert "效果评估清单" in sheets and "效果评估概况" in sheets


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_the_ledger_carries_the_evaluation_and_the_archiving(db, tmp_path, fmt):
    seeded = await seed(db)
    ids = seeded.ids
    await _evaluate(db, ids)
    path = tmp_path / f"l.{fmt}"
    await export_ledger(db, DateRange.parse("2026-10-01", "2026-10-31"), CUTOFF, NAMES, fmt, path)
    rows = _read(path, fmt)
    a, b = rows[str(ids["A"])], rows[str(ids["B"])]
    assert b["满意度"] == "基本满意" and b["评估意见"] == "回访 20 户" and b["归档人"] == "朱敏"
    assert str(b["回应前负面占比（%）"]) == "60" and str(b["回应后负面占比（%）"]) == "15"
    assert str(b["平息时长（小时）"]) in ("48.0", "48")
    assert "2026-10-12 00:00" in str(b["平息时间（北京时间）"]).replace("T", " ")
    assert "2026-10-30 09:00" in str(b["归档时间（北京时间）"]).replace("T", " ")
    assert a["满意度"] == "未评估" and not a["归档时间（北京时间）"]  # A's evaluation came after the cut-off


def _read(path: Path, fmt: str) -> dict[str, dict[str, object]]:
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return {r["编号"]: dict(r) for r in csv.DictReader(handle)}
    ws = load_workbook(path)["舆情回应台账"]
    header, *rows = list(ws.iter_rows(values_only=True))
    return {str(r[0]): dict(zip(header, r, strict=True)) for r in rows}

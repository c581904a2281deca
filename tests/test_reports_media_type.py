"""The monthly report's breakdown by 媒体类型: incidents counted by their first item's media type."""

from __future__ import annotations

import csv
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import insert

from monitor.domain import Incident, IncidentStatus, MediaType
from monitor.domain.reporting import IncidentFacts
from monitor.reports.build import Details, MonthAccumulator, Names, Period, build_report
from monitor.reports.build.labels import drill_label
from monitor.reports.render.files import write_report
from monitor.reports.service import generate
from monitor.storage.repo.incidents import create_incidents
from monitor.storage.repo.reports import stream_incidents
from monitor.storage.schema import incident_items, items
from tests.report_support import CUTOFF, sh

from .test_reports_render import Tables


def facts(i: int, media_type: str | None, *, responded: bool = False) -> IncidentFacts:
    at = sh(10, i, 9)
    answered = at + timedelta(hours=2) if responded else None
    return IncidentFacts(i, f"事件{i}", at, "handling", None, "L3", "livelihood", "housing", "chengdong", True, 1,
                         answered, int(responded), media_type=media_type)  # fmt: skip


def test_the_breakdown_counts_incidents_by_first_media_type_with_their_response_figures():
    acc = MonthAccumulator(Period(2026, 10), CUTOFF, drill=True)
    acc.add_incidents([facts(1, "weibo", responded=True), facts(2, "weibo"), facts(3, "print"), facts(4, None),
                       facts(5, "weibo", responded=True)])  # fmt: skip
    report = build_report(acc, acc.summary(), Details(), Names())
    [table] = [t for t in report.tables() if t.key == "by_media_type"]
    assert (table.title, table.columns[0].header) == ("按媒体类型", "媒体类型")
    rows = [(r[0], r[1], r[2], r[3], r[4]) for r in table.rows]  # name, incidents, share, requiring, responded
    assert rows == [("微博", 3, 0.6, 3, 2), ("未记录", 1, 0.2, 1, 0), ("纸媒", 1, 0.2, 1, 0)]
    assert report.drilldown[table.drill[0][1]] == (1, 2, 5)
    assert drill_label(table.drill[0][1], Names()) == "舆情 · 媒体类型：微博"


async def test_the_first_media_type_is_the_earliest_published_item_known_at_the_cut_off(db, tmp_path):
    at = sh(10, 8, 9)
    async with db.write() as conn:
        first, late, imported, bare = await create_incidents(conn, [
            Incident(title="北湖水质异常", detected_at=at), Incident(title="后来才有纸媒", detected_at=at),
            Incident(title="留言", detected_at=at, status=IncidentStatus.CLOSED, media_type=MediaType.MAILBOX),
            Incident(title="无稿件", detected_at=at),
        ], CUTOFF - timedelta(hours=1))  # fmt: skip
        rows = [  # (incident, published, media type, attached)
            (first, sh(10, 8, 7), "weibo", at), (first, sh(10, 8, 6), "print", at), (first, None, "forum", at),
            (late, sh(10, 8, 5), "print", CUTOFF + timedelta(hours=1)), (late, sh(10, 8, 8), "wechat", at),
        ]  # fmt: skip
        for n, (_, published, media_type, _) in enumerate(rows):
            await conn.execute(insert(items).values(
                id=100 + n, dedup_key=f"k{n}", url=f"https://a.example/{n}", title="t", text="", fetched_at=at,
                published_at=published, created_at=at, media_type=media_type))  # fmt: skip
        await conn.execute(insert(incident_items), [
            {"incident_id": incident, "item_id": 100 + n, "attached_at": attached}
            for n, (incident, _, _, attached) in enumerate(rows)
        ])  # fmt: skip
    async with db.read() as conn:
        found = {f.id: f.media_type async for batch in stream_incidents(conn, sh(10, 1), sh(11, 1), CUTOFF)
                 for f in batch}  # fmt: skip
    assert found == {first: "print", late: "wechat", imported: "mailbox", bare: None}

    report = await generate(db, Period(2026, 10), CUTOFF, Names())
    write_report(report, tmp_path, ["html", "csv", "xlsx"])
    expected = [["信箱", "1"], ["微信", "1"], ["未记录", "1"], ["纸媒", "1"]]
    with (tmp_path / "report-2026-10-by_media_type.csv").open(encoding="utf-8-sig", newline="") as handle:
        from_csv = list(csv.reader(handle))
    assert from_csv[0][:2] == ["媒体类型", "舆情数"] and [r[:2] for r in from_csv[1:]] == expected
    sheet = load_workbook(tmp_path / "report-2026-10.xlsx")["按媒体类型"]
    assert [[str(c) for c in r[:2]] for r in sheet.iter_rows(min_row=2, values_only=True)] == expected
    parser = Tables()
    parser.feed((tmp_path / "report-2026-10.html").read_text(encoding="utf-8"))
    assert [r[:2] for r in parser.tables["by_media_type"][1:]] == expected
    assert "按媒体类型" in (tmp_path / "report-2026-10.html").read_text(encoding="utf-8")

"""The 舆情回应台账 export (`monitor export-ledger`): one row per incident detected in a range of days,
the DOMAIN.md §4.4 fields the data holds, as CSV (UTF-8 with BOM, formula-safe) and XLSX (real
Beijing times, frozen header, a 说明 sheet), streamed in batches. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, update

import monitor.reports.ledger_export as ledger_export
from monitor.cli import main
from monitor.cli.ledger import import_rules
from monitor.config import Settings
from monitor.domain import (
    ClockType,
    EventKind,
    EventLevel,
    EventType,
    Incident,
    IncidentEvent,
    IncidentStatus,
    MediaTier,
    MediaType,
    Obligation,
    ObligationStatus,
    OpinionLevel,
)
from monitor.ledger.importer import import_ledger
from monitor.ledger.mapping import load_mapping
from monitor.policy import load_org
from monitor.reports.ledger_export import DateRange, LedgerRangeError, export_ledger
from monitor.reports.ledger_export.columns import ASSIGNMENT, assignment_cells, ledger_columns, ledger_row, rule_order
from monitor.reports.service import names_from_org
from monitor.storage.repo import ledger_export as repo
from monitor.storage.repo.incidents import append_events, create_incidents, get_incident, list_events, list_incidents
from monitor.storage.schema import incident_items, incidents, items, obligations, sources
from tests.conftest import REPO
from tests.report_support import CUTOFF, seed, sh

ORG = load_org(REPO / "playbooks/org/demo-city.yaml")
NAMES = names_from_org(ORG, {"YJB2015-PHONE-30MIN": "30分钟内电话报告"})
OCTOBER = DateRange.parse("2026-10-01", "2026-10-31")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_sheet(path: Path, sheet: str = "舆情回应台账") -> tuple[list[str], list[dict[str, object]]]:
    ws = load_workbook(path)[sheet]
    header, *rows = list(ws.iter_rows(values_only=True))
    return [str(h) for h in header], [dict(zip(header, row, strict=True)) for row in rows]


async def test_one_row_per_incident_detected_in_the_range_with_its_fields(db, tmp_path):
    seeded = await seed(db)
    ids = seeded.ids
    result = await export_ledger(db, OCTOBER, CUTOFF, NAMES, "csv", tmp_path / "l.csv")
    assert (tmp_path / "l.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows reads UTF-8
    rows = {int(r["编号"]): r for r in read_csv(tmp_path / "l.csv")}
    # detected in October (Beijing time): A B C D H; not E (非政务舆情), F/G (September) or I (1 November 00:00)
    assert list(rows) == [ids[k] for k in "ABCDH"]
    assert result.rows == 5 and result.excluded == {"dismissed": 1, "merged": 0}
    assert "共 5 起；不含判定为非政务舆情的 1 起" in result.scope()

    b = rows[ids["B"]]
    assert b["标题"] == "东港化工园区爆炸" and b["外部编号"] == "test:B"
    assert b["发现时间（北京时间）"] == "2026-10-10 08:00" and b["事发时间（北京时间）"] == "2026-10-10 07:30"
    assert (b["类别"], b["突发事件级别"], b["舆情级别"]) == ("生产安全", "II级（重大）", "L1（重大·红）")
    assert b["属地"] == "明湖市东港镇人民政府" and b["责任单位"] == "明湖市应急管理局" and b["是否需回应"] == "是"
    assert b["首次回应时间（北京时间）"] == "2026-10-10 13:30" and b["首次回应方式"] == "发布权威信息"
    assert b["首次回应链接"] == "https://gov.example/b1" and b["回应次数"] == "2"
    assert b["首次发布权威信息时间（北京时间）"] == "2026-10-10 13:30"
    assert b["首次新闻发布会时间（北京时间）"] == "2026-10-11 06:00"
    assert "2026-10-11 06:00 新闻发布会 第1场新闻发布会" in b["回应记录"]
    assert b["时限概况"] == "共3项：按时履行2、逾期履行1"
    assert b["时限：5小时内发布权威信息"] == "逾期履行（期限 2026-10-10 12:30，履行 2026-10-10 13:30）"
    assert b["时限：24小时内举行新闻发布会"] == "按时履行（期限 2026-10-11 07:30，履行 2026-10-11 06:00）"
    assert b["时限：30分钟内电话报告"].startswith("按时履行") and b["时限：48小时内予以回应"] == ""
    assert "调整级别：III级（较大）/L1（重大·红） → II级（重大）/L1（重大·红）（死亡人数升至10人）" in b["处置过程摘要"]
    assert b["状态"] == "已回应"

    a, c, d = rows[ids["A"]], rows[ids["C"]], rows[ids["D"]]
    assert a["时限：持续发布权威信息"] == "第1次 超期未履行（期限 2026-10-05 09:00）"
    assert a["提醒与督办"] == (  # in time order, whatever order they were recorded in
        "2026-10-04 21:00 预警·持续发布权威信息；2026-10-05 09:00 超期提醒·持续发布权威信息；"
        "2026-10-06 09:00 督办·持续发布权威信息"
    )
    assert c["时限：48小时内予以回应"] == "超期未履行（期限 2026-10-22 09:00）" and c["回应次数"] == "0"
    assert c["首次回应时间（北京时间）"] == "" and c["状态"] == "超期"
    assert d["时限：48小时内予以回应"] == "暂停计时（期限 2026-11-03 09:00）"
    assert "批准暂停计时：48小时内予以回应，至 2026-11-02 09:00（等待教育厅答复口径）" in d["处置过程摘要"]
    assert rows[ids["H"]]["是否需回应"] == "否"


async def test_xlsx_has_beijing_times_a_frozen_header_widths_and_a_scope_sheet(db, tmp_path):
    seeded = await seed(db)
    path = tmp_path / "ledger.xlsx"
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, "xlsx", path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["舆情回应台账", "说明"]  # the ledger is what opens
    ws = wb["舆情回应台账"]
    assert ws.freeze_panes == "D2" and ws.auto_filter.ref == "A1:BF6"  # one column per header field
    header, rows = read_sheet(path)
    assert {"发现时间（北京时间）", "首次回应时间（北京时间）", "办结时间（北京时间）"} <= set(header)
    b = next(r for r in rows if r["编号"] == seeded.ids["B"])
    assert b["发现时间（北京时间）"] == datetime(2026, 10, 10, 8, 0)  # a real (Beijing) time, not text
    assert b["首次新闻发布会时间（北京时间）"] == datetime(2026, 10, 11, 6, 0)
    assert b["回应次数"] == 2 and b["首次回应方式"] == "发布权威信息"
    cell = ws.cell(row=2, column=header.index("发现时间（北京时间）") + 1)
    assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm"
    assert ws.column_dimensions["C"].width > 40 and ws.column_dimensions["A"].width < 12  # 标题 wide, 编号 narrow
    notes = [r for r in wb["说明"].iter_rows(values_only=True) if r[0]]
    assert ("范围", "2026-10-01 至 2026-10-31（北京时间）") in notes and ("舆情数", "5") in notes
    assert any("不含判定为非政务舆情的 1 起" in (r[1] or "") for r in notes)
    assert any("未列出的字段：统筹协调单位" in (r[1] or "") for r in notes)  # what the data does not hold, said
    assert any("“媒体类型”" in (r[1] or "") for r in notes)  # where the media type comes from, said
    assert not any("承诺事项" in (r[1] or "") or "谣言" in (r[1] or "") for r in notes)  # held now


DANGEROUS = ['=HYPERLINK("https://evil.example","点我")', "+1 热议", "-2 降级？", "@SUM(A1)"]


async def test_text_that_excel_would_run_as_a_formula_stays_text(db, tmp_path):
    async with db.write() as conn:
        await create_incidents(conn, [Incident(title=t, detected_at=sh(10, 2, 9)) for t in DANGEROUS], sh(10, 2, 9))
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, "csv", tmp_path / "l.csv")
    assert [r["标题"] for r in read_csv(tmp_path / "l.csv")] == ["'" + t for t in DANGEROUS]
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, "xlsx", tmp_path / "l.xlsx")
    ws = load_workbook(tmp_path / "l.xlsx")["舆情回应台账"]
    cells = [ws.cell(row=r, column=3) for r in range(2, 6)]
    assert [c.value for c in cells] == DANGEROUS and {c.data_type for c in cells} == {"s"}  # strings, not formulas


async def test_source_reports_reassignment_and_closing_come_from_the_data(db, tmp_path):
    at = sh(10, 8, 9)
    incident = Incident(title="北湖水质异常", detected_at=at, status=IncidentStatus.CLOSED, owner_unit="emergency",
                        lead_unit="ecology", co_units=("water", "housing"), closed_at=sh(10, 12, 18),
                        media_tiers=(MediaTier.CITY, MediaTier.CENTRAL), item_count=2, multi_region=True)  # fmt: skip
    async with db.write() as conn:
        [iid] = await create_incidents(conn, [incident], at)
        [source] = (await conn.execute(insert(sources).returning(sources.c.id), [
            {"name": "明湖日报", "kind": "rss", "url": "https://a.example/rss", "media_tier": "city", "poll_min_s": 60,
             "poll_max_s": 600, "created_at": at, "updated_at": at}])).scalars().all()  # fmt: skip
        item_ids = (await conn.execute(insert(items).returning(items.c.id), [
            {"source_id": source, "dedup_key": f"k{n}", "url": f"https://a.example/{n}", "title": "北湖", "text": "",
             "published_at": published, "fetched_at": at, "created_at": at, "media_type": media_type}
            for n, published, media_type in ((1, sh(10, 8, 7), "weibo"), (2, sh(10, 8, 6, 30), "print"))
        ])).scalars().all()  # fmt: skip
        attached = [{"incident_id": iid, "item_id": i, "attached_at": at} for i in item_ids]
        await conn.execute(insert(incident_items), attached)
        E = EventKind
        await append_events(conn, [
            IncidentEvent(iid, E.REPORT_RECORDED, sh(10, 8, 9, 30), "li_ming",
                          {"report_kind": "first", "channel": "phone", "signer": "sun_lihua",
                           "reported_at": sh(10, 8, 9, 20).isoformat()}),
            IncidentEvent(iid, E.REPORT_RECORDED, sh(10, 9, 9), "li_ming",
                          {"report_kind": "follow_up", "channel": "written", "signer": "sun_lihua"}),
            IncidentEvent(iid, E.REPORT_RECORDED, sh(10, 10, 9), "li_ming",
                          {"report_kind": "follow_up", "channel": "written", "signer": "sun_lihua"}),
            IncidentEvent(iid, E.REASSIGNED, sh(10, 8, 10), "li_ming",
                          {"from": "water", "to": "emergency", "reason": "涉及突发环境事件"}),
            IncidentEvent(iid, E.REPORT_RECORDED, sh(10, 12, 18), "li_ming",
                          {"report_kind": "final", "channel": "written", "signer": "sun_lihua"}),
            IncidentEvent(iid, E.CLOSED, sh(10, 12, 18), "li_ming", {"reason": "水质恢复正常"}),
        ], at)  # fmt: skip
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, "csv", tmp_path / "l.csv")
    [row] = read_csv(tmp_path / "l.csv")
    assert row["来源"] == "明湖日报" and row["原文链接"] == "https://a.example/2"  # the earliest published item
    assert row["首发时间（北京时间）"] == "2026-10-08 06:30" and row["媒体层级"] == "中央、市"
    assert row["媒体类型"] == "纸媒"  # the earliest published item's, not the later 微博 post's
    assert row["牵头单位"] == "明湖市生态环境局" and row["协办单位"] == "明湖市水务局、明湖市住房和城乡建设局"
    assert row["涉及多地"] == "是"
    assert row["改派记录"] == "2026-10-08 10:00 明湖市水务局 → 明湖市应急管理局（涉及突发环境事件）"
    assert row["首报时间（北京时间）"] == "2026-10-08 09:20" and row["续报次数"] == "2"
    assert row["终报时间（北京时间）"] == "2026-10-12 18:00"
    assert row["信息报告记录"].startswith("2026-10-08 09:20 首报（电话） 签发：孙丽华；2026-10-09 09:00 续报（书面）")
    assert row["状态"] == "已办结" and row["办结时间（北京时间）"] == "2026-10-12 18:00"
    assert row["处置过程摘要"].endswith("2026-10-12 18:00 办结（水质恢复正常）")


async def test_the_range_is_beijing_days_and_bad_dates_are_explained(db, tmp_path):
    async with db.write() as conn:
        await create_incidents(conn, [Incident(title="零点前", detected_at=sh(10, 31, 23, 59)),
                                      Incident(title="零点", detected_at=sh(11, 1, 0)),
                                      Incident(title="当天早些时候", detected_at=sh(10, 31, 0)),
                                      Incident(title="前一天", detected_at=sh(10, 30, 23, 59))], CUTOFF)  # fmt: skip
    await export_ledger(db, DateRange.parse("2026-10-31", "2026-10-31"), CUTOFF, NAMES, "csv", tmp_path / "l.csv")
    assert [r["标题"] for r in read_csv(tmp_path / "l.csv")] == ["当天早些时候", "零点前"]  # in the order detected
    with pytest.raises(LedgerRangeError, match="--to 2026-10-01 is before --from 2026-10-31") as caught:
        DateRange.parse("2026-10-31", "2026-10-01")
    assert "截止日期 2026-10-01 早于起始日期 2026-10-31" in caught.value.zh
    with pytest.raises(LedgerRangeError, match="--from '2026/10/01' is not a date; write YYYY-MM-DD"):
        DateRange.parse("2026/10/01", "2026-10-31")
    with pytest.raises(LedgerRangeError, match="has not begun at the cut-off"):
        await export_ledger(db, DateRange.parse("2026-12-01", "2026-12-31"), CUTOFF, NAMES, "csv", tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


async def test_a_failed_export_leaves_the_previous_file_and_no_partial_file(db, tmp_path, monkeypatch):
    await seed(db)
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "l.xlsx"
    path.write_bytes(b"previous ledger")

    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ledger_export, "ledger_row", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        await export_ledger(db, OCTOBER, CUTOFF, NAMES, "xlsx", path)
    assert path.read_bytes() == b"previous ledger" and [p.name for p in path.parent.iterdir()] == ["l.xlsx"]


MANY, BATCH = 1_200, 100


async def _many(db) -> list[int]:
    """MANY incidents in October, each answered at its own minute, between others of September (so the
    October ids are not consecutive: the batch reads take the IN-list path), one deadline each."""
    start = sh(10, 1, 8)
    october = [Incident(title=f"十月第{n}起", detected_at=start + timedelta(minutes=n)) for n in range(MANY)]
    september = [Incident(title=f"九月第{n}起", detected_at=sh(9, 2, 8)) for n in range(2 * MANY)]
    mixed = [x for n, inc in enumerate(october) for x in (inc, september[2 * n], september[2 * n + 1])]
    async with db.write() as conn:
        ids = await create_incidents(conn, mixed, start)
        ours = ids[::3]
        await append_events(conn, [
            IncidentEvent(i, EventKind.RESPONSE_RECORDED, start + timedelta(minutes=n, hours=1), "li_ming",
                          {"kind": "website_reply", "url": f"https://gov.example/{n}", "approved_by": "li_ming"})
            for n, i in enumerate(ours)
        ], start)  # fmt: skip
        await conn.execute(insert(obligations), [
            {"incident_id": i, "rule_id": "GB61-RESPOND-48H", "instance": 0, "action": "first_response",
             "clock": "natural_hours", "t0": start, "due_at": start + timedelta(hours=48), "status": "met",
             "met_at": start + timedelta(minutes=n, hours=1), "created_at": start, "updated_at": start}
            for n, i in enumerate(ours)
        ])  # fmt: skip
    return ours


async def test_many_incidents_are_read_and_written_one_batch_at_a_time(db, tmp_path, monkeypatch):
    """Memory does not grow with the number of incidents: the stream hands over at most BATCH at a
    time, and each batch is written to the file before the next is read."""
    ours = await _many(db)
    log: list[tuple[str, int]] = []
    stream, open_writer = repo.stream_ledger, ledger_export.open_writer

    async def spied_stream(*args, **kwargs):
        async for batch in stream(*args, **kwargs):
            log.append(("read", len(batch)))
            yield batch

    def spied_writer(*args, **kwargs):
        writer = open_writer(*args, **kwargs)
        append = writer.append

        def logged(rows):
            log.append(("written", len(rows)))
            append(rows)

        writer.append = logged  # type: ignore[method-assign]
        return writer

    monkeypatch.setattr(ledger_export.repo, "stream_ledger", spied_stream)
    monkeypatch.setattr(ledger_export, "open_writer", spied_writer)
    path = tmp_path / "many.csv"
    result = await export_ledger(db, OCTOBER, CUTOFF, NAMES, "csv", path, batch=BATCH)
    assert result.rows == MANY
    assert log == [("read", BATCH), ("written", BATCH)] * (MANY // BATCH)  # alternating: one batch held at a time
    rows = read_csv(path)
    assert [int(r["编号"]) for r in rows] == ours
    # each row has its own response and deadline (batches read by IN lists keep incidents apart)
    assert all(r["首次回应链接"] == f"https://gov.example/{n}" for n, r in enumerate(rows))
    assert all(r["时限：48小时内予以回应"].startswith("按时履行") for r in rows)
    last = sh(10, 1, 9) + timedelta(minutes=MANY - 1)
    assert rows[-1]["首次回应时间（北京时间）"] == last.strftime("%Y-%m-%d %H:%M")


async def test_the_xlsx_of_many_incidents_holds_every_row(db, tmp_path):
    await _many(db)
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, "xlsx", tmp_path / "many.xlsx", batch=BATCH)
    _, rows = read_sheet(tmp_path / "many.xlsx")
    assert len(rows) == MANY and rows[0]["标题"] == "十月第0起" and rows[-1]["标题"] == f"十月第{MANY - 1}起"


# --- monitor export-ledger -------------------------------------------------------------------


@pytest.fixture
async def seeded_url(sqlite_db, tmp_path):
    await seed(sqlite_db)
    return str(sqlite_db.engine.url)


def test_monitor_export_ledger_writes_the_file_and_says_what_it_holds(seeded_url, tmp_path, capsys):
    out = tmp_path / "exports" / "十月台账.xlsx"  # a directory that does not exist yet is made
    code = main(["--database-url", seeded_url, "export-ledger", "--from", "2026-10-01", "--to", "2026-10-31",
                 "--out", str(out), "--now", "2026-11-01T08:00"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "监测发现时间在 2026-10-01 至 2026-10-31（北京时间，含首尾两日）的舆情，共 5 起；不含判定为非政务舆情的 1 起。"
        "数据截至 2026-11-01 08:00（北京时间）。",
        str(out),
    ]
    assert len(read_sheet(out)[1]) == 5
    code = main(["--database-url", seeded_url, "export-ledger", "--from", "2026-10-01", "--to", "2026-10-31",
                 "--unit", "housing", "--format", "csv", "--out", str(tmp_path / "housing"),
                 "--now", "2026-11-01T08:00"])  # fmt: skip
    rows = read_csv(tmp_path / "housing")
    assert code == 0 and [r["标题"] for r in rows] == ["城东街道老旧小区加装电梯进度缓慢", "月末最后一起"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-10-31", "--to", "2026-10-01", "--out", "l.csv"], "--to 2026-10-01 is before --from"),
        (["--from", "10/01", "--to", "2026-10-31", "--out", "l.csv"], "--from '10/01' is not a date; write YYYY-MM-DD"),
        (["--from", "2026-12-01", "--to", "2026-12-31", "--out", "l.csv"], "has not begun at the cut-off"),
        (["--from", "2026-10-01", "--to", "2026-10-31", "--out", "l.txt"], "name the file .csv or .xlsx"),
        (["--from", "2026-10-01", "--to", "2026-10-31", "--out", "l.csv", "--format", "xlsx"], "make them agree"),
        (["--from", "2026-10-01", "--to", "2026-10-31", "--out", "l.csv", "--unit", "住房和城乡建设局"],
         "use the unit id 'housing'"),
        (["--from", "2026-10-01", "--to", "2026-10-31", "--out", "."], "is a directory"),
    ],
)  # fmt: skip
def test_monitor_export_ledger_errors_say_what_to_do(seeded_url, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    base = ["--database-url", seeded_url, "export-ledger", "--now", "2026-11-01T08:00"]
    assert main(base + args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "l.csv").exists()


# --- one incident as one row (pure) ---------------------------------------------------------


def _record(**incident: object) -> repo.LedgerRecord:
    ob = Obligation(incident_id=1, rule_id="LOCAL-RULE", action="respond", clock=ClockType.NATURAL_HOURS,
                    t0=sh(10, 2), due_at=sh(10, 3), status=ObligationStatus.OPEN, id=1)  # fmt: skip
    base = Incident(title="标题", detected_at=sh(10, 2), id=1)
    return repo.LedgerRecord(replace(base, **incident), (ob,), (), None)  # type: ignore[arg-type]


@pytest.mark.parametrize("rules", [(), ("GB61-RESPOND-48H",), ("GB61-RESPOND-48H", "LOCAL-RULE", "OTHER")])
def test_every_row_has_a_cell_for_every_column(rules):
    columns = ledger_columns(rules, NAMES)
    row = ledger_row(_record(), rules, NAMES, CUTOFF)
    assert len(row) == len(columns) and len({c.header for c in columns}) == len(columns)
    assert len(assignment_cells(_record(), NAMES)) == len(ASSIGNMENT)
    if "LOCAL-RULE" in rules:  # a deployment's own rule, shown by id when the playbook gives no title
        assert row[[c.key for c in columns].index("rule:LOCAL-RULE")] == "超期未履行（期限 2026-10-03 00:00）"


def test_text_longer_than_an_excel_cell_is_cut_and_says_so():
    row = ledger_row(_record(summary="长" * 40_000), (), NAMES, CUTOFF)
    assert len(row[-1]) == 32_767 and row[-1].endswith("（超出单元格长度上限，其余从略）")


def test_national_rules_come_first_in_their_usual_order():
    assert rule_order(["Z-LOCAL", "GB61-RESPOND-48H", "A-LOCAL", "GB80-AUTH-RELEASE-5H"]) == [
        "GB80-AUTH-RELEASE-5H", "GB61-RESPOND-48H", "A-LOCAL", "Z-LOCAL"
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_the_exported_ledger_reads_back_through_import_ledger(db, tmp_path, fmt):
    """What the file says can be imported again (e.g. into another deployment) with a mapping."""
    seeded = await seed(db)
    async with db.write() as conn:  # B as an earlier import left it: a 媒体类型 and no items
        await conn.execute(update(incidents).where(incidents.c.id == seeded.ids["B"]).values(media_type="weibo"))
    path = tmp_path / f"l.{fmt}"
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, fmt, path)
    mapping = load_mapping(REPO / "tests/data/ledger-export-mapping.yaml")
    result = await import_ledger(db, path, mapping, CUTOFF, import_rules(Settings()))
    assert (result.rows, result.imported, result.errors) == (5, 5, [])
    async with db.read() as conn:
        back = {i.external_ref: i for i in await list_incidents(conn, open_only=False, limit=100)}
        original = await get_incident(conn, seeded.ids["B"])
    b = back[f"import:ledger-export:{seeded.ids['B']}"]
    assert (b.title, b.detected_at, b.occurred_at) == (original.title, original.detected_at, original.occurred_at)
    assert (b.event_level, b.opinion_level, b.event_type) == (EventLevel.II, OpinionLevel.L1, EventType.WORK_SAFETY)
    assert b.owner_unit == "明湖市应急管理局" and b.closed_at == sh(10, 10, 13, 30)  # answered at the first response
    assert b.media_type == MediaType.WEIBO
    assert back[f"import:ledger-export:{seeded.ids['A']}"].media_type is None  # 媒体类型 left empty: none
    c = back[f"import:ledger-export:{seeded.ids['C']}"]
    assert c.event_level == EventLevel.III and c.status == IncidentStatus.HANDLING and c.closed_at is None
    assert back[f"import:ledger-export:{seeded.ids['A']}"].event_level is None  # 非突发事件


async def test_the_supervision_column_lists_each_gov_office_supervision(db, tmp_path):
    at = sh(10, 8, 9)
    incident = Incident(title="城北停水", detected_at=at, status=IncidentStatus.SUPERVISED, owner_unit="water")
    async with db.write() as conn:
        [iid] = await create_incidents(conn, [incident], at)
        await append_events(conn, [
            IncidentEvent(iid, EventKind.SUPERVISED, sh(10, 10, 9), "gov",
                          {"level": "urge", "reason": "48小时未回应", "by": "市政府办督查科 蒋文博", "unit": "water"}),
            IncidentEvent(iid, EventKind.SUPERVISED, sh(10, 11, 9), "gov",
                          {"level": "circulate", "reason": "仍未回应，予以通报", "by": "市政府办", "unit": "water"}),
        ], at)  # fmt: skip
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, "csv", tmp_path / "l.csv")
    [row] = read_csv(tmp_path / "l.csv")
    assert row["督办"] == (
        "2026-10-10 09:00 催办（市政府办督查科 蒋文博） 明湖市水务局：48小时未回应；"
        "2026-10-11 09:00 通报（市政府办） 明湖市水务局：仍未回应，予以通报"
    )
    assert row["状态"] == "督办中" and "督办" not in row["处置过程摘要"]
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, "xlsx", tmp_path / "l.xlsx")
    header, [sheet_row] = read_sheet(tmp_path / "l.xlsx")
    assert header.index("督办") == header.index("提醒与督办") + 1 and sheet_row["督办"] == row["督办"]


async def test_response_details_commitments_and_rumour_referrals_are_in_the_ledger_and_read_back(db, tmp_path):
    at = sh(10, 8, 9)
    incident = Incident(title="老城区道路塌陷", detected_at=at, status=IncidentStatus.RESPONDED, owner_unit="housing")
    E = EventKind
    async with db.write() as conn:
        [iid] = await create_incidents(conn, [incident], at)
        await append_events(conn, [
            IncidentEvent(iid, E.RESPONSE_RECORDED, sh(10, 8, 12), "zhao_lei",
                          {"kind": "authoritative_release", "url": "https://gov.example/1", "approved_by": "sun_lihua",
                           "published_at": sh(10, 8, 12).isoformat(), "spokesperson": "王强", "channel": "gov_weibo",
                           "commitments": [{"text": "完成路面修复", "due": "2026-10-10"},
                                           {"text": "公布调查结果", "due": "2026-10-20"}]}),
            IncidentEvent(iid, E.RESPONSE_RECORDED, sh(10, 9, 10), "zhao_lei",
                          {"kind": "press_conference", "document": "发布会实录", "approved_by": "sun_lihua",
                           "spokesperson": "李华", "channel": "press_conference",
                           "commitments": [{"text": "回访商户", "due": "2026-10-12"}]}),
            IncidentEvent(iid, E.COMMITMENT_FULFILLED, sh(10, 11, 9), "zhao_lei",
                          {"number": 1, "fulfilled_at": sh(10, 11, 8).isoformat(),
                           "disclosed_url": "https://gov.example/done"}),
            IncidentEvent(iid, E.RUMOR_REFERRED, sh(10, 8, 15), "zhu_min",
                          {"to": "police", "referred_at": sh(10, 8, 14).isoformat(), "note": "网传死亡人数系谣言"}),
        ], at)  # fmt: skip
    await export_ledger(db, OCTOBER, sh(10, 15, 0), NAMES, "csv", tmp_path / "l.csv")
    [row] = read_csv(tmp_path / "l.csv")
    assert row["发布渠道"] == "政务微博、新闻发布会" and row["发布人"] == "王强、李华"
    assert row["承诺事项及兑现"] == (
        "#1 完成路面修复（2026-10-10 前）：逾期兑现 2026-10-11 08:00 https://gov.example/done；"
        "#2 公布调查结果（2026-10-20 前）：待兑现；#3 回访商户（2026-10-12 前）：已超期未兑现"
    )
    assert row["谣言移交"] == "2026-10-08 14:00 移交公安机关（网传死亡人数系谣言）"
    assert "（政务微博）（发布人：王强）" in row["回应记录"]
    assert "2026-10-11 08:00 承诺兑现：承诺 #1" in row["处置过程摘要"]

    mapping = load_mapping(REPO / "tests/data/ledger-export-mapping.yaml")
    result = await import_ledger(db, tmp_path / "l.csv", mapping, sh(10, 15, 0), import_rules(Settings()))
    assert (result.imported, result.errors) == (1, [])
    async with db.read() as conn:
        back = next(i for i in await list_incidents(conn, open_only=False, limit=10) if i.external_ref)
        response = next(e for e in await list_events(conn, back.id) if e.kind == E.RESPONSE_RECORDED)
    assert (response.payload["spokesperson"], response.payload["channel"]) == ("王强", "gov_weibo")


def test_commitments_carried_by_a_merge_keep_their_fulfilment_in_the_ledger():
    from monitor.reports.ledger_export.columns import response_detail_cells
    from monitor.storage.repo.ledger_export import ledger_event

    E = EventKind
    events = [
        ledger_event(E.RESPONSE_RECORDED, sh(10, 2, 9), "a", {"kind": "authoritative_release",
                     "commitments": [{"text": "设置围挡", "due": "2026-10-03"}]}),
        ledger_event(E.RESPONSE_RECORDED, sh(10, 2, 8), "a", {"kind": "authoritative_release", "merged_from": 7,
                     "commitments": [{"text": "修复路面", "due": "2026-10-05"},
                                     {"text": "公布原因", "due": "2026-10-30"}]}),
        ledger_event(E.COMMITMENT_FULFILLED, sh(10, 4, 9), "a", {"number": 2, "merged_from": 7,
                     "fulfilled_at": sh(10, 4, 9).isoformat(), "disclosed_url": "https://gov.example/2"}),
    ]  # fmt: skip
    _, _, commitments, _ = response_detail_cells(events, sh(10, 10))
    assert commitments == (
        "#1 设置围挡（2026-10-03 前）：已超期未兑现；#2 修复路面（2026-10-05 前）：已超期未兑现；"
        "#3 公布原因（2026-10-30 前）：按期兑现 2026-10-04 09:00 https://gov.example/2"
    )


async def test_opening_by_hand_and_a_region_correction_are_in_the_course_of_handling(db, tmp_path):
    at = sh(10, 8, 9)
    incident = Incident(title="东港镇码头油污", detected_at=at, status=IncidentStatus.ASSIGNED, owner_unit="donggang")
    async with db.write() as conn:
        [iid] = await create_incidents(conn, [incident], at)
        await append_events(conn, [
            IncidentEvent(iid, EventKind.OPENED_BY_HAND, sh(10, 8, 9), "zhao_lei",
                          {"item_id": 7, "title": "东港镇码头油污", "reason": "模型判为非政务，实为环境污染"}),
            IncidentEvent(iid, EventKind.REGION_SET, sh(10, 8, 10), "zhao_lei",
                          {"from": "xiling", "to": "donggang", "reason": "码头在东港镇"}),
        ], at)  # fmt: skip
    await export_ledger(db, OCTOBER, CUTOFF, NAMES, "csv", tmp_path / "l.csv")
    [row] = read_csv(tmp_path / "l.csv")
    assert row["处置过程摘要"] == (
        "2026-10-08 09:00 人工立案（模型判为非政务，实为环境污染）；"
        "2026-10-08 10:00 更正属地：明湖市东港镇人民政府（码头在东港镇）"
    )

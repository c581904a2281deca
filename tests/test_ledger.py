"""Importing an existing ledger: mapping, row conversion, CSV/XLSX reading, idempotency, errors."""

import csv
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from monitor.cli import main
from monitor.clock import SHANGHAI
from monitor.domain import MediaType, ObligationStatus
from monitor.domain.ledger import ImportedIncident
from monitor.ledger.convert import convert_row
from monitor.ledger.importer import import_ledger
from monitor.ledger.mapping import load_mapping
from monitor.ledger.model import ColumnSpec, RowError
from monitor.ledger.plan import ImportRules
from monitor.ledger.read import LedgerFileError
from monitor.policy import PolicyError
from monitor.storage.repo.incidents import list_events
from monitor.storage.schema import incidents, obligations
from tests.conftest import REPO
from tests.engine_support import ORG, POLICY

MAPPING = load_mapping(REPO / "playbooks/import/message-board.yaml")
RULES = ImportRules(POLICY.playbook, POLICY.calendar, ORG)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
HEADER = ["msg_id", "user_id", "title", "time", "detail", "reply", "reply_time"]


def row(msg_id="1", time="2016/2/19 8:43:00", reply_time="2016/2/19 9:13:53", reply="已收到", title="请求增加地铁站点"):
    return dict(zip(HEADER, [msg_id, "UU1", title, time, "正文", reply, reply_time], strict=True))


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("2016/2/19 8:43:00", local(2016, 2, 19, 8, 43)),
        ("2016/02/19 08:43:00", local(2016, 2, 19, 8, 43)),
        ("2019-01-09 10:00:00", local(2019, 1, 9, 10)),
        ("2016/2/19 8:43", local(2016, 2, 19, 8, 43)),
        ("2017/5/16", local(2017, 5, 16, 0, 0)),  # date only: received from the start of the day
    ],
)
def test_received_times_in_several_spellings(time, expected):
    out = convert_row(MAPPING, 2, row(time=time, reply_time="2019/12/31 23:00:00"), NOW, RULES)
    assert isinstance(out, ImportedIncident)
    assert out.incident.detected_at == expected and out.incident.external_ref == "import:message-board:1"


def test_a_date_only_reply_counts_from_the_end_of_its_day():
    out = convert_row(MAPPING, 2, row(time="2017/5/14 10:00:00", reply_time="2017/5/16"), NOW, RULES)
    assert isinstance(out, ImportedIncident)
    ob = out.obligations[0]
    assert ob.met_at == local(2017, 5, 16, 23, 59, 59) and ob.due_at == local(2017, 5, 16, 10)
    assert ob.status == ObligationStatus.LATE  # not credited as on time: the data cannot prove it
    response = out.events[2]
    assert response.payload["date_only"] is True and response.payload["published_at"] == "2017-05-16T23:59:59+08:00"


@pytest.mark.parametrize(
    ("reply_time", "status"),
    [("2016/2/20 8:00:00", ObligationStatus.MET), ("2016/2/21 8:43:00", ObligationStatus.MET),
     ("2016/2/21 8:44:00", ObligationStatus.LATE), ("", ObligationStatus.BREACHED)],
)  # fmt: skip
def test_the_48_hour_deadline(reply_time, status):
    out = convert_row(MAPPING, 2, row(reply_time=reply_time, reply="已收到" if reply_time else ""), NOW, RULES)
    assert isinstance(out, ImportedIncident)
    ob = out.obligations[0]
    assert (ob.rule_id, ob.status, ob.due_at) == ("GB61-RESPOND-48H", status, local(2016, 2, 21, 8, 43))
    kinds = [e.kind.value for e in out.events]
    announced = {ObligationStatus.MET: "obligation_met", ObligationStatus.LATE: "obligation_met"}.get(
        status, "obligation_breached"
    )
    timeline = ["response_recorded", "closed"] if reply_time else []
    assert kinds == ["confirmed", "playbook_snapshot", *timeline, "obligation_opened", announced]
    assert not out.live  # every deadline had passed at the import: nothing for the engine to chase
    assert out.incident.status.value == ("closed" if reply_time else "handling")


def test_an_unanswered_recent_message_is_still_open():
    out = convert_row(MAPPING, 2, row(time="2026/10/31 20:00:00", reply_time="", reply=""), NOW, RULES)
    assert isinstance(out, ImportedIncident) and out.obligations[0].status == ObligationStatus.OPEN


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"msg_id": ""}, "缺少编号"),
        ({"time": ""}, "缺少收到时间"),
        ({"time": "2016年2月30日"}, "time 列的时间 '2016年2月30日' 无法识别"),
        ({"reply_time": "昨天"}, "reply_time 列的时间 '昨天' 无法识别"),
        ({"reply_time": ""}, "有答复内容但缺少答复时间"),
        ({"reply_time": "2016/2/18 8:00:00"}, "答复时间 2016-02-18 08:00 早于收到时间"),
        ({"title": "", "detail": ""}, "标题和正文都为空"),
    ],
)
def test_rows_that_cannot_be_read_say_why(changes, reason):
    out = convert_row(MAPPING, 7, row() | changes, NOW, RULES)
    assert isinstance(out, RowError) and out.row == 7 and reason in out.reason


def test_title_falls_back_to_the_text():
    out = convert_row(MAPPING, 2, row(title="") | {"detail": "小区门口路灯坏了三个月没人修"}, NOW, RULES)
    assert isinstance(out, ImportedIncident) and out.incident.title == "小区门口路灯坏了三个月没人修"


def write_csv(path: Path, rows, encoding="utf-8-sig"):
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows([[r[h] for h in HEADER] for r in rows])
    return path


ROWS = [row("1"), row("2", time="2016/3/1 10:00:00", reply_time="2016/3/9 10:00:00"), row("3", time="不知道"),
        row("1", title="重复的编号"), row("4", time="2016/3/2", reply_time="2016/3/2")]  # fmt: skip


async def test_import_is_idempotent_and_reports_bad_rows(db, tmp_path):
    source = write_csv(tmp_path / "board.csv", ROWS)
    rejects = tmp_path / "rejects.csv"
    first = await import_ledger(db, source, MAPPING, NOW, RULES, rejects=rejects)
    assert (first.rows, first.imported, first.already, first.date_only) == (5, 3, 0, 1)
    assert [(e.row, e.ledger_id) for e in first.errors] == [(4, "3"), (5, "1")]
    assert "与第 2 行重复" in first.errors[1].reason
    with rejects.open(encoding="utf-8-sig") as handle:
        rejected = list(csv.reader(handle))
    assert rejected[0][:2] == ["行号", "原因"] and [r[0] for r in rejected[1:]] == ["4", "5"]
    second = await import_ledger(db, source, MAPPING, NOW, RULES)
    assert (second.imported, second.already) == (0, 3)
    async with db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(incidents))).scalar_one() == 3
        statuses = dict(
            (await conn.execute(select(obligations.c.status, func.count()).group_by(obligations.c.status))).all()
        )
        first_id = (
            await conn.execute(select(incidents.c.id).where(incidents.c.external_ref == "import:message-board:1"))
        ).scalar_one()
        events = await list_events(conn, first_id)
    assert statuses == {"met": 2, "late": 1}
    assert [e.kind.value for e in events] == [
        "detected", "confirmed", "playbook_snapshot", "response_recorded", "closed", "obligation_opened",
        "obligation_met",
    ]  # fmt: skip
    assert events[3].payload["summary"] == "已收到" and events[3].actor == "ledger-import"


async def test_xlsx_and_gb18030_csv_read_the_same(sqlite_db, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([25582, "UU1", "标题", datetime(2016, 2, 19, 8, 43), "正文", "答复", "2016/2/19 9:13:53"])
    sheet.append([25583, "UU2", "另一条", "2016/2/20", "正文", "答复", datetime(2016, 2, 20, 18)])
    workbook.save(tmp_path / "board.xlsx")
    from_xlsx = await import_ledger(sqlite_db, tmp_path / "board.xlsx", MAPPING, NOW, RULES)
    assert (from_xlsx.imported, from_xlsx.errors) == (2, [])
    gbk = write_csv(tmp_path / "gbk.csv", [row("25582"), row("25583")], encoding="gb18030")
    again = await import_ledger(sqlite_db, gbk, MAPPING, NOW, RULES)
    assert (again.imported, again.already) == (0, 2)  # same ids: the numeric cell 25582 reads as "25582"


async def test_file_problems_are_clear(sqlite_db, tmp_path):
    bad = tmp_path / "other.csv"
    bad.write_text("id,标题\n1,x\n", encoding="utf-8")
    with pytest.raises(
        LedgerFileError,
        match=r"columns msg_id, title, detail, time, reply, reply_time named by mapping 'message-board' are not",
    ):
        await import_ledger(sqlite_db, bad, MAPPING, NOW, RULES)
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(LedgerFileError, match=r"export the ledger as \.csv or \.xlsx"):
        await import_ledger(sqlite_db, tmp_path / "x.pdf", MAPPING, NOW, RULES)
    with pytest.raises(LedgerFileError, match="no such file"):
        await import_ledger(sqlite_db, tmp_path / "missing.csv", MAPPING, NOW, RULES)


def test_mapping_errors_name_line_and_fix(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("name: board\ncolumns:\n  id: msg_id\n  recieved_at: time\n", encoding="utf-8")
    with pytest.raises(
        PolicyError, match=r"m.yaml:4 columns.recieved_at: unknown key 'recieved_at'\n  fix: did you mean 'received_at'"
    ):
        load_mapping(path)
    path.write_text("name: board\ncolumns: {id: a, received_at: b}\ndefaults: {opinion_level: L9}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"defaults\.opinion_level: 'L9' is not allowed"):
        load_mapping(path)


def test_import_ledger_command(tmp_path, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    assert main(["--database-url", url, "migrate"]) == 0
    source = write_csv(tmp_path / "board.csv", ROWS)
    mapping = str(REPO / "playbooks/import/message-board.yaml")
    args = ["--database-url", url, "import-ledger", str(source), "--mapping", mapping,
            "--rejects", str(tmp_path / "rej.csv"), "--now", "2026-11-01T08:00"]  # fmt: skip
    assert main(args) == 1  # some rows could not be imported
    out = capsys.readouterr().out
    assert "读取 5 行：已导入 3 条" in out and "第 4 行（编号 3）：time 列的时间 '不知道' 无法识别" in out
    assert main(args) == 1
    assert "此前已导入而跳过 3 条" in capsys.readouterr().out


async def test_an_xlsx_date_cell_without_a_time_is_read_as_date_only(sqlite_db, tmp_path):
    # Excel stores a typed date (2017/5/16) as a date-formatted number: openpyxl gives midnight. The
    # mapping's date_only rule must apply as for the text "2017/5/16": a reply counts from 23:59:59.
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([1, "U", "标题", datetime(2017, 5, 14, 10), "正文", "答复", datetime(2017, 5, 16)])
    sheet["G2"].number_format = "yyyy/m/d"
    sheet.append([2, "U", "标题", datetime(2017, 5, 14, 10), "正文", "答复", datetime(2017, 5, 16)])
    sheet["G3"].number_format = "yyyy/m/d h:mm"  # a time of day is shown: midnight is a real time
    sheet.append([3, "U", "标题", datetime(2017, 5, 14, 10), "正文", "答复", datetime(2017, 5, 16)])
    sheet["G4"].number_format = 'yyyy"年"m"月"d"日"'
    workbook.save(tmp_path / "board.xlsx")
    result = await import_ledger(sqlite_db, tmp_path / "board.xlsx", MAPPING, NOW, RULES)
    assert (result.imported, result.errors, result.date_only) == (3, [], 2)
    async with sqlite_db.read() as conn:
        met = dict((await conn.execute(select(incidents.c.external_ref, obligations.c.met_at).join(incidents))).all())
    assert met["import:message-board:1"] == local(2017, 5, 16, 23, 59, 59)
    assert met["import:message-board:2"] == local(2017, 5, 16, 0, 0)
    assert met["import:message-board:3"] == local(2017, 5, 16, 23, 59, 59)


async def test_a_duplicate_of_a_rejected_row_is_not_imported_in_its_place(sqlite_db, tmp_path):
    # Row 2 cannot be read; row 3 repeats its id. Importing row 3 instead would make the fixed
    # row 2 (from the rejects file) be skipped later as "already imported": its content lost.
    source = write_csv(tmp_path / "board.csv", [row("1", time="不知道"), row("1", title="同编号的另一行")])
    result = await import_ledger(sqlite_db, source, MAPPING, NOW, RULES)
    assert result.imported == 0 and [(e.row, e.ledger_id) for e in result.errors] == [(2, "1"), (3, "1")]
    assert "与第 2 行重复" in result.errors[1].reason


async def test_a_byte_order_mark_is_not_part_of_the_first_column_name(sqlite_db, tmp_path):
    # Excel's "CSV UTF-8" starts with a BOM; with format.encoding: utf-8 (not auto) it used to stay in
    # the header, and the error "columns msg_id … are not in the file (its header: msg_id, …)" baffled.
    from dataclasses import replace

    source = write_csv(tmp_path / "board.csv", [row("1")], encoding="utf-8-sig")
    result = await import_ledger(sqlite_db, source, replace(MAPPING, encoding="utf-8"), NOW, RULES)
    assert (result.imported, result.errors) == (1, [])


def test_a_ledger_event_time_starts_the_emergency_clocks():
    # DOMAIN.md §4.4/§8: a 舆情台账 records 事发时间 and 原帖发布时间; the 5 h release and 24 h press
    # conference run from the event time when it is known, not from when the office logged it.
    from dataclasses import replace

    from monitor.domain import EventLevel
    from monitor.ledger.model import ColumnSpec

    columns = dict(MAPPING.columns) | {"occurred_at": ColumnSpec("事发时间"), "published_at": ColumnSpec("首发时间")}
    mapping = replace(MAPPING, columns=columns, defaults=replace(MAPPING.defaults, event_level=EventLevel.II))
    data = row(time="2026/10/10 12:00:00", reply_time="2026/10/10 15:00:00")
    data |= {"事发时间": "2026/10/10 7:30:00", "首发时间": "2026/10/10 8:00:00"}
    out = convert_row(mapping, 2, data, NOW, RULES)
    assert isinstance(out, ImportedIncident)
    assert out.incident.occurred_at == local(2026, 10, 10, 7, 30)
    assert out.incident.first_published_at == local(2026, 10, 10, 8, 0)
    release = next(o for o in out.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H")
    assert (release.t0, release.due_at) == (local(2026, 10, 10, 7, 30), local(2026, 10, 10, 12, 30))
    assert release.status == ObligationStatus.LATE  # replied 15:00: late by the event's clock
    problem = convert_row(mapping, 3, data | {"事发时间": "2026/10/11 9:00:00"}, NOW, RULES)
    assert isinstance(problem, RowError) and "事发时间 2026-10-11 09:00 晚于收到时间 2026-10-10 12:00" in problem.reason


DEMO_MAPPING = load_mapping(REPO / "monitor/demo/ledger-mapping.yaml")  # time_formats: only %Y-%m-%d %H:%M
DEMO_HEADER = ["msg_id", "title", "detail", "time", "reply", "reply_time", "dept", "region"]


async def imported_times(db):
    async with db.read() as conn:
        rows = await conn.execute(select(incidents.c.external_ref, incidents.c.detected_at, incidents.c.closed_at))
        return {ref: (detected, closed) for ref, detected, closed in rows}


async def test_the_rejects_of_an_xlsx_ledger_can_be_fixed_and_imported_with_the_same_mapping(sqlite_db, tmp_path):
    """Excel time cells are written to the rejects CSV as the mapping reads them (the demo mapping
    accepts only 2026-10-06 09:00, not 2026-10-06 09:00:00), date cells as a date, numeric ids as
    whole numbers: the clerk fixes the reason and imports the rejects file as it is."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(DEMO_HEADER)
    sheet.append([9001, "答复早于来信", "正文", datetime(2026, 10, 6, 9), "已答复", datetime(2026, 10, 5, 15, 30),
                  "城管局", "城东街道"])  # fmt: skip
    sheet.append([9002.0, "日期单元格", "正文", datetime(2026, 10, 7, 9), "已答复", datetime(2026, 10, 6),
                  "城管局", "城东街道"])  # fmt: skip
    sheet["F3"].number_format = "yyyy/m/d"
    sheet.append([9003, "带秒的时间", "正文", datetime(2026, 10, 8, 9, 0, 30), "", None, "城管局", "城东街道"])
    sheet.append([9004, "", "", datetime(2026, 10, 8, 9, 0, 30), "", None, "城管局", "城东街道"])  # no title: rejected
    workbook.save(tmp_path / "ledger.xlsx")
    rejects = tmp_path / "rejects.csv"
    first = await import_ledger(sqlite_db, tmp_path / "ledger.xlsx", DEMO_MAPPING, NOW, RULES, rejects=rejects)
    assert (first.imported, [e.ledger_id for e in first.errors]) == (1, ["9001", "9002", "9004"])
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert [(r["msg_id"], r["time"], r["reply_time"]) for r in rejected] == [
        ("9001", "2026-10-06 09:00", "2026-10-05 15:30"),
        ("9002", "2026-10-07 09:00", "2026-10-06"),
        ("9004", "2026-10-08 09:00:30", ""),  # seconds the mapping's format cannot carry: ISO, read by every mapping
    ]
    rejected[0]["reply_time"], rejected[1]["reply_time"] = "2026-10-06 15:30", "2026-10-08"  # the clerk's fixes
    rejected[2]["title"] = "补上的标题"
    with rejects.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rejected[0]))
        writer.writeheader()
        writer.writerows(rejected)
    second = await import_ledger(sqlite_db, rejects, DEMO_MAPPING, NOW, RULES)
    assert (second.imported, second.errors) == (3, [])
    times = await imported_times(sqlite_db)
    assert times["import:demo-ledger:9001"] == (local(2026, 10, 6, 9), local(2026, 10, 6, 15, 30))
    assert times["import:demo-ledger:9002"] == (local(2026, 10, 7, 9), local(2026, 10, 8, 23, 59, 59))
    assert times["import:demo-ledger:9004"][0] == local(2026, 10, 8, 9, 0, 30)  # to the second, as in the XLSX


async def test_the_rejects_file_is_read_back_by_a_mapping_with_its_own_delimiter_and_encoding(sqlite_db, tmp_path):
    mapping_file = tmp_path / "m.yaml"
    mapping_file.write_text(
        (REPO / "playbooks/import/message-board.yaml")
        .read_text(encoding="utf-8")
        .replace("encoding: auto", "encoding: gb18030")
        .replace('delimiter: ","', 'delimiter: ";"'),
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_file)
    source = tmp_path / "board.csv"
    with source.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerow([row("1", time="不知道")[h] for h in HEADER])
    rejects = tmp_path / "rejects.csv"
    first = await import_ledger(sqlite_db, source, mapping, NOW, RULES, rejects=rejects)
    assert (first.imported, len(first.errors)) == (0, 1)
    rejects.write_text(rejects.read_text(encoding="utf-8-sig").replace("不知道", "2016/2/19 8:00:00"), "utf-8-sig")
    second = await import_ledger(sqlite_db, rejects, mapping, NOW, RULES)
    assert (second.imported, second.errors) == (1, [])


BIG5_ROWS = [row("1", title="請求增加地鐵站點", reply="已收到您的留言，我們將轉交相關部門研究"),
             row("2", title="城東街道的路燈已經壞了三個月", reply="已修復，感謝您的監督")]  # fmt: skip


async def test_a_big5_ledger_is_not_read_as_gb18030_gibberish(sqlite_db, tmp_path):
    source = write_csv(tmp_path / "big5.csv", BIG5_ROWS, encoding="big5")
    with pytest.raises(LedgerFileError) as caught:
        await import_ledger(sqlite_db, source, MAPPING, NOW, RULES)
    message = str(caught.value)
    assert "Big5" in message and "format:" in message and "encoding: big5" in message and "message-board" in message
    assert "請求增加地鐵站點" in message  # what the file says when read as Big5, to confirm
    async with sqlite_db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(incidents))).scalar_one() == 0
    from dataclasses import replace

    result = await import_ledger(sqlite_db, source, replace(MAPPING, encoding="big5"), NOW, RULES)
    assert (result.imported, result.errors) == (2, [])


async def test_a_big5_header_with_chinese_column_names_is_named_as_big5(sqlite_db, tmp_path):
    from dataclasses import replace

    from monitor.ledger.model import ColumnSpec

    mapping = replace(MAPPING, columns={"id": ColumnSpec("編號"), "received_at": ColumnSpec("收到時間")})
    source = tmp_path / "big5.csv"
    source.write_bytes("編號,收到時間\n1,2016/2/19 8:43:00\n".encode("big5"))
    with pytest.raises(LedgerFileError, match=r"Big5.*encoding: big5"):
        await import_ledger(sqlite_db, source, mapping, NOW, RULES)


async def test_gb18030_text_with_traditional_characters_is_still_read(sqlite_db, tmp_path):
    source = write_csv(tmp_path / "trad-gb.csv", BIG5_ROWS, encoding="gb18030")
    result = await import_ledger(sqlite_db, source, MAPPING, NOW, RULES)
    assert (result.imported, result.errors) == (2, [])


def test_the_media_type_comes_from_its_column_else_the_mapping_default():
    with_column = replace(MAPPING, columns={**MAPPING.columns, "media_type": ColumnSpec("渠道")})
    for written, expected in (("微博", MediaType.WEIBO), ("12345", MediaType.HOTLINE_12345), ("", MediaType.MAILBOX)):
        out = convert_row(with_column, 2, row() | {"渠道": written}, NOW, RULES)
        assert isinstance(out, ImportedIncident) and out.incident.media_type == expected
    out = convert_row(MAPPING, 2, row(), NOW, RULES)  # message-board.yaml: every row is a 信箱 message
    assert isinstance(out, ImportedIncident) and out.incident.media_type == MediaType.MAILBOX
    bad = convert_row(with_column, 5, row() | {"渠道": "电视"}, NOW, RULES)
    assert isinstance(bad, RowError) and bad.row == 5
    allowed = "网站、论坛、博客、微博、纸媒、微信、App、短视频、12345、信箱"
    assert bad.reason == f"渠道 列的媒体类型 '电视' 无法识别；可用：{allowed}（或留空）"


def test_a_wrong_default_media_type_names_the_line_and_the_choices(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("name: board\ncolumns: {id: a, received_at: b}\ndefaults:\n  media_type: 电视\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"m.yaml:4 defaults\.media_type: '电视' is not a media type") as caught:
        load_mapping(path)
    assert "website (网站)" in str(caught.value) and "mailbox (信箱)" in str(caught.value)


async def test_an_imported_media_type_is_stored_on_the_incident(db, tmp_path):
    path = write_csv(tmp_path / "board.csv", [row("1")])
    result = await import_ledger(db, path, MAPPING, NOW, RULES)
    assert result.imported == 1
    async with db.read() as conn:
        assert (await conn.execute(select(incidents.c.media_type))).scalar_one() == "mailbox"


ASSIGN_HEADER = ["部门", "交办时间", "认领时间", "退回理由"]


def _assignment_mapping():
    from dataclasses import replace

    from monitor.ledger.model import ColumnSpec

    columns = dict(MAPPING.columns) | {
        "owner_unit": ColumnSpec("部门", values={"水务局": "water"}),
        "assigned_at": ColumnSpec("交办时间"),
        "accepted_at": ColumnSpec("认领时间"),
        "returned_reason": ColumnSpec("退回理由"),
    }
    return replace(MAPPING, columns=columns)


def _wanbu_rules(tmp_path: Path) -> ImportRules:
    """The national rules plus a local one counted from 认领 (万埠镇: 认领后…)."""
    import os

    from monitor.policy.playbooks import load_policy

    path = tmp_path / "wanbu.yaml"
    path.write_text(
        f"version: 1\nextends: {os.path.relpath(REPO / 'playbooks/rules.yaml', tmp_path)}\n"
        "jurisdiction: 万埠镇（测试）\n"
        "add:\n  - {id: WANBU-VERIFY-2WD, title: 认领后2个工作日内形成核实调查报告, action: first_response,\n"
        "      clock: working_days, limit_d: 2, t0: accepted_at, applies_if: {requires_response: true},\n"
        "      met_by: [website_reply], ladder: standard, source: 万埠镇, status: L}\n",
        encoding="utf-8",
    )
    return ImportRules(load_policy(path).playbook, POLICY.calendar, ORG)


def assigned_row(assigned="2026/10/30 9:00:00", accepted="2026/10/30 10:30:00", returned="", **kw):
    base = row(time="2026/10/30 8:00:00", reply_time="", reply="", **kw)
    return base | dict(zip(ASSIGN_HEADER, ["水务局", assigned, accepted, returned], strict=True))


def test_assignment_columns_become_the_units_workflow(tmp_path):
    from monitor.domain import EventKind, IncidentStatus

    mapping, rules = _assignment_mapping(), _wanbu_rules(tmp_path)
    out = convert_row(mapping, 2, assigned_row(), NOW, rules)
    assert isinstance(out, ImportedIncident), out
    inc = out.incident
    assert (inc.status, inc.owner_unit) == (IncidentStatus.HANDLING, "water")
    assert (inc.assigned_at, inc.accepted_at) == (local(2026, 10, 30, 9), local(2026, 10, 30, 10, 30))
    kinds = {e.kind: e for e in out.events}
    assert (kinds[EventKind.ASSIGNED].at, kinds[EventKind.ASSIGNED].payload["unit"]) == (
        local(2026, 10, 30, 9),
        "water",
    )
    assert kinds[EventKind.ACCEPTED].at == local(2026, 10, 30, 10, 30)
    verify = next(o for o in out.obligations if o.rule_id == "WANBU-VERIFY-2WD")
    assert verify.t0 == local(2026, 10, 30, 10, 30)  # counted from 认领, as the local rule says
    # 交办 without 认领: waiting for the unit; the local rule counts from the 交办 until it accepts
    out = convert_row(mapping, 3, assigned_row(accepted=""), NOW, rules)
    assert isinstance(out, ImportedIncident)
    assert (out.incident.status, out.incident.accepted_at) == (IncidentStatus.ASSIGNED, None)
    assert next(o for o in out.obligations if o.rule_id == "WANBU-VERIFY-2WD").t0 == local(2026, 10, 30, 9)
    # 退回 without 认领: waiting for the duty officers to 改派, with the reason
    out = convert_row(mapping, 4, assigned_row(accepted="", returned=" 停水属供水公司 "), NOW, rules)
    assert isinstance(out, ImportedIncident)
    assert (out.incident.status, out.incident.returned_reason) == (IncidentStatus.REASSIGNED, "停水属供水公司")
    (returned,) = [e for e in out.events if e.kind == EventKind.RETURNED]
    assert returned.payload["reason"] == "停水属供水公司" and returned.payload["unit"] == "water"
    # answered: closed, the workflow times kept for the report
    answered = assigned_row() | {"reply": "已修复", "reply_time": "2026/10/30 18:00:00"}
    out = convert_row(mapping, 5, answered, NOW, rules)
    assert isinstance(out, ImportedIncident)
    assert (out.incident.status, out.incident.accepted_at) == (IncidentStatus.CLOSED, local(2026, 10, 30, 10, 30))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"部门": ""}, "有交办时间但没有责任单位"),
        ({"交办时间": "2026/10/30 7:00:00"}, "交办时间 2026-10-30 07:00 早于收到时间 2026-10-30 08:00"),
        ({"认领时间": "2026/10/30 8:30:00"}, "认领时间 2026-10-30 08:30 早于交办时间 2026-10-30 09:00"),
        ({"认领时间": "2026/11/2 9:00:00"}, "认领时间 2026-11-02 09:00 晚于导入时间"),
        ({"交办时间": "下午"}, "交办时间 列的时间 '下午' 无法识别"),
        ({"退回理由": "不属本单位"}, "同时填写了认领时间和退回理由"),
        ({"交办时间": "", "认领时间": "", "退回理由": "不属本单位", "部门": ""}, "有退回理由但没有责任单位"),
    ],
)
def test_assignment_columns_that_cannot_be_right_say_why(changes, reason, tmp_path):
    out = convert_row(_assignment_mapping(), 9, assigned_row() | changes, NOW, RULES)
    assert isinstance(out, RowError) and reason in out.reason, out


def test_a_date_only_assignment_is_never_before_the_step_it_follows():
    out = convert_row(_assignment_mapping(), 2, assigned_row(assigned="2026/10/30", accepted="2026/10/30"), NOW, RULES)
    assert isinstance(out, ImportedIncident), out
    received = local(2026, 10, 30, 8)  # the earliest instant the ledger allows: the receipt itself
    assert (out.incident.assigned_at, out.incident.accepted_at) == (received, received)


async def test_imported_assignment_columns_are_stored(db, tmp_path):
    from monitor.domain import EventKind
    from monitor.storage.repo.incidents import get_incident

    path = tmp_path / "ledger.csv"
    rows = [assigned_row(), assigned_row(msg_id="2", accepted="", returned="属供水公司")]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER + ASSIGN_HEADER)
        writer.writerows([[r[h] for h in HEADER + ASSIGN_HEADER] for r in rows])
    result = await import_ledger(db, path, _assignment_mapping(), NOW, RULES)
    assert (result.imported, result.errors) == (2, [])
    async with db.read() as conn:
        first, second = await get_incident(conn, result.first_id), await get_incident(conn, result.last_id)
        kinds = [e.kind for e in await list_events(conn, second.id)]
    assert (first.assigned_at, first.accepted_at, first.returned_reason) == (
        local(2026, 10, 30, 9), local(2026, 10, 30, 10, 30), None,
    )  # fmt: skip
    assert (second.accepted_at, second.returned_reason) == (None, "属供水公司")
    assert EventKind.ASSIGNED in kinds and EventKind.RETURNED in kinds

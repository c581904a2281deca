"""舆情回应台账 export: one row per incident detected in a range of days, every DOMAIN.md §4.4
field the data holds (`monitor export-ledger`, and the download on the web reports page).

    dates = DateRange.parse("2026-10-01", "2026-10-31")      # Asia/Shanghai days, both included
    result = await export_ledger(db, dates, cutoff, names, "xlsx", Path("ledger.xlsx"))

Which incidents: those detected (监测发现时间) in the range and known at the cut-off, like the
monthly report's 舆情数, without those judged not 政务舆情 and those merged into another (counted
in the result and the 说明). Incidents are read and written `batch` at a time (bounded memory for
any number of incidents); the file appears complete or not at all.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from monitor.clock import SHANGHAI
from monitor.domain import IncidentStatus
from monitor.reports.build.labels import Names
from monitor.reports.ledger_export.columns import (
    EXCLUDED_STATUSES,
    is_excluded,
    ledger_columns,
    ledger_row,
    rule_order,
)
from monitor.reports.ledger_export.writers import FORMATS, LedgerWriter, open_writer
from monitor.reports.render.cells import local_minute
from monitor.storage.db import Database
from monitor.storage.repo import ledger_export as repo

__all__ = ["FORMATS", "DateRange", "LedgerExport", "LedgerRangeError", "export_ledger"]

BATCH = repo.BATCH
TITLE = "舆情回应台账"
NOT_HELD = "统筹协调单位、附件"


class LedgerRangeError(ValueError):
    """Dates a person gave that cannot be used; str() for the command line, `.zh` for the web."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        self.zh = zh


@dataclass(frozen=True, slots=True)
class DateRange:
    """Days in Asia/Shanghai, first and last both included."""

    first: date
    last: date

    @classmethod
    def parse(cls, first: str, last: str) -> DateRange:
        start, end = _day(first, "--from", "起始日期"), _day(last, "--to", "截止日期")
        if end < start:
            raise LedgerRangeError(
                f"--to {end} is before --from {start}; give the first day, then the last",
                f"截止日期 {end} 早于起始日期 {start}，请先选起始日期，再选截止日期。",
            )
        return cls(start, end)

    @property
    def start(self) -> datetime:
        """00:00 of the first day, Beijing time, as a UTC instant (inclusive)."""
        return datetime.combine(self.first, datetime.min.time(), SHANGHAI).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """00:00 of the day after the last, Beijing time, as a UTC instant (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), SHANGHAI).astimezone(UTC)

    @property
    def key(self) -> str:
        return f"{self.first}_{self.last}"

    @property
    def label(self) -> str:
        return f"{self.first} 至 {self.last}"


def _day(text: str, flag: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise LedgerRangeError(
            f"{flag} {text!r} is not a date; write YYYY-MM-DD, e.g. 2026-10-01",
            f"{name}「{text}」不是有效日期，请按 年-月-日 填写，例如 2026-10-01。",
        ) from None


@dataclass
class LedgerExport:
    """What an export wrote: the file, its rows, and the incidents of the range it left out."""

    path: Path
    dates: DateRange
    cutoff: datetime
    rows: int = 0
    excluded: dict[str, int] = field(default_factory=dict)  # IncidentStatus value -> incidents

    def scope(self) -> str:
        """Which incidents the file holds, in words (the 说明, the command's output, the web page)."""
        left_out = "、".join(f"{EXCLUDED_STATUSES[IncidentStatus(s)]}的 {n} 起" for s, n in self.excluded.items() if n)
        return (
            f"监测发现时间在 {self.dates.label}（北京时间，含首尾两日）的舆情，共 {self.rows} 起"
            + (f"；不含{left_out}" if left_out else "")
            + f"。数据截至 {local_minute(self.cutoff)}（北京时间）。"
        )


def file_name(dates: DateRange, fmt: str, unit: str | None = None) -> str:
    """ledger-2026-10-01_2026-10-31[-<unit>].xlsx (ASCII: safe in mail attachments and URLs)."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in unit or "")
    return f"ledger-{dates.key}" + (f"-{safe}" if safe else "") + f".{fmt}"


def display_name(dates: DateRange, fmt: str, unit_name: str | None = None) -> str:
    """舆情回应台账（2026-10-01至2026-10-31）.xlsx, with the unit's name when only one unit's."""
    return f"{TITLE}（{unit_name + '，' if unit_name else ''}{dates.first}至{dates.last}）.{fmt}"


def definitions(result: LedgerExport) -> list[str]:
    return [
        result.scope(),
        "一行一起舆情。时间均为北京时间；“首发时间”为最早一篇关联稿件的发布时间，“发现时间”为监测发现时间，"
        "“事发时间”为突发事件发生时间（有记录时）。",
        "“来源”“媒体类型”“原文链接”取自最早发布的一篇关联稿件；媒体类型为其信息源设置的类型，信息源未设置时"
        "按地址和名称推断（信息源页注明“推断”）；历史台账导入的舆情取台账所填的媒体类型。",
        "“时限：…”各列为各项回应/报告时限截至数据截至时点的履行情况：按时履行、逾期履行、超期未履行、暂停计时、"
        "未到期或已取消（与月度报告的统计口径一致）；持续发布等多次时限按次列出。",
        "“首次回应”为发布时间最早的一次公开回应；“回应记录”“信息报告记录”“提醒与督办”“督办”“处置过程摘要”按时间顺序列出，"
        "超过 30 条时列前 30 条并注明总数。",
        "“平息时间”“满意度”“负面占比”“评估意见”为截至数据截至时点最近一次登记的效果评估（更正以最后一次为准），"
        "未登记的在“满意度”列注明“未评估”；“平息时长”为自关联稿件量高峰的起点（登记评估时计算的高峰小时整点，"
        "早期按日统计登记的为高峰日 0 时，北京时间）至平息时间的小时数。"
        "“归档时间”“归档人”为已归档事件的归档记录；已归档的事件照常列入台账。",
        "“提醒与督办”为时限引擎按督办阶梯自动发出的提醒；“督办”为政府办（督查）人工作出的提醒、催办、督办、通报"
        "（时间、方式、督办人、被督办单位与事由）。",
        f"系统未记录、因此本台账未列出的字段：{NOT_HELD}。",
    ]


async def export_ledger(
    db: Database,
    dates: DateRange,
    cutoff: datetime,
    names: Names,
    fmt: str,
    out: Path,
    *,
    unit: str | None = None,
    unit_name: str | None = None,
    batch: int = BATCH,
) -> LedgerExport:
    """Write the ledger of `dates` as it stood at `cutoff` to `out` (replaced only when complete)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown ledger format {fmt!r}; use one of {', '.join(FORMATS)}")
    if cutoff < dates.start:
        raise LedgerRangeError(
            f"the range {dates.label} has not begun at the cut-off {cutoff.isoformat()}; choose earlier dates",
            f"{dates.label} 尚未开始（数据截至 {local_minute(cutoff)}），请选择更早的日期。",
        )
    result = LedgerExport(out, dates, cutoff, excluded={s.value: 0 for s in EXCLUDED_STATUSES})
    partial = out.with_name(f".{out.name}.partial")
    async with db.read() as conn:
        rule_ids = rule_order(await repo.ledger_rule_ids(conn, dates.start, dates.end, cutoff, unit))
        columns = ledger_columns(rule_ids, names)
        writer = open_writer(fmt, partial, columns, TITLE, cutoff)
        try:
            async for records in repo.stream_ledger(conn, dates.start, dates.end, cutoff, unit, batch=batch):
                await asyncio.to_thread(_write_batch, writer, records, rule_ids, names, result)
            facts = [("范围", dates.label + "（北京时间）"), ("数据截至", f"{local_minute(cutoff)}（北京时间）")]
            facts += [("责任单位", unit_name or unit)] if unit else []
            await asyncio.to_thread(writer.finish, TITLE, [*facts, ("舆情数", str(result.rows))], definitions(result))
        except BaseException:
            writer.abort()
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, out)
    return result


def _write_batch(
    writer: LedgerWriter,
    records: Sequence[repo.LedgerRecord],
    rule_ids: Sequence[str],
    names: Names,
    result: LedgerExport,
) -> None:
    """One batch: rows built and handed to the writer (in a worker thread: the CPU-bound part)."""
    rows = []
    for record in records:
        if is_excluded(record):
            result.excluded[record.incident.status.value] += 1
        else:
            rows.append(ledger_row(record, rule_ids, names, result.cutoff))
    writer.append(rows)
    result.rows += len(rows)

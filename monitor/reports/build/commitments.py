"""十二、承诺兑现 (DOMAIN.md §5.2, 岳阳 台账管理: "认真核查已作出的承诺落实及公开情况").

承诺兑现率 = commitments fulfilled and made public by the cut-off ÷ commitments due (their deadline,
the end of the promised day, in the month and not after the cut-off). A fulfilment is recorded only
with the URL where it was made public, so every fulfilled commitment counts as disclosed. 按期兑现率
counts those fulfilled by their deadline. Commitments falling due after the cut-off are listed as
未到期 and counted in neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.domain.reporting import CommitmentFacts
from monitor.reports.build.labels import Names
from monitor.reports.build.model import Column, Kind, Section, Table, ratio, rounded

DEFINITION = (
    "承诺兑现率 = 已兑现并公开的承诺 ÷ 到期承诺。到期承诺：回应中登记的承诺事项，完成日期（北京时间当日 24 时前，"
    "经批准暂停的顺延）在统计周期内且不晚于统计时点；已兑现并公开：统计时点前登记了兑现情况及其公开链接"
    "（逾期兑现的也计入，另计按期兑现率 = 按期兑现的 ÷ 到期承诺）。完成日期在统计时点之后的列为未到期，不计入。"
    "兑现率不计入回应及时率。"
)


def state(c: CommitmentFacts, cutoff: datetime) -> str:
    if c.fulfilled_at is not None:
        return "按期兑现" if c.fulfilled_at <= c.due_at else "逾期兑现"
    return "未兑现（已超期）" if c.due_at <= cutoff else "未到期"


def counts(found: Sequence[CommitmentFacts], cutoff: datetime) -> tuple[int, int, int]:
    """(due by the cut-off, fulfilled and disclosed, fulfilled on time) among the month's commitments."""
    due = [c for c in found if c.due_at <= cutoff]
    fulfilled = [c for c in due if c.fulfilled_at is not None]
    on_time = [c for c in fulfilled if c.fulfilled_at is not None and c.fulfilled_at <= c.due_at]
    return len(due), len(fulfilled), len(on_time)


def commitments_section(found: Sequence[CommitmentFacts], cutoff: datetime, names: Names) -> Section:
    due, fulfilled, on_time = counts(found, cutoff)
    rate, timely = ratio(fulfilled, due), ratio(on_time, due)
    pending = sum(1 for c in found if c.due_at > cutoff)
    summary = Table(
        "commitments_summary",
        "承诺兑现",
        (Column("due", "到期承诺", Kind.INT), Column("fulfilled", "已兑现并公开", Kind.INT),
         Column("on_time", "其中按期兑现", Kind.INT), Column("unfulfilled", "未兑现", Kind.INT),
         Column("rate", "承诺兑现率", Kind.PCT), Column("on_time_rate", "按期兑现率", Kind.PCT)),
        ((due, fulfilled, on_time, due - fulfilled, rate, timely),),
    )  # fmt: skip
    columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("title", "标题"),
        Column("unit", "责任单位"),
        Column("number", "承诺编号", Kind.ID),
        Column("text", "承诺事项"),
        Column("due_at", "完成期限", Kind.TIME),
        Column("fulfilled_at", "兑现时间", Kind.TIME),
        Column("disclosed_url", "公开链接"),
        Column("state", "兑现情况"),
    )
    rows = tuple(
        (c.incident_id, c.title, names.unit(c.owner_unit), c.number, c.text, c.due_at, c.fulfilled_at,
         c.disclosed_url, state(c, cutoff))
        for c in found
    )  # fmt: skip
    text = (
        f"本月到期的承诺事项 {due} 项，已兑现并公开 {fulfilled} 项（其中按期 {on_time} 项），"
        f"承诺兑现率 {_pct(rate)}，按期兑现率 {_pct(timely)}。"
        + (f"另有 {pending} 项本月晚些时候到期，截至统计时点尚未到期。" if pending else "")
        if found
        else "本月没有到期的承诺事项（回应中登记的承诺事项按其完成日期统计）。"
    )
    listing = Table("commitments", "承诺事项清单", columns, rows, long_list=True)
    return Section("commitments", "承诺兑现", (text,), (summary, listing))


def commitments_json(found: Sequence[CommitmentFacts], cutoff: datetime) -> dict[str, Any]:
    due, fulfilled, on_time = counts(found, cutoff)
    return {
        "commitments": {
            "due": due,
            "fulfilled": fulfilled,
            "on_time": on_time,
            "rate": rounded(ratio(fulfilled, due), 4),
            "on_time_rate": rounded(ratio(on_time, due), 4),
            "not_yet_due": sum(1 for c in found if c.due_at > cutoff),
        }
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"

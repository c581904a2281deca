"""Response details, 承诺事项 and 谣言移交 (DOMAIN.md §4.4): the closed lists and the commitment ledger.

A response may make public commitments (承诺事项, each with a due date). 岳阳's 台账管理 asks that
"已作出的承诺落实及公开情况" be checked, so each commitment is an obligation of its own: met when
its fulfilment is recorded with the URL where the fulfilment was made public. Commitments are
numbered 1, 2, … in the order the incident's append-only timeline records them, so the numbers
never change once given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from monitor.domain.events import EventKind, IncidentEvent

COMMITMENT_RULE_ID = "PRJ-COMMITMENT"  # the obligation of every open commitment (rule id in obligations)
_LOCAL = ZoneInfo("Asia/Shanghai")
_END_OF_DAY = time(23, 59, 59)
LABEL_CHARS = 40  # of a commitment's text where it names the commitment (choices, the deadlines panel)


class ResponseChannel(StrEnum):
    """发布渠道 of a public response (DOMAIN.md §4.4 responses[].channel). A closed list with 其他."""

    GOV_WEBSITE = "gov_website"  # 政府网站
    GOV_WEIBO = "gov_weibo"  # 政务微博
    GOV_WECHAT = "gov_wechat"  # 政务微信（公众号）
    GOV_APP = "gov_app"  # 政务客户端
    GOV_SHORT_VIDEO = "gov_short_video"  # 政务短视频（抖音、快手等政务号）
    PRESS_CONFERENCE = "press_conference"  # 新闻发布会
    MEDIA_INTERVIEW = "media_interview"  # 媒体采访
    NEWS_MEDIA = "news_media"  # 报刊、广播电视等新闻媒体
    ONLINE_INTERVIEW = "online_interview"  # 在线访谈
    OTHER = "other"  # 其他

    @property
    def label(self) -> str:
        return _CHANNEL_LABELS[self]

    @classmethod
    def from_label(cls, text: str) -> ResponseChannel:
        """The channel a ledger names in words (政务微博); ValueError when it names none."""
        for member, name in _CHANNEL_LABELS.items():
            if name == text.strip():
                return member
        raise ValueError(text)


_CHANNEL_LABELS = {
    ResponseChannel.GOV_WEBSITE: "政府网站",
    ResponseChannel.GOV_WEIBO: "政务微博",
    ResponseChannel.GOV_WECHAT: "政务微信",
    ResponseChannel.GOV_APP: "政务客户端",
    ResponseChannel.GOV_SHORT_VIDEO: "政务短视频",
    ResponseChannel.PRESS_CONFERENCE: "新闻发布会",
    ResponseChannel.MEDIA_INTERVIEW: "媒体采访",
    ResponseChannel.NEWS_MEDIA: "报刊广电",
    ResponseChannel.ONLINE_INTERVIEW: "在线访谈",
    ResponseChannel.OTHER: "其他",
}


class RumorAgency(StrEnum):
    """Where a rumour is referred (国办发〔2016〕61号: 涉谣言的移交公安、网信部门依法处置)."""

    POLICE = "police"  # 公安机关
    CYBERSPACE = "cyberspace"  # 网信部门
    OTHER = "other"  # 其他主管部门（在备注中写明）

    @property
    def label(self) -> str:
        return _AGENCY_LABELS[self]


_AGENCY_LABELS = {RumorAgency.POLICE: "公安机关", RumorAgency.CYBERSPACE: "网信部门", RumorAgency.OTHER: "其他部门"}


def channel_label(value: Any) -> str:
    """The zh-CN name of a stored 发布渠道, or the value itself when it is not (or no longer) a member."""
    try:
        return ResponseChannel(str(value)).label
    except ValueError:
        return str(value or "")


def agency_label(value: Any) -> str:
    """The zh-CN name of a stored 移交部门, or the value itself."""
    try:
        return RumorAgency(str(value)).label
    except ValueError:
        return str(value or "")


@dataclass(frozen=True, slots=True)
class Commitment:
    """承诺事项 made in a response: what was promised, and by which day (Beijing date)."""

    text: str
    due: date

    def to_payload(self) -> dict[str, str]:
        return {"text": self.text, "due": self.due.isoformat()}


def due_at(due: date) -> datetime:
    """A commitment due on a day is due at the end of that day, Beijing time."""
    return datetime.combine(due, _END_OF_DAY, tzinfo=_LOCAL)


@dataclass(frozen=True, slots=True)
class CommitmentRecord:
    """One commitment as the timeline tells it: made by a response, perhaps fulfilled since."""

    number: int  # 1, 2, … in timeline order
    text: str
    due: date
    recorded_at: datetime  # when the response that made it was recorded
    response_seq: int
    fulfilled_at: datetime | None = None  # when it was fulfilled (a date the person gave)
    disclosed_url: str | None = None  # where the fulfilment was made public
    fulfilled_seq: int = 0
    fulfilled_by: str | None = None
    note: str = ""

    @property
    def due_at(self) -> datetime:
        return due_at(self.due)

    @property
    def label(self) -> str:
        """How people name it: 承诺 #2：公布调查结果（10-20 前）."""
        text = self.text if len(self.text) <= LABEL_CHARS else self.text[:LABEL_CHARS] + "…"
        return f"承诺 #{self.number}：{text}（{self.due:%m-%d} 前）"

    @property
    def fulfilled(self) -> bool:
        return self.fulfilled_at is not None

    @property
    def on_time(self) -> bool:
        return self.fulfilled_at is not None and self.fulfilled_at <= self.due_at


def commitments_of(events: Iterable[IncidentEvent]) -> list[CommitmentRecord]:
    """Every commitment an incident's timeline records, in order, with its first fulfilment.

    A merge carries the merged incident's responses and fulfilments over (`merged_from`): its
    commitments get the next numbers here, and a carried fulfilment (numbered as on the merged
    incident) finds its commitment through `origins`."""
    found: list[CommitmentRecord] = []
    origins: dict[tuple[Any, int], int] = {}  # (merged_from, number there) -> number here
    carried: dict[Any, int] = {}  # merged_from -> commitments carried from it so far
    for e in events:
        if e.kind == EventKind.RESPONSE_RECORDED:
            source = e.payload.get("merged_from")
            for item in e.payload.get("commitments") or ():
                try:
                    due = date.fromisoformat(str(item["due"]))
                except (KeyError, TypeError, ValueError):
                    continue  # a hand-made payload without a readable due date makes no commitment
                number = len(found) + 1
                found.append(CommitmentRecord(number, str(item.get("text") or ""), due, e.at, e.seq or 0))
                if source is not None:
                    carried[source] = carried.get(source, 0) + 1
                    origins[(source, carried[source])] = number
        elif e.kind == EventKind.COMMITMENT_FULFILLED:
            _fulfil(found, e, origins)
    return found


def _fulfil(found: list[CommitmentRecord], e: IncidentEvent, origins: dict[tuple[Any, int], int]) -> None:
    p = e.payload
    number = int(p.get("number") or 0)
    if p.get("merged_from") is not None:
        number = origins.get((p["merged_from"], number), 0)
    index = number - 1
    if not 0 <= index < len(found) or found[index].fulfilled:
        return  # the handler refuses these; other writers of the timeline cannot fulfil twice
    fulfilled = _instant(p.get("fulfilled_at")) or e.at
    found[index] = replace(
        found[index],
        fulfilled_at=fulfilled,
        disclosed_url=str(p.get("disclosed_url") or "") or None,
        fulfilled_seq=e.seq or 0,
        fulfilled_by=e.actor,
        note=str(p.get("note") or ""),
    )


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_LOCAL)

"""Domain commands: every human (or automatic) action on an incident (docs/contracts.md §2).

Each is a frozen dataclass with `incident_id`, `actor` (username or person id) and `at` (an
aware datetime: when it happened). `monitor.engine.commands.execute(services, command)` runs
one in a transaction and returns what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.domain.commitments import Commitment, ResponseChannel, RumorAgency
from monitor.domain.enums import EventLevel, EventType, OpinionLevel, ReportKind, ResponseKind


class ReportChannel:
    """How a 信息报告 was made (国务院应急办 2015: 电话报告 / 书面报告)."""

    PHONE = "phone"  # 电话
    WRITTEN = "written"  # 书面
    ALL = (PHONE, WRITTEN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    incident_id: int
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirm(Command):
    """研判确认为需处置的政务舆情: snapshots the playbook and opens the obligations."""

    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dismiss(Command):
    """判定为非政务舆情."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Merge(Command):
    """并入另一事件 (its obligations are cancelled here; the other incident carries on)."""

    into_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Split(Command):
    """把若干稿件拆分为新事件."""

    item_ids: tuple[int, ...]
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reassign(Command):
    """改派第一责任单位: the new unit is 交办'd at once (it must 认领 again)."""

    owner_unit: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Accept(Command):
    """认领: the owning unit takes the incident on; a duty officer may record it on the unit's behalf.

    `units`: the units the acting person handles (a unit handler's own unit), or None when a duty
    officer acts on the owning unit's behalf. The engine refuses when the owning unit is not among them.
    """

    note: str = ""
    units: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Return(Command):
    """退回: the owning unit says the incident is not its business (reason required); duty officers 改派."""

    reason: str
    units: tuple[str, ...] | None = None  # as for Accept


@dataclass(frozen=True, slots=True, kw_only=True)
class Regrade(Command):
    """调整级别: raising adds stricter obligations with the ORIGINAL t0; lowering cancels the extra ones."""

    reason: str
    event_level: EventLevel | None = None
    opinion_level: OpinionLevel | None = None
    requires_response: bool | None = None  # None: unchanged
    clear_event_level: bool = False  # set the event level to none (not a 突发事件)
    event_type: EventType | None = None  # 更正事件类别 (a classifier correction; deadlines do not depend on it)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetOccurredAt(Command):
    """登记/更正事发时间: the t0 of the emergency clocks (5 h release, 24 h press conference, 30 min / 1 h
    reports); their deadlines move, and one already passed is breached (DESIGN.md §3, retroactive)."""

    occurred_at: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordResponse(Command):
    """登记一次公开回应. Evidence is required: a URL or a document reference, and who approved it."""

    kind: ResponseKind
    approved_by: str
    url: str | None = None
    document: str | None = None  # e.g. 文号 or file name of the release
    published_at: datetime | None = None  # default: `at`
    summary: str = ""
    spokesperson: str = ""  # 发布人/新闻发言人 (who spoke or published)
    channel: ResponseChannel | None = None  # 发布渠道 (None: not given)
    commitments: tuple[Commitment, ...] = ()  # 承诺事项 made in this response, each with a due date


@dataclass(frozen=True, slots=True, kw_only=True)
class FulfilCommitment(Command):
    """登记承诺兑现: the commitment (by its number) was fulfilled and the fulfilment made public at a URL."""

    number: int
    disclosed_url: str
    fulfilled_at: datetime | None = None  # default: `at`
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferRumor(Command):
    """谣言移交 (国办发〔2016〕61号): the rumour was referred to 公安/网信 for handling under the law."""

    to: RumorAgency
    referred_at: datetime | None = None  # default: `at`
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordReport(Command):
    """登记首报/续报/终报."""

    report_kind: ReportKind
    channel: str  # ReportChannel.PHONE | ReportChannel.WRITTEN
    signer: str
    reported_at: datetime | None = None  # default: `at`


@dataclass(frozen=True, slots=True, kw_only=True)
class Acknowledge(Command):
    """确认收到提醒: stops repeats of the current escalation phase (one rule, or all when None)."""

    rule_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestPause(Command):
    """申请暂停计时 (needs a second person's approval)."""

    rule_id: str
    until: datetime
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovePause(Command):
    """批准暂停 (the approver must not be the requester). `actor` is the approver."""

    request_seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectPause(Command):
    request_seq: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachRule(Command):
    """Attach a manual rule (e.g. GB2014-WEB-SUGGESTION-7WD) from `t0` (default: detection)."""

    rule_id: str
    reason: str = ""
    t0: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendDeadline(Command):
    """延期 to the rule's extension limit (e.g. 7 → 15 working days), approved by someone."""

    rule_id: str
    reason: str
    approved_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddNote(Command):
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Close(Command):
    """办结: recurring obligations stop; deadlines not yet due are cancelled; breaches stay on record."""

    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reopen(Command):
    reason: str

"""Domain commands: every human (or automatic) action on an incident (docs/contracts.md §2).

Each is a frozen dataclass with `incident_id`, `actor` (username or person id) and `at` (an
aware datetime: when it happened). `monitor.engine.commands.execute(services, command)` runs
one in a transaction and returns what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.domain.commitments import Commitment, ResponseChannel, RumorAgency
from monitor.domain.enums import EventLevel, EventType, OpinionLevel, ReportKind, ResponseKind, SupervisionLevel
from monitor.domain.evaluation import Satisfaction


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
class SetRegion(Command):
    """更正属地: the incident's locality (a township/subdistrict unit id). Per 属地管理 (61号), an
    owning unit that was the former locality follows to the new one by 改派 (交办'd at once)."""

    region: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachItem(Command):
    """并入已有事件: a person adds a stored item that is in no incident to this (open) incident."""

    item_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenFromItem:
    """从稿件手动立案: a person opens an incident from a stored item that is in no incident.

    Not a `Command` (there is no incident yet): `monitor.engine.open_item.open_from_item` runs it.
    Unset choices take the classifier's outputs for the item; `occurred_at` (事发时间) is optional.
    The incident is confirmed at once (a person has judged it), with t0 = the item's detection.
    """

    item_id: int
    actor: str
    at: datetime
    reason: str
    title: str | None = None
    event_type: EventType | None = None
    event_level: EventLevel | None = None
    clear_event_level: bool = False  # not a 突发事件, whatever the classifier said
    opinion_level: OpinionLevel | None = None
    region: str | None = None
    owner_unit: str | None = None
    occurred_at: datetime | None = None


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
    instance: int | None = None  # one obligation of a rule with several (承诺 #n); None: every one of the rule


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestPause(Command):
    """申请暂停计时 (needs a second person's approval)."""

    rule_id: str
    until: datetime
    reason: str
    instance: int | None = None  # one obligation of a rule with several (承诺 #n); None: the rule


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
class DismissCitizenPrompt(Command):
    """不设市民来信答复时限: the 12345/信箱 message needs neither 7 nor 15 working days (reason kept)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendDeadline(Command):
    """延期 to the rule's extension limit (e.g. 7 → 15 working days), approved by someone."""

    rule_id: str
    reason: str
    approved_by: str
    instance: int | None = None  # one obligation of a rule with several; None: the rule


@dataclass(frozen=True, slots=True, kw_only=True)
class Supervise(Command):
    """政府办督查: 提醒/催办/督办/通报 the owning unit (DOMAIN.md §1.5, §4.4 `supervision[]`).

    `by`: who issues it as it is signed (e.g. 市政府办公室督查科 蒋文博); `actor` is the account.
    The owning unit's people are told once; the incident is 督办中 until the next response.
    """

    level: SupervisionLevel
    reason: str
    by: str


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


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordEvaluation(Command):
    """效果评估: 舆情平息时间, 回应前/后负面占比 (%, when known), 满意度, notes. Allowed once the incident
    has a public response or is closed; a later one corrects the earlier (both stay on the timeline)."""

    subsided_at: datetime
    satisfaction: Satisfaction
    negative_before: int | None = None
    negative_after: int | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Archive(Command):
    """归档 a closed incident: it leaves the default views, stays in reports and the ledger, and cannot be
    reopened (a new wave of the same opinion is a new incident)."""

    reason: str = ""

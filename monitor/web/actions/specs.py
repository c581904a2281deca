"""The actions people take on an incident, one per domain command (docs/contracts.md §2).

Each spec names the command, its URL slug, who may use it and its fields. Field names are the
command's keyword arguments, so the dispatcher can build `monitor.domain.commands.<command>`
from validated values without a translation table.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.web.auth.permissions import Permission


@dataclass(frozen=True)
class FieldSpec:
    name: str  # form field name = command keyword argument
    label: str  # zh-CN
    kind: str  # text | textarea | choice | multi | int | percent | datetime | url | file | commitments
    required: bool = True
    max_length: int = 2000
    choices: str | None = None  # name of a choice list (see forms.choices)
    future: bool | None = None  # datetime: must be in the future (True) / not in the future (False)
    help: str = ""


@dataclass(frozen=True)
class ActionSpec:
    command: str  # domain command class name
    slug: str  # /incidents/{id}/actions/{slug} and /api/incidents/{id}/{slug}
    label: str  # zh-CN button text
    permission: Permission
    fields: tuple[FieldSpec, ...] = ()
    description: str = ""


REASON = FieldSpec("reason", "原因", "textarea", max_length=1000)

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "Confirm",
        "confirm",
        "确认为政务舆情",
        Permission.ACT_TRIAGE,
        (FieldSpec("note", "研判意见", "textarea", required=False, max_length=1000),),
        description="确认后锁定处置规则并按事发/发现时间开始计时。",
    ),
    ActionSpec(
        "Dismiss",
        "dismiss",
        "排除（非政务舆情）",
        Permission.ACT_TRIAGE,
        (REASON,),
        description="排除结果将作为纠错样本用于研判模型再训练；相关时限随之取消。",
    ),
    ActionSpec(
        "Merge",
        "merge",
        "合并到其他事件",
        Permission.ACT_TRIAGE,
        (FieldSpec("into_id", "目标事件编号", "int"),),
        description="本事件的时限取消，由目标事件继续计时。",
    ),
    ActionSpec(
        "Split",
        "split",
        "拆分出新事件",
        Permission.ACT_TRIAGE,
        (
            FieldSpec("item_ids", "要拆出的稿件", "multi", choices="item"),
            FieldSpec("title", "新事件标题", "text", max_length=200),
        ),
    ),
    ActionSpec(
        "Reassign",
        "reassign",
        "改派责任单位",
        Permission.ACT_TRIAGE,
        (
            FieldSpec("owner_unit", "新的责任单位", "choice", choices="unit"),
            REASON,
        ),
        description="改派即向新单位交办：新单位立即收到交办提醒并须认领，原单位尚未发出的提醒停止。"
        "改派结果将作为纠错样本用于研判模型再训练。",
    ),
    ActionSpec(
        "Accept",
        "accept",
        "认领",
        Permission.ACT_ACCEPT,
        (FieldSpec("note", "认领意见", "textarea", required=False, max_length=1000),),
        description="责任单位确认由本单位处置，事件转入处置中；值班员可代责任单位认领。"
        "只有责任单位的处置人和值班员可以认领。",
    ),
    ActionSpec(
        "Return",
        "return",
        "退回（非本单位职责）",
        Permission.ACT_ACCEPT,
        (
            FieldSpec(
                "reason",
                "退回理由",
                "textarea",
                max_length=1000,
                help="说明为何不属于本单位职责，以及建议由哪个单位处置",
            ),
        ),
        description="退回后事件显示为「退回待改派」，值班员收到提醒并改派；改派前各项时限照常计算。",
    ),
    ActionSpec(
        "Regrade",
        "regrade",
        "调整级别/类别",
        Permission.ACT_TRIAGE,
        (
            FieldSpec("event_level", "突发事件级别", "choice", required=False, choices="event_level"),
            FieldSpec("opinion_level", "舆情级别", "choice", required=False, choices="opinion_level"),
            FieldSpec("event_type", "事件类别", "choice", required=False, choices="event_type"),
            FieldSpec("requires_response", "是否需要回应", "choice", required=False, choices="requires_response"),
            REASON,
        ),
        description="升级时按原始起算时间补充更严格的时限；降级取消多出的时限并记录原因。"
        "级别与类别的更正将作为纠错样本用于研判模型再训练。",
    ),
    ActionSpec(
        "SetOccurredAt",
        "occurred-at",
        "登记/更正事发时间",
        Permission.ACT_TRIAGE,
        (
            FieldSpec("occurred_at", "事发时间", "datetime", future=False, help="北京时间；不能晚于本事件的发现时间"),
            FieldSpec("reason", "依据/原因", "textarea", max_length=1000, help="如：据现场报告或单位首报"),
        ),
        description="突发事件的发布权威信息（5小时）、新闻发布会（24小时）和信息报告（30分钟/1小时）"
        "从事发时间起算：登记或更正后这些时限随之重算，已过的时限立即记为超期并提醒。",
    ),
    ActionSpec(
        "SetRegion",
        "region",
        "更正属地",
        Permission.ACT_TRIAGE,
        (
            FieldSpec("region", "属地（镇、街道）", "choice", choices="region"),
            FieldSpec("reason", "依据/原因", "textarea", max_length=1000, help="如：经核实，事发地位于…"),
        ),
        description="按属地管理，责任单位是原属地的，随属地改派给新属地并立即交办，原属地尚未发出的提醒停止；"
        "责任单位是市直部门的不变。更正结果将作为纠错样本记录。",
    ),
    ActionSpec(
        "AttachItem",
        "attach-item",
        "并入稿件",
        Permission.ACT_TRIAGE,
        (
            FieldSpec("item_id", "稿件编号", "int", help="见「采集稿件」列表；稿件须未归入任何事件"),
            FieldSpec("reason", "并入理由", "textarea", max_length=1000),
        ),
        description="把系统未归入本事件的稿件人工并入：传播范围与最早发布时间随之更新，时限重新核算；"
        "稿件的「相关」判定将作为纠错样本用于研判模型再训练。",
    ),
    ActionSpec(
        "RecordResponse",
        "responses",
        "登记回应",
        Permission.ACT_RESPOND,
        (
            FieldSpec("kind", "回应方式", "choice", choices="response_kind"),
            FieldSpec("url", "回应链接", "url", required=False, max_length=2000),
            FieldSpec(
                "document",
                "回应文件",
                "file",
                required=False,
                help="链接与文件至少提供一项；文件限 PDF、OFD、Word、Excel、PNG/JPEG 图片或纯文本",
            ),
            FieldSpec("approved_by", "审批人", "text", max_length=100, help="审核签发本次回应的负责人"),
            FieldSpec(
                "published_at", "发布时间", "datetime", required=False, future=False, help="北京时间，留空为现在"
            ),
            FieldSpec("summary", "内容摘要", "textarea", required=False, max_length=2000),
            FieldSpec("spokesperson", "发布人", "text", required=False, max_length=100, help="新闻发言人或发布人"),
            FieldSpec("channel", "发布渠道", "choice", required=False, choices="response_channel"),
            FieldSpec(
                "commitments",
                "承诺事项",
                "commitments",
                required=False,
                max_length=10000,
                help="回应中作出的承诺，每行一项，行首写完成日期，例如：2026-10-10 完成塌陷路段修复",
            ),
        ),
        description="回应须有证据（链接或文件）和审批人，才能解除相应时限。登记的承诺事项列入承诺台账，"
        "到期前提醒责任单位兑现并公开。",
    ),
    ActionSpec(
        "FulfilCommitment",
        "commitment-fulfilments",
        "登记承诺兑现",
        Permission.ACT_RESPOND,
        (
            FieldSpec("number", "承诺事项", "choice", choices="open_commitment"),
            FieldSpec("disclosed_url", "兑现情况公开链接", "url", max_length=2000, help="公开兑现情况的网页"),
            FieldSpec(
                "fulfilled_at", "兑现时间", "datetime", required=False, future=False, help="北京时间，留空为现在"
            ),
            FieldSpec("note", "备注", "textarea", required=False, max_length=1000),
        ),
        description="承诺须兑现并公开：登记公开链接后，该承诺的提醒停止；事件办结后也可登记。",
    ),
    ActionSpec(
        "ReferRumor",
        "rumor-referrals",
        "登记谣言移交",
        Permission.ACT_RESPOND,
        (
            FieldSpec("to", "移交部门", "choice", choices="rumor_agency"),
            FieldSpec("referred_at", "移交时间", "datetime", required=False, future=False, help="北京时间，留空为现在"),
            FieldSpec("note", "备注", "textarea", required=False, max_length=1000, help="移交其他部门时写明部门名称"),
        ),
        description="涉及谣言的，移交公安、网信部门依法处置（国办发〔2016〕61号）；记入时间线和舆情回应台账。",
    ),
    ActionSpec(
        "RecordReport",
        "reports",
        "登记信息报告",
        Permission.ACT_RESPOND,
        (
            FieldSpec("report_kind", "报告类型", "choice", choices="report_kind"),
            FieldSpec("channel", "报告方式", "choice", choices="report_channel"),
            FieldSpec("signer", "签发人", "text", max_length=100),
            FieldSpec("reported_at", "报告时间", "datetime", required=False, future=False, help="北京时间，留空为现在"),
        ),
    ),
    ActionSpec(
        "Acknowledge",
        "acknowledge",
        "确认收到提醒",
        Permission.ACT_ACK,
        (FieldSpec("rule_id", "时限要求", "choice", required=False, choices="rule", help="留空表示确认全部提醒"),),
        description="确认后，本阶段的重复提醒停止；超期后的督办仍会按阶梯继续。",
    ),
    ActionSpec(
        "RequestPause",
        "pause-requests",
        "申请暂停计时",
        Permission.ACT_PAUSE_REQUEST,
        (
            FieldSpec("rule_id", "时限要求", "choice", choices="rule"),
            FieldSpec("until", "暂停至", "datetime", future=True, help="北京时间，最长 30 天"),
            REASON,
        ),
        description="暂停须经申请人以外的另一人（领导或管理员）批准后才生效，并计入月度报告。",
    ),
    ActionSpec(
        "ApprovePause",
        "pause-approvals",
        "批准暂停",
        Permission.ACT_PAUSE_DECIDE,
        (FieldSpec("request_seq", "暂停申请", "choice", choices="pause_request_to_approve"),),
        description="暂停须由申请人以外的另一人批准：您本人提出的申请不会列在这里。",
    ),
    ActionSpec(
        "RejectPause",
        "pause-rejections",
        "驳回暂停",
        Permission.ACT_PAUSE_DECIDE,
        (
            FieldSpec("request_seq", "暂停申请", "choice", choices="pause_request"),
            REASON,
        ),
    ),
    ActionSpec(
        "AttachRule",
        "rules",
        "附加时限规则",
        Permission.ACT_TRIAGE,
        (
            FieldSpec("rule_id", "规则", "choice", choices="manual_rule"),
            FieldSpec("t0", "起算时间", "datetime", required=False, future=False, help="北京时间，留空为事件发现时间"),
            FieldSpec("reason", "原因", "textarea", required=False, max_length=1000),
        ),
        description="为需手工适用的规则（如网民留言 7 个工作日内反馈）开始计时。",
    ),
    ActionSpec(
        "DismissCitizenPrompt",
        "citizen-prompt-dismissals",
        "不设答复时限",
        Permission.ACT_TRIAGE,
        (FieldSpec("reason", "理由", "textarea", max_length=1000, help="如：重复来信，已在事件 #12 中答复"),),
        description="市民来信/12345 不适用 7 或 15 个工作日答复时限时，写明理由后关闭提示（记入时间线）。",
    ),
    ActionSpec(
        "ExtendDeadline",
        "extensions",
        "延长期限",
        Permission.ACT_EXTEND,
        (
            FieldSpec("rule_id", "时限要求", "choice", choices="extendable_rule"),
            FieldSpec("approved_by", "批准人", "text", max_length=100),
            REASON,
        ),
        description="只有规定允许延期的时限（如依申请公开、网民留言）可延期一次，须写明批准人。",
    ),
    ActionSpec(
        "Supervise",
        "supervise",
        "督办（提醒/催办/督办/通报）",
        Permission.ACT_SUPERVISE,
        (
            FieldSpec("level", "督查方式", "choice", choices="supervision_level"),
            FieldSpec(
                "reason",
                "事由与要求",
                "textarea",
                max_length=1000,
                help="如：48小时回应时限已过仍未公开回应，请于今日18时前发布权威信息",
            ),
            FieldSpec("by", "督办人", "text", max_length=100, help="签发的单位与姓名，如：市政府办公室督查科 蒋文博"),
        ),
        description="政府办（督查）对责任单位提醒、催办、督办或通报：责任单位的联络员（催办起含分管领导，"
        "督办、通报起含主要负责人）立即收到通知；事件转为「督办中」，直至责任单位公开回应。记入舆情回应台账。",
    ),
    ActionSpec(
        "AddNote",
        "notes",
        "添加备注",
        Permission.ACT_NOTE,
        (FieldSpec("text", "备注内容", "textarea", max_length=5000),),
    ),
    ActionSpec(
        "Close", "close", "办结", Permission.ACT_TRIAGE, (REASON,), description="未到期的时限取消，已超期的保留记录。"
    ),
    ActionSpec(
        "Reopen", "reopen", "重新打开", Permission.ACT_TRIAGE, (REASON,), description="已归档的事件不能重新打开。"
    ),
    ActionSpec(
        "RecordEvaluation",
        "evaluation",
        "登记效果评估",
        Permission.ACT_EVALUATE,
        (
            FieldSpec(
                "subsided_at",
                "舆情平息时间",
                "datetime",
                future=False,
                help="北京时间；已按关联稿件量预填建议值（算法见上方说明），可按实际研判修改",
            ),
            FieldSpec("negative_before", "回应前负面占比（%）", "percent", required=False, help="0–100，未知可留空"),
            FieldSpec("negative_after", "回应后负面占比（%）", "percent", required=False, help="0–100，未知可留空"),
            FieldSpec("satisfaction", "公众满意度", "choice", choices="satisfaction", help="回访或 12345/信箱 评价"),
            FieldSpec("notes", "评估意见", "textarea", required=False, max_length=2000),
        ),
        description="公开回应后或办结后登记；再次登记即更正，原评估保留在时间线上。评估结果计入月报与舆情回应台账。",
    ),
    ActionSpec(
        "Archive",
        "archive",
        "归档",
        Permission.ACT_TRIAGE,
        (FieldSpec("reason", "归档说明", "textarea", required=False, max_length=1000),),
        description="只有已办结的事件可以归档。归档后事件不再出现在默认视图中，仍计入月报和台账，且不能重新打开。",
    ),
)
BY_SLUG = {spec.slug: spec for spec in ACTIONS}
BY_COMMAND = {spec.command: spec for spec in ACTIONS}

# Actions on a collected item (/items/{id}): 从稿件手动立案, and 并入已有事件 (AttachItem by another door).
OPEN_FROM_ITEM = ActionSpec(
    "OpenFromItem",
    "open",
    "立案",
    Permission.ACT_TRIAGE,
    (
        FieldSpec("reason", "立案理由", "textarea", max_length=1000, help="如：涉及公众切身利益，群众集中反映"),
        FieldSpec("title", "事件标题", "text", required=False, max_length=200, help="留空为稿件标题"),
        FieldSpec("event_type", "事件类别", "choice", required=False, choices="event_type"),
        FieldSpec("event_level", "突发事件级别", "choice", required=False, choices="event_level"),
        FieldSpec("opinion_level", "舆情级别", "choice", required=False, choices="opinion_level"),
        FieldSpec("region", "属地（镇、街道）", "choice", required=False, choices="region"),
        FieldSpec("owner_unit", "责任单位", "choice", required=False, choices="unit"),
        FieldSpec(
            "occurred_at", "事发时间", "datetime", required=False, future=False, help="北京时间；不晚于稿件采集时间"
        ),
    ),
    description="选填项留空则沿用系统研判结果。立案即确认并交办责任单位，时限从稿件发现（采集）时间起算，"
    "突发事件的时限从事发时间起算；稿件的「相关」判定和您更正的研判将作为纠错样本用于模型再训练。",
)
ATTACH_FROM_ITEM = ActionSpec(
    "AttachItem",
    "attach",
    "并入已有事件",
    Permission.ACT_TRIAGE,
    (
        FieldSpec("into_id", "事件编号", "int", help="如 12；事件须未办结"),
        FieldSpec("reason", "并入理由", "textarea", max_length=1000),
    ),
    description="稿件并入后，该事件的传播范围与最早发布时间随之更新，时限重新核算。",
)
ITEM_ACTIONS = (OPEN_FROM_ITEM, ATTACH_FROM_ITEM)

"""Persisted enumerations. Values are stable strings: never renumber, never reuse.

Each member carries a comment; `label` gives the zh-CN text people see.
"""

from __future__ import annotations

from enum import StrEnum


class EventLevel(StrEnum):
    """突发事件分级 (《突发事件应对法》第三条; DOMAIN.md §3)."""

    I = "I"  # noqa: E741 — 特别重大; the statutory name of the level
    II = "II"  # 重大
    III = "III"  # 较大
    IV = "IV"  # 一般

    @property
    def label(self) -> str:
        return _EVENT_LEVEL_LABELS[self]

    @property
    def rank(self) -> int:
        """1 for the most severe (I) … 4 for the least (IV)."""
        return _EVENT_LEVEL_RANK[self]

    @property
    def is_major(self) -> bool:
        """特别重大 or 重大: the 5 h / 24 h clocks of 国办发〔2016〕61号/80号 apply."""
        return self in (EventLevel.I, EventLevel.II)

    def at_least(self, other: EventLevel) -> bool:
        """True when this level is as severe as `other` or more."""
        return self.rank <= other.rank


_EVENT_LEVEL_LABELS = {
    EventLevel.I: "特别重大",
    EventLevel.II: "重大",
    EventLevel.III: "较大",
    EventLevel.IV: "一般",
}
_EVENT_LEVEL_RANK = {EventLevel.I: 1, EventLevel.II: 2, EventLevel.III: 3, EventLevel.IV: 4}


class OpinionLevel(StrEnum):
    """舆情分级 (DOMAIN.md §4.3, project-defined): L1 most serious."""

    L1 = "L1"  # 重大 / 红
    L2 = "L2"  # 较大 / 橙
    L3 = "L3"  # 一般 / 黄
    L4 = "L4"  # 关注 / 蓝

    @property
    def label(self) -> str:
        return _OPINION_LABELS[self][0]

    @property
    def color(self) -> str:
        """The zh-CN colour name (红/橙/黄/蓝)."""
        return _OPINION_LABELS[self][1]

    @property
    def rank(self) -> int:
        return int(self.value[1])


_OPINION_LABELS = {
    OpinionLevel.L1: ("重大", "红"),
    OpinionLevel.L2: ("较大", "橙"),
    OpinionLevel.L3: ("一般", "黄"),
    OpinionLevel.L4: ("关注", "蓝"),
}


class EventCategory(StrEnum):
    """突发事件类别 (《突发事件应对法》第二条)."""

    NATURAL_DISASTER = "natural_disaster"  # 自然灾害
    ACCIDENT = "accident"  # 事故灾难
    PUBLIC_HEALTH = "public_health"  # 公共卫生事件
    SOCIAL_SECURITY = "social_security"  # 社会安全事件

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    EventCategory.NATURAL_DISASTER: "自然灾害",
    EventCategory.ACCIDENT: "事故灾难",
    EventCategory.PUBLIC_HEALTH: "公共卫生事件",
    EventCategory.SOCIAL_SECURITY: "社会安全事件",
}


class EventType(StrEnum):
    """What happened: emergency kinds and non-emergency 政务舆情 kinds (DOMAIN.md §1.2, §3)."""

    NATURAL_DISASTER = "natural_disaster"  # 自然灾害
    TRAFFIC_ACCIDENT = "traffic_accident"  # 交通事故
    FIRE = "fire"  # 火灾
    WORK_SAFETY = "work_safety"  # 生产安全事故
    POLLUTION = "pollution"  # 环境污染
    PUBLIC_HEALTH = "public_health"  # 公共卫生
    FOOD_POISONING = "food_poisoning"  # 食物中毒
    SOCIAL_SECURITY = "social_security"  # 社会安全
    POLICY_MISREAD = "policy_misread"  # 政策误读
    LIVELIHOOD = "livelihood"  # 民生诉求
    MORAL = "moral"  # 冲击道德底线
    RUMOR = "rumor"  # 谣言
    OTHER_GOV = "other_gov"  # 其他政务
    NOT_GOV = "not_gov"  # 非政务

    @property
    def label(self) -> str:
        return _EVENT_TYPE_LABELS[self]

    @property
    def category(self) -> EventCategory | None:
        """The 突发事件 category, or None for non-emergency kinds."""
        return _EVENT_TYPE_CATEGORY.get(self)

    @classmethod
    def from_label(cls, label: str) -> EventType:
        """Map a zh-CN label (as the classifiers emit it) to the enum."""
        for member, text in _EVENT_TYPE_LABELS.items():
            if text == label or member.value == label:
                return member
        raise ValueError(f"unknown event type {label!r}; expected one of {', '.join(_EVENT_TYPE_LABELS.values())}")


_EVENT_TYPE_LABELS = {
    EventType.NATURAL_DISASTER: "自然灾害",
    EventType.TRAFFIC_ACCIDENT: "交通事故",
    EventType.FIRE: "火灾",
    EventType.WORK_SAFETY: "生产安全",
    EventType.POLLUTION: "环境污染",
    EventType.PUBLIC_HEALTH: "公共卫生",
    EventType.FOOD_POISONING: "食物中毒",
    EventType.SOCIAL_SECURITY: "社会安全",
    EventType.POLICY_MISREAD: "政策误读",
    EventType.LIVELIHOOD: "民生诉求",
    EventType.MORAL: "道德底线",
    EventType.RUMOR: "谣言",
    EventType.OTHER_GOV: "其他政务",
    EventType.NOT_GOV: "非政务",
}
_EVENT_TYPE_CATEGORY = {
    EventType.NATURAL_DISASTER: EventCategory.NATURAL_DISASTER,
    EventType.TRAFFIC_ACCIDENT: EventCategory.ACCIDENT,
    EventType.FIRE: EventCategory.ACCIDENT,
    EventType.WORK_SAFETY: EventCategory.ACCIDENT,
    EventType.POLLUTION: EventCategory.ACCIDENT,
    EventType.PUBLIC_HEALTH: EventCategory.PUBLIC_HEALTH,
    EventType.FOOD_POISONING: EventCategory.PUBLIC_HEALTH,
    EventType.SOCIAL_SECURITY: EventCategory.SOCIAL_SECURITY,
}


class MediaTier(StrEnum):
    """Media tier of a source, used for 舆情 grading (DOMAIN.md §4.3)."""

    CENTRAL = "central"  # 中央
    PROVINCIAL = "provincial"  # 省级
    CITY = "city"  # 市级
    COUNTY = "county"  # 县级
    SELF_MEDIA = "self_media"  # 自媒体

    @property
    def label(self) -> str:
        return _TIER_LABELS[self]

    @property
    def rank(self) -> int:
        """1 = widest reach (中央) … 5 = 自媒体."""
        return list(MediaTier).index(self) + 1


_TIER_LABELS = {
    MediaTier.CENTRAL: "中央",
    MediaTier.PROVINCIAL: "省",
    MediaTier.CITY: "市",
    MediaTier.COUNTY: "县",
    MediaTier.SELF_MEDIA: "自媒体",
}


class MediaType(StrEnum):
    """媒体类型 of a source and its items (DOMAIN.md §4.4 ledger field `media_type`): the channel's form,
    where MediaTier is its reach."""

    WEBSITE = "website"  # 网站
    FORUM = "forum"  # 论坛（含贴吧、社区）
    BLOG = "blog"  # 博客
    WEIBO = "weibo"  # 微博
    PRINT = "print"  # 纸媒（报纸、期刊及其电子版）
    WECHAT = "wechat"  # 微信（公众号）
    APP = "app"  # App（新闻客户端）
    SHORT_VIDEO = "short_video"  # 短视频（抖音、快手、视频号…）
    HOTLINE_12345 = "hotline_12345"  # 12345 政务服务便民热线
    MAILBOX = "mailbox"  # 信箱（领导信箱、留言板）

    @property
    def label(self) -> str:
        return _MEDIA_TYPE_LABELS[self]

    @classmethod
    def from_text(cls, text: str) -> MediaType:
        """The member named by its value or its zh-CN label (App/APP/app alike); ValueError otherwise."""
        wanted = text.strip()
        for member, label in _MEDIA_TYPE_LABELS.items():
            if wanted.lower() in (member.value, label.lower()):
                return member
        raise ValueError(f"unknown media type {text!r}; use one of {media_type_choices()}")


_MEDIA_TYPE_LABELS = {
    MediaType.WEBSITE: "网站",
    MediaType.FORUM: "论坛",
    MediaType.BLOG: "博客",
    MediaType.WEIBO: "微博",
    MediaType.PRINT: "纸媒",
    MediaType.WECHAT: "微信",
    MediaType.APP: "App",
    MediaType.SHORT_VIDEO: "短视频",
    MediaType.HOTLINE_12345: "12345",
    MediaType.MAILBOX: "信箱",
}


def media_type_choices() -> str:
    """The allowed values as people and files may write them: `website (网站), forum (论坛), …`."""
    return ", ".join(f"{m.value} ({m.label})" for m in MediaType)


class Role(StrEnum):
    """Roles in the org directory; escalation ladders target these."""

    DUTY_OFFICER = "duty_officer"  # 值班员
    LIAISON = "liaison"  # 联络员
    DEPUTY_LEADER = "deputy_leader"  # 分管领导
    PRINCIPAL = "principal"  # 主要负责人 / 第一新闻发言人
    GOV_OFFICE = "gov_office"  # 政府办（督查）
    PROPAGANDA = "propaganda"  # 宣传部（网信）

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.DUTY_OFFICER: "值班员",
    Role.LIAISON: "联络员",
    Role.DEPUTY_LEADER: "分管领导",
    Role.PRINCIPAL: "主要负责人/第一新闻发言人",
    Role.GOV_OFFICE: "政府办",
    Role.PROPAGANDA: "宣传部",
}


class UnitKind(StrEnum):
    """Kinds of organisational unit."""

    GOVERNMENT = "government"  # 人民政府
    GOV_OFFICE = "gov_office"  # 政府办公室
    PROPAGANDA = "propaganda"  # 宣传部（含网信办）
    DEPARTMENT = "department"  # 政府工作部门 / 垂直管理部门
    TOWNSHIP = "township"  # 镇 / 乡
    SUBDISTRICT = "subdistrict"  # 街道

    @property
    def is_locality(self) -> bool:
        """Townships and subdistricts own incidents by 属地管理."""
        return self in (UnitKind.TOWNSHIP, UnitKind.SUBDISTRICT)


class ChannelKind(StrEnum):
    """Notification channels."""

    CONSOLE = "console"  # 控制台（演示）
    EMAIL = "email"  # 电子邮件
    SLACK = "slack"  # Slack
    DINGTALK = "dingtalk"  # 钉钉群机器人
    WECOM = "wecom"  # 企业微信群机器人
    WEBHOOK = "webhook"  # 通用签名 Webhook


class SourceKind(StrEnum):
    """How a source is read."""

    FEED = "feed"  # RSS 0.9x/1.0/2.0, Atom or JSON Feed (detected from the bytes)
    HTML_LIST = "html_list"  # an HTML list page read with configured CSS selectors


class SourceHealth(StrEnum):
    """Health of a source; every change is recorded as a source event."""

    OK = "ok"  # 正常
    DEGRADED = "degraded"  # 降级（偶发失败）
    FAILING = "failing"  # 持续失败
    SILENT = "silent"  # 预期数量的内容没有到达

    @property
    def label(self) -> str:
        return {"ok": "正常", "degraded": "降级", "failing": "失败", "silent": "静默"}[self.value]


class ClockType(StrEnum):
    """How a deadline is counted (DOMAIN.md §6.1)."""

    NATURAL_HOURS = "natural_hours"  # 24×7 hours
    WORKING_DAYS = "working_days"  # 工作日，开始当日不计入
    NATURAL_DAYS = "natural_days"  # 自然日，末日遇休息日顺延


class ObligationStatus(StrEnum):
    """State of one deadline."""

    OPEN = "open"  # 未到期、未履行
    MET = "met"  # 按时履行
    LATE = "late"  # 逾期后履行
    BREACHED = "breached"  # 已到期、未履行
    CANCELLED = "cancelled"  # 已取消（如降级），原因已记录
    PAUSED = "paused"  # 经批准暂停

    @property
    def is_final(self) -> bool:
        return self in (ObligationStatus.MET, ObligationStatus.LATE, ObligationStatus.CANCELLED)


class ResponseKind(StrEnum):
    """回应方式 (国办发〔2016〕61号; DOMAIN.md §1.4)."""

    AUTHORITATIVE_RELEASE = "authoritative_release"  # 发布权威信息/通报/情况说明
    PRESS_CONFERENCE = "press_conference"  # 新闻发布会
    BRIEFING = "briefing"  # 吹风会
    MEDIA_INTERVIEW = "media_interview"  # 接受媒体采访
    POLICY_INTERPRETATION = "policy_interpretation"  # 政策解读/专家解读
    ONLINE_INTERVIEW = "online_interview"  # 在线访谈
    NEW_MEDIA_POST = "new_media_post"  # 政务微博/微信/客户端
    WEBSITE_REPLY = "website_reply"  # 政府网站留言答复
    RUMOR_REFUTATION = "rumor_refutation"  # 辟谣

    @property
    def label(self) -> str:
        return _RESPONSE_LABELS[self]


_RESPONSE_LABELS = {
    ResponseKind.AUTHORITATIVE_RELEASE: "发布权威信息",
    ResponseKind.PRESS_CONFERENCE: "新闻发布会",
    ResponseKind.BRIEFING: "吹风会",
    ResponseKind.MEDIA_INTERVIEW: "接受媒体采访",
    ResponseKind.POLICY_INTERPRETATION: "政策解读",
    ResponseKind.ONLINE_INTERVIEW: "在线访谈",
    ResponseKind.NEW_MEDIA_POST: "政务新媒体发布",
    ResponseKind.WEBSITE_REPLY: "网站留言答复",
    ResponseKind.RUMOR_REFUTATION: "辟谣",
}


class ReportKind(StrEnum):
    """信息报告 types (国务院应急办 2015; DOMAIN.md §4.2)."""

    FIRST = "first"  # 首报
    FOLLOW_UP = "follow_up"  # 续报
    FINAL = "final"  # 终报


class UserRole(StrEnum):
    """Web roles (permissions are checked server-side on every route)."""

    DUTY_OFFICER = "duty_officer"  # 值班员
    UNIT_HANDLER = "unit_handler"  # 单位处置人（只看本单位）
    LEADER = "leader"  # 领导
    ANALYST = "analyst"  # 分析员
    ADMIN = "admin"  # 管理员
    GOV_OFFICE = "gov_office"  # 政府办（督查）: issues 提醒/催办/督办/通报

    @property
    def label(self) -> str:
        return {
            "duty_officer": "值班员",
            "unit_handler": "单位处置人",
            "leader": "领导",
            "analyst": "分析员",
            "admin": "管理员",
            "gov_office": "政府办（督查）",
        }[self.value]


class SupervisionLevel(StrEnum):
    """督查的力度 (DOMAIN.md §4.4 `supervision[]`; 国办发〔2016〕61号 督促检查, 北京 "情况通报"), mildest first."""

    REMIND = "remind"  # 提醒
    URGE = "urge"  # 催办
    SUPERVISE = "supervise"  # 督办
    CIRCULATE = "circulate"  # 通报

    @property
    def label(self) -> str:
        return _SUPERVISION_LABELS[self]

    @property
    def rank(self) -> int:
        """1 = 提醒 … 4 = 通报."""
        return list(SupervisionLevel).index(self) + 1


_SUPERVISION_LABELS = {
    SupervisionLevel.REMIND: "提醒",
    SupervisionLevel.URGE: "催办",
    SupervisionLevel.SUPERVISE: "督办",
    SupervisionLevel.CIRCULATE: "通报",
}


class OutboxStatus(StrEnum):
    """Delivery state of an outbox row."""

    PENDING = "pending"  # 待发送（含重试等待）
    SENDING = "sending"  # 已被某个投递进程认领
    SENT = "sent"  # 已送达
    FAILED = "failed"  # 重试用尽，已转备用渠道或告警
    CANCELLED = "cancelled"  # 不再需要（如已确认）
    FANNED_OUT = "fanned_out"  # 面向全体值班员的告警，已拆分为每人一行

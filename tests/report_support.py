"""A small, hand-checkable October 2026 for the report tests (timeline payloads as the engine writes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from monitor.clock import SHANGHAI
from monitor.domain import EventKind, EventLevel, EventType, Incident, IncidentEvent, IncidentStatus, OpinionLevel
from monitor.storage.db import Database
from monitor.storage.repo.incidents import append_events, create_incidents
from monitor.storage.schema import corrections, obligations, outbox


def sh(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An Asia/Shanghai wall time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


CUTOFF = sh(11, 1, 8)  # the scheduled run: 08:00 on the 1st


@dataclass
class Seeded:
    ids: dict[str, int] = field(default_factory=dict)


def _incident(key: str, detected: datetime, **kw: Any) -> tuple[str, Incident]:
    return key, Incident(title=kw.pop("title", f"事件{key}"), detected_at=detected, external_ref=f"test:{key}", **kw)


INCIDENTS = [
    _incident("A", sh(10, 3, 10), title="城东街道老旧小区加装电梯进度缓慢", owner_unit="housing", region="chengdong",
              opinion_level=OpinionLevel.L2, event_type=EventType.LIVELIHOOD, item_count=4,
              status=IncidentStatus.RESPONDED),
    _incident("B", sh(10, 10, 8), title="东港化工园区爆炸", owner_unit="emergency", region="donggang",
              event_level=EventLevel.II, opinion_level=OpinionLevel.L1, event_type=EventType.WORK_SAFETY,
              occurred_at=sh(10, 10, 7, 30), item_count=30, status=IncidentStatus.RESPONDED),
    _incident("C", sh(10, 20, 9), title="环湖路多车追尾", owner_unit="transport", region="beihu",
              event_level=EventLevel.III, opinion_level=OpinionLevel.L2, event_type=EventType.TRAFFIC_ACCIDENT,
              item_count=6, status=IncidentStatus.OVERDUE),
    _incident("D", sh(10, 28, 20), title="学区划片调整引发误读", owner_unit="education", region="chengxi",
              opinion_level=OpinionLevel.L3, event_type=EventType.POLICY_MISREAD, item_count=2,
              status=IncidentStatus.HANDLING),
    _incident("E", sh(10, 5, 12), title="与政务无关的娱乐新闻", owner_unit="housing", status=IncidentStatus.DISMISSED),
    _incident("F", sh(9, 30, 23), title="九月底停水通知引发关注", owner_unit="water", opinion_level=OpinionLevel.L3,
              event_type=EventType.LIVELIHOOD, status=IncidentStatus.CLOSED),
    _incident("H", sh(10, 31, 23, 30), title="月末最后一起", owner_unit="housing", opinion_level=OpinionLevel.L4,
              event_type=EventType.LIVELIHOOD, requires_response=False, status=IncidentStatus.DETECTED),
    _incident("I", sh(11, 1, 0), title="十一月第一起", owner_unit="housing", opinion_level=OpinionLevel.L3,
              status=IncidentStatus.DETECTED),
    _incident("G", sh(9, 12, 9), title="九月的噪声投诉", owner_unit="housing", opinion_level=OpinionLevel.L3,
              event_type=EventType.POLLUTION, status=IncidentStatus.CLOSED),
]  # fmt: skip


def _ob(key: str, rule: str, t0: datetime, due: datetime, status: str, *, met: datetime | None = None,
        instance: int = 0, paused_until: datetime | None = None, reason: str | None = None) -> dict:  # fmt: skip
    return {"key": key, "rule_id": rule, "instance": instance, "action": "first_response", "clock": "natural_hours",
            "t0": t0, "due_at": due, "status": status, "met_at": met, "met_by": f"website_reply {key}" if met else None,
            "cancelled_reason": reason, "paused_until": paused_until}  # fmt: skip


OBLIGATIONS = [
    # A: 48 h met on time (23 h); continued release instance 1 breached (due 10-05 09:00)
    _ob("A", "GB61-RESPOND-48H", sh(10, 3, 10), sh(10, 5, 10), "met", met=sh(10, 4, 9)),
    _ob("A", "GB61-CONTINUOUS", sh(10, 4, 9), sh(10, 5, 9), "breached", instance=1),
    # B: 5 h release met 1 h late; 24 h press conference met on time; phone report on time
    _ob("B", "GB80-AUTH-RELEASE-5H", sh(10, 10, 7, 30), sh(10, 10, 12, 30), "late", met=sh(10, 10, 13, 30)),
    _ob("B", "GB61-PRESSCONF-24H", sh(10, 10, 7, 30), sh(10, 11, 7, 30), "met", met=sh(10, 11, 6)),
    _ob("B", "YJB2015-PHONE-30MIN", sh(10, 10, 7, 30), sh(10, 10, 8), "met", met=sh(10, 10, 7, 50)),
    # C: 48 h breached, never answered
    _ob("C", "GB61-RESPOND-48H", sh(10, 20, 9), sh(10, 22, 9), "breached"),
    # D: 48 h paused until 11-02, deadline pushed past the month: not counted in October
    _ob("D", "GB61-RESPOND-48H", sh(10, 28, 20), sh(11, 3, 9), "paused", paused_until=sh(11, 2, 9)),
    # E: dismissed → cancelled
    _ob("E", "GB61-RESPOND-48H", sh(10, 5, 12), sh(10, 7, 12), "cancelled", reason="判定为非政务舆情"),
    # F: detected in September, due in October, met on time
    _ob("F", "GB61-RESPOND-48H", sh(9, 30, 23), sh(10, 2, 23), "met", met=sh(10, 1, 15)),
    # G: September, met late (counts in September)
    _ob("G", "GB61-RESPOND-48H", sh(9, 12, 9), sh(9, 14, 9), "late", met=sh(9, 15, 9)),
]


def _response(at: datetime, kind: str = "website_reply", url: str | None = "https://gov.example/r") -> dict[str, Any]:
    return {"kind": kind, "url": url, "document": None, "approved_by": "wang_fang", "published_at": at.isoformat()}


async def seed(db: Database, recorded: datetime = CUTOFF - timedelta(hours=1)) -> Seeded:
    seeded = Seeded()
    async with db.write() as conn:
        ids = await create_incidents(conn, [inc for _, inc in INCIDENTS], recorded)
        seeded.ids = {key: i for (key, _), i in zip(INCIDENTS, ids, strict=True)}
        i = seeded.ids
        await conn.execute(
            insert(obligations),
            [
                {k: v for k, v in ob.items() if k != "key"} | {"incident_id": i[ob["key"]], "created_at": recorded,
                                                              "updated_at": recorded}
                for ob in OBLIGATIONS
            ],
        )  # fmt: skip
        await append_events(conn, _events(i), recorded)
        await conn.execute(insert(corrections), [
            {"incident_id": i["A"], "field": "department", "old_value": "urban_management", "new_value": "housing",
             "actor": "li_ming", "at": sh(10, 3, 11)},
            {"incident_id": i["E"], "field": "relevant", "old_value": "true", "new_value": "false", "actor": "li_ming",
             "at": sh(10, 5, 13)},
            {"incident_id": i["G"], "field": "event_type", "old_value": "livelihood", "new_value": "pollution",
             "actor": "li_ming", "at": sh(9, 12, 10)},
        ])  # fmt: skip
        await conn.execute(insert(outbox), [
            {"idempotency_key": f"{i['A']}:x:breach:1:zhao_lei", "incident_id": i["A"], "kind": "deadline_breach",
             "recipient": "zhao_lei", "payload": {"rule": {"id": "GB61-CONTINUOUS"}, "step": "breach"},
             "status": "sent", "next_attempt_at": sh(10, 5, 9), "created_at": sh(10, 5, 9), "sent_at": sh(10, 5, 9, 1)},
        ])  # fmt: skip
    return seeded


def _events(i: dict[str, int]) -> list[IncidentEvent]:
    E = EventKind
    return [
        IncidentEvent(i["A"], E.CONFIRMED, sh(10, 3, 10, 20), "li_ming", {"event_level": None, "opinion_level": "L2"}),
        IncidentEvent(i["A"], E.RESPONSE_RECORDED, sh(10, 4, 9, 5), "li_ming", _response(sh(10, 4, 9))),
        IncidentEvent(i["A"], E.ESCALATED, sh(10, 5, 9), "system",
                      {"rule": "GB61-CONTINUOUS", "instance": 1, "step": "breach", "steps": ["breach"],
                       "kind": "deadline_breach", "roles": ["liaison", "deputy_leader"], "people": ["zhao_lei"],
                       "due_at": sh(10, 5, 9).isoformat()}),
        IncidentEvent(i["A"], E.ESCALATED, sh(10, 6, 9), "system",
                      {"rule": "GB61-CONTINUOUS", "instance": 1, "step": "supervise", "steps": ["supervise"],
                       "kind": "supervision", "roles": ["principal", "gov_office"], "people": ["qian_zhiqiang"],
                       "due_at": sh(10, 5, 9).isoformat()}),
        IncidentEvent(i["A"], E.ESCALATED, sh(10, 4, 21), "system",
                      {"rule": "GB61-CONTINUOUS", "instance": 1, "step": "warn-half", "kind": "deadline_warning",
                       "roles": ["liaison"], "people": ["zhao_lei"]}),
        IncidentEvent(i["B"], E.CONFIRMED, sh(10, 10, 8), "system", {"event_level": "III", "opinion_level": "L1"}),
        IncidentEvent(i["B"], E.REGRADED, sh(10, 10, 9), "li_ming",
                      {"event_level": "II", "opinion_level": "L1", "reason": "死亡人数升至10人",
                       "from": {"event_level": "III", "opinion_level": "L1"}}),
        IncidentEvent(i["B"], E.RESPONSE_RECORDED, sh(10, 10, 13, 40), "li_ming",
                      _response(sh(10, 10, 13, 30), "authoritative_release", "https://gov.example/b1")),
        IncidentEvent(i["B"], E.RESPONSE_RECORDED, sh(10, 11, 6, 5), "li_ming",
                      _response(sh(10, 11, 6), "press_conference", None) | {"document": "第1场新闻发布会"}),
        IncidentEvent(i["D"], E.PAUSE_REQUESTED, sh(10, 29, 10), "zhao_lei",
                      {"rule": "GB61-RESPOND-48H", "until": sh(11, 2, 9).isoformat(), "reason": "等待教育厅答复口径"}),
        IncidentEvent(i["D"], E.PAUSE_APPROVED, sh(10, 29, 11), "sun_lihua",
                      {"rule": "GB61-RESPOND-48H", "until": sh(11, 2, 9).isoformat(), "request_seq": 2,
                       "reason": "等待教育厅答复口径"}),
        IncidentEvent(i["F"], E.RESPONSE_RECORDED, sh(10, 1, 15), "li_ming", _response(sh(10, 1, 15))),
        IncidentEvent(i["G"], E.RESPONSE_RECORDED, sh(9, 15, 9), "li_ming", _response(sh(9, 15, 9))),
        IncidentEvent(i["I"], E.RESPONSE_RECORDED, sh(11, 1, 5), "li_ming", _response(sh(11, 1, 5))),
    ]  # fmt: skip

"""The incident page: items and evidence, classification, obligations, timeline and actions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from monitor.clock import parse_instant, to_local
from monitor.domain import EventKind, Incident, IncidentEvent, Obligation
from monitor.domain.commitments import COMMITMENT_RULE_ID, CommitmentRecord, commitments_of
from monitor.domain.evaluation import Evaluation, SubsideRule, from_payload, subside_rule, suggest_subsided
from monitor.domain.playbooks import Attach
from monitor.engine.evaluation import first_response_at
from monitor.storage.repo.incident_detail import (
    IncidentItem,
    incident_items_with_sources,
    incident_next_due,
    incident_obligations,
)
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.web.actions.dispatch import ActionRejected, AuditContext, perform
from monitor.web.actions.forms import FormContext, FormResult, PauseRequest, choices, validate
from monitor.web.actions.specs import ACTIONS, BY_SLUG, ActionSpec
from monitor.web.auth.login import redirect
from monitor.web.auth.permissions import CurrentUser, Permission, requires
from monitor.web.citizen import DISMISS, prompt_context
from monitor.web.flash import set_flash
from monitor.web.keys import REQUEST_ID
from monitor.web.labels import label
from monitor.web.rendering import render
from monitor.web.requests import client_ip, services, user_of
from monitor.web.services import WebServices

RETURN_TO = re.compile(r"^/(leader|queue|incidents/\d+)(\?[\w=&%.\-]*)?$")  # where an action may send the user back


@dataclass
class IncidentPage:
    incident: Incident
    next_due_at: datetime | None
    items: list[IncidentItem]
    obligations: list[Obligation]
    events: list[IncidentEvent]

    @property
    def units(self) -> frozenset[str]:
        return incident_units(self.incident)

    @property
    def evaluation(self) -> Evaluation | None:
        """The latest 效果评估 (a later one corrects an earlier one)."""
        latest = None
        for e in self.events:
            if e.kind == EventKind.EVALUATION_RECORDED:
                latest = from_payload(e.payload, e.at, e.actor) or latest
        return latest

    @property
    def archived(self) -> IncidentEvent | None:
        return next((e for e in self.events if e.kind == EventKind.ARCHIVED), None)

    @cached_property
    def commitments(self) -> list[CommitmentRecord]:
        """承诺事项 of the incident's responses, with their fulfilment (the 承诺台账 section)."""
        return commitments_of(self.events)

    def commitment_label(self, o: Obligation) -> str:
        """承诺 #2：公布调查结果（10-20 前） for a commitment's obligation; "" for other rules."""
        if o.rule_id != COMMITMENT_RULE_ID:
            return ""
        record = next((r for r in self.commitments if r.number == o.instance), None)
        return record.label if record else ""

    @property
    def responses(self) -> list[tuple[datetime, dict[str, Any]]]:
        """(publication time, payload) of every response recorded."""
        return [
            (_instant(e.payload.get("published_at"), e.at), e.payload) for e in self._of(EventKind.RESPONSE_RECORDED)
        ]

    @property
    def referrals(self) -> list[tuple[datetime, dict[str, Any]]]:
        """(referral time, payload) of every 谣言移交 recorded."""
        return [(_instant(e.payload.get("referred_at"), e.at), e.payload) for e in self._of(EventKind.RUMOR_REFERRED)]

    def _of(self, kind: EventKind) -> list[IncidentEvent]:
        return [e for e in self.events if e.kind == kind]


def evaluation_prefill(page: IncidentPage, now: datetime, rule: SubsideRule) -> tuple[dict[str, Any], str]:
    """The evaluation form's starting values (the current evaluation, else the suggested 平息时间)
    and a sentence saying how the suggestion was computed (under the settings' 平息 threshold)."""
    times = [i.published_at or i.fetched_at for i in page.items]
    suggestion = suggest_subsided(times, first_response_at(page.events), now, rule)
    hint = suggestion.basis if suggestion else "本事件没有关联稿件，无法按稿件量给出平息时间建议，请按实际研判填写。"
    current = page.evaluation
    if current is not None:
        raw = {
            "subsided_at": _form_time(current.subsided_at),
            "negative_before": "" if current.negative_before is None else str(current.negative_before),
            "negative_after": "" if current.negative_after is None else str(current.negative_after),
            "satisfaction": current.satisfaction.value,
            "notes": current.notes,
        }
        return raw, f"当前评估由 {current.recorded_by} 登记；再次提交即更正。{hint}"
    subsided = suggestion.subsided_at if suggestion else None
    return ({"subsided_at": _form_time(subsided)} if subsided else {}), hint


def _form_time(value: datetime) -> str:
    """A datetime-local input value in Beijing time."""
    return f"{to_local(value):%Y-%m-%dT%H:%M}"


def _instant(value: Any, default: datetime) -> datetime:
    try:
        return parse_instant(str(value)) if value else default
    except ValueError:
        return default


def incident_units(incident: Incident) -> frozenset[str]:
    """The units whose people may see the incident: owner, lead and co-handling units."""
    return frozenset(u for u in (incident.owner_unit, incident.lead_unit, *incident.co_units) if u)


def incident_id_of(request: web.Request) -> int:
    raw = request.match_info["incident_id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


async def load_incident_page(svc: WebServices, user: CurrentUser, incident_id: int) -> IncidentPage:
    """Everything the page shows, in one read transaction; 404 when missing or not visible."""
    async with svc.db.read() as conn:
        incident = await get_incident(conn, incident_id)
        if incident is None:
            raise web.HTTPNotFound()
        page = IncidentPage(
            incident=incident,
            next_due_at=await incident_next_due(conn, incident_id),
            items=await incident_items_with_sources(conn, incident_id),
            obligations=await incident_obligations(conn, incident_id),
            events=await list_events(conn, incident_id),
        )
    if not user.sees(page.units):
        raise web.HTTPNotFound()
    return page


def pause_requests(events: list[IncidentEvent]) -> tuple[PauseRequest, ...]:
    """Pause requests not yet approved or rejected, with who asked (the approver must be someone else)."""
    decided = {
        int(e.payload.get("request_seq", 0))
        for e in events
        if e.kind in (EventKind.PAUSE_APPROVED, EventKind.PAUSE_REJECTED)
    }
    return tuple(
        PauseRequest(
            e.seq,
            e.actor,
            f"#{e.seq} {e.actor} 申请暂停 {_paused(e.payload)} 至 {_local(e.payload.get('until'))}："
            f"{e.payload.get('reason', '')}",
        )
        for e in events
        if e.kind == EventKind.PAUSE_REQUESTED and e.seq is not None and e.seq not in decided
    )


def _paused(payload: dict[str, Any]) -> str:
    """What a pause request is for: the rule, or one commitment (PRJ-COMMITMENT #2)."""
    rule, instance = payload.get("rule", ""), payload.get("instance")
    return f"{rule} #{instance}" if instance else str(rule)


def _local(value: Any) -> str:
    try:
        return f"{to_local(datetime.fromisoformat(str(value))):%m-%d %H:%M}"
    except ValueError:
        return str(value or "")


def form_context(svc: WebServices, page: IncidentPage, user: CurrentUser) -> FormContext:
    unmet = [o for o in page.obligations if not o.status.is_final]
    promised = {r.number: r for r in page.commitments}
    rules = {target_key(o): target_label(o, promised.get(o.instance)) for o in unmet}
    attached = {e.payload.get("rule") for e in page.events if e.kind == EventKind.RULE_ATTACHED}
    extended = {e.payload.get("rule") for e in page.events if e.kind == EventKind.DEADLINE_EXTENDED}
    manual = [r for r in svc.playbook.rules if r.attach == Attach.MANUAL and r.id not in attached]
    extendable = [
        (rid, text) for rid, text in rules.items() if _extension_limit(svc, rid) is not None and rid not in extended
    ]
    return FormContext(
        incident_id=page.incident.id or 0,
        org=svc.org,
        now=svc.clock.now(),
        actor=user.username,
        max_document_bytes=int(svc.settings.upload_max_mb * 1024 * 1024),
        items=tuple((str(i.id), i.title) for i in page.items),
        rules=tuple(rules.items()),
        manual_rules=tuple((r.id, f"{r.id} · {r.title}（{r.source}）") for r in manual),
        extendable_rules=tuple(extendable),
        pause_requests=pause_requests(page.events),
        open_commitments=tuple(
            (str(r.number), f"#{r.number} {r.text[:40]}（{r.due:%Y-%m-%d} 前）")
            for r in page.commitments
            if not r.fulfilled
        ),
    )


def target_key(o: Obligation) -> str:
    """The choice value naming an obligation in 确认收到/暂停/延期: the rule id, or `rule#n` for one
    commitment (each 承诺 is its own obligation of `PRJ-COMMITMENT`)."""
    return f"{o.rule_id}#{o.instance}" if o.rule_id == COMMITMENT_RULE_ID else o.rule_id


def target_label(o: Obligation, record: CommitmentRecord | None) -> str:
    due = f"截止 {to_local(o.due_at):%m-%d %H:%M}"
    if o.rule_id == COMMITMENT_RULE_ID:
        return f"{record.label if record else f'承诺 #{o.instance}'} · {due}"
    return f"{o.rule_id} · {label(o.action, 'obligation_action')} · {due}"


def _extension_limit(svc: WebServices, rule_id: str) -> float | None:
    rule = svc.playbook.rule(rule_id)
    return rule.extension_limit if rule else None


def _render_page(
    request: web.Request,
    page: IncidentPage,
    *,
    status: int = 200,
    failed: tuple[ActionSpec, FormResult] | None = None,
    error: str = "",
) -> web.Response:
    svc, user = services(request), user_of(request)
    ctx = form_context(svc, page, user)
    forms = []
    for spec in ACTIONS:
        if not user.can(spec.permission) or spec is DISMISS:  # shown inside the 市民来信 prompt
            continue
        result = failed[1] if failed and failed[0] is spec else None
        is_evaluation = spec.command == "RecordEvaluation"
        prefill, hint = evaluation_prefill(page, ctx.now, subside_rule(svc.settings)) if is_evaluation else ({}, "")
        forms.append(
            {
                "spec": spec,
                "raw": result.raw if result else prefill,
                "errors": result.errors if result else {},
                "choices": {f.name: choices(f.choices, ctx) for f in spec.fields if f.choices},
                "hint": hint,
            }
        )
    context = {"page": page, "inc": page.incident, "forms": forms, "open_form": failed[0].slug if failed else ""}
    dismissal = failed[1] if failed and failed[0] is DISMISS else None
    context["citizen"] = prompt_context(svc, user, page.incident, page.items, page.events, dismissal)
    return render(request, "incident.html", {**context, "error": error}, status=status)


@requires(Permission.VIEW_QUEUE)
async def incident_view(request: web.Request) -> web.Response:
    page = await load_incident_page(services(request), user_of(request), incident_id_of(request))
    return _render_page(request, page)


@requires(Permission.VIEW_QUEUE)
async def incident_live(request: web.Request) -> web.Response:
    """The parts of the page that change without a reload: facts, obligations, timeline (rendered HTML)."""
    page = await load_incident_page(services(request), user_of(request), incident_id_of(request))
    env = aiohttp_jinja2.get_env(request.app)
    context = {"page": page, "inc": page.incident, "now": services(request).clock.now()}
    parts = {
        name: env.get_template(f"_incident_{name}.html").render(context)
        for name in ("facts", "obligations", "timeline", "responses")
    }
    return web.json_response({**parts, "status": page.incident.status.value}, headers={"Cache-Control": "no-store"})


@requires(Permission.VIEW_QUEUE)
async def incident_action(request: web.Request) -> web.StreamResponse:
    """POST an action form; errors re-render the page with the input kept and the reason shown."""
    svc, user = services(request), user_of(request)
    spec = BY_SLUG.get(request.match_info["slug"])
    if spec is None:
        raise web.HTTPNotFound()
    if not user.can(spec.permission):
        raise web.HTTPForbidden()
    incident_id = incident_id_of(request)
    page = await load_incident_page(svc, user, incident_id)
    form = await request.post()
    result = validate(spec, form, form_context(svc, page, user))
    if result.command is None:
        return _render_page(request, page, status=400, failed=(spec, result))
    try:
        outcome = await perform(svc, user, incident_id, result.command, audit_context(request))
    except ActionRejected as exc:
        return _render_page(request, page, status=409, failed=(spec, result), error=exc.message)
    back = str(form.get("return_to") or "")
    response = redirect(back if RETURN_TO.match(back) else f"/incidents/{incident_id}#timeline")
    set_flash(request, response, user.username, outcome.message)
    return response


def audit_context(request: web.Request, via: str = "web") -> AuditContext:
    return AuditContext(ip=client_ip(request), request_id=request.get(REQUEST_ID), via=via)

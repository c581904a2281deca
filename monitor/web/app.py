"""Web application factory: routes, middlewares, templates, live updates."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import aiohttp_jinja2
from aiohttp import web

from monitor.notifications.slack import interactivity_routes
from monitor.web import (
    account,
    evidence,
    incidents,
    items,
    leader,
    org,
    org_people,
    org_users,
    queue,
    reports,
    sources,
    sse,
)
from monitor.web.actions.dispatch import channel_acknowledger
from monitor.web.api import openapi
from monitor.web.api import routes as api
from monitor.web.auth import login
from monitor.web.auth.limits import LoginLimiter
from monitor.web.auth.passwords import PasswordHasher
from monitor.web.auth.permissions import public
from monitor.web.keys import HASHER, LIMITER, LIVE, SERVICES, SESSION_SECRET
from monitor.web.live import LiveHub, close_clients, live_updates_ctx
from monitor.web.middleware import auth_middleware, error_middleware, security_headers
from monitor.web.ops import add_ops_routes
from monitor.web.rendering import STATIC, setup_templates
from monitor.web.services import WebServices
from monitor.web.timeline import actor_name, event_document, event_summary, met_by_text
from monitor.web.why import why_lines

log = logging.getLogger(__name__)


def create_web_app(services: WebServices, *, hasher: PasswordHasher | None = None) -> web.Application:
    settings = services.settings
    app = web.Application(
        middlewares=[error_middleware, auth_middleware],
        # Twice the document limit: a file somewhat over it gets a form error that keeps the input.
        client_max_size=int(settings.upload_max_mb * 2 * 1024 * 1024) + 1024 * 1024,
    )
    app[SERVICES] = services
    app[HASHER] = hasher or PasswordHasher()
    app[SESSION_SECRET] = _session_secret(settings.session_secret)

    app[LIMITER] = LoginLimiter(
        services.clock, settings.login_ip_attempts, timedelta(minutes=settings.login_lockout_min)
    )
    setup_templates(app, services.org, services.playbook)
    env = aiohttp_jinja2.get_env(app)
    env.filters["event_summary"] = lambda event: event_summary(event, services.org)
    env.filters["event_document"] = event_document
    env.filters["met_by"] = met_by_text
    env.filters["actor"] = lambda actor: actor_name(actor, services.org)
    env.globals["why_lines"] = why_lines
    app.on_response_prepare.append(security_headers)
    app.on_shutdown.append(close_clients)
    app[LIVE] = LiveHub(services)
    app.cleanup_ctx.append(live_updates_ctx)
    add_routes(app)
    _mount_slack(app, services)
    return app


def _mount_slack(app: web.Application, services: WebServices) -> None:
    """POST /slack/interactions (only when slack_signing_secret is set); Slack signs, so no session."""
    routes = interactivity_routes(services.settings, services.clock, services.org, channel_acknowledger(services))
    for route in routes:
        assert isinstance(route, web.RouteDef)
        app.router.add_route(route.method, route.path, public(route.handler))


def _session_secret(configured: str) -> bytes:
    if configured:
        return configured.encode()
    log.warning("session_secret is not set: using a random key, so web logins end when the process restarts")
    return secrets.token_bytes(32)


@public
async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/queue")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", index)
    add_ops_routes(app)  # /healthz /readyz /metrics (the last moves to ops_listen when that is set)
    r.add_get("/login", login.login_form)
    r.add_post("/login", login.login_submit)
    r.add_post("/logout", login.logout)
    r.add_get("/queue", queue.queue)
    r.add_get("/queue/rows", queue.queue_rows_fragment)
    r.add_post("/queue/views", queue.create_view)
    r.add_post("/queue/views/{view_id:\\d+}/delete", queue.remove_view)
    r.add_get("/events", sse.events)
    r.add_get("/incidents/{incident_id}", incidents.incident_view)
    r.add_get("/incidents/{incident_id}/live", incidents.incident_live)
    r.add_post("/incidents/{incident_id}/actions/{slug}", incidents.incident_action)
    r.add_get("/incidents/{incident_id}/evidence/{sha256}", evidence.evidence_download)
    r.add_get("/items", items.items_page)
    r.add_get("/items/{item_id}", items.item_view)
    r.add_post("/items/{item_id}/{slug}", items.item_action)
    r.add_get("/sources", sources.sources_page)
    r.add_get("/sources/new", sources.new_source_form)
    r.add_post("/sources/new", sources.save_source)
    r.add_get("/sources/{source_id}/edit", sources.edit_source_form)
    r.add_post("/sources/{source_id}/edit", sources.save_source)
    r.add_get("/leader", leader.leader_view)
    r.add_get("/leader/rows", leader.leader_rows)
    r.add_get("/org", org.org_page)
    r.add_get("/org/people/new", org_people.new_person_form)
    r.add_post("/org/people/new", org_people.save_person)
    r.add_get("/org/people/{person_id}/edit", org_people.edit_person_form)
    r.add_post("/org/people/{person_id}/edit", org_people.save_person)
    r.add_post("/org/people/{person_id}/{switch:(disable|enable)}", org_people.set_person_disabled)
    r.add_get("/org/users/new", org_users.new_user_form)
    r.add_post("/org/users/new", org_users.create_account)
    r.add_get("/org/users/{user_id:\\d+}/edit", org_users.edit_user_form)
    r.add_post("/org/users/{user_id:\\d+}/edit", org_users.update_account)
    r.add_post("/org/users/{user_id:\\d+}/password", org_users.reset_password)
    r.add_post("/org/users/{user_id:\\d+}/{switch:(disable|enable)}", org_users.set_account_disabled)
    r.add_get("/reports", reports.reports_page)
    r.add_get("/reports/report.css", reports.report_css)
    r.add_get("/reports/ledger", reports.ledger_download)
    r.add_get("/reports/{month:\\d{4}-\\d{2}}", reports.reports_page)
    r.add_get("/reports/{month:\\d{4}-\\d{2}}/drill/{key}", reports.drill_page)
    r.add_get("/reports/{month:\\d{4}-\\d{2}}/download/{fmt}", reports.download)
    r.add_get("/account", account.account_page)
    r.add_post("/account/password", account.change_password)
    r.add_post("/account/token", account.create_token)
    r.add_post("/account/token/revoke", account.revoke_token)
    r.add_get("/api/openapi.json", openapi.openapi_json)
    r.add_get("/api/me", api.me)
    r.add_get("/api/incidents", api.list_incidents)
    r.add_get("/api/incidents/{incident_id}", api.get_incident)
    for spec, handler in api.API_ACTIONS:
        r.add_post(f"/api/incidents/{{incident_id}}/{spec.slug}", handler)
    r.add_post("/api/items/{item_id}/open", api.open_from_item)
    r.add_get("/api/sources", api.list_sources)
    r.add_get("/api/leader/due", api.leader_due)
    r.add_static("/static", STATIC)

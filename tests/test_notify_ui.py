"""Secrets never reach the web UI: after deliveries that fail with secrets in play (a webhook URL
carrying a token, a wrong Slack token, SMTP and signing secrets configured), every page and API
answer that shows the attempts — the incident timeline, the queue, the org directory, the API,
the metrics — is searched for each secret."""

from monitor.domain import EventKind, UserRole
from tests.notify_fakes import FakeSlack, start
from tests.notify_support import add_incident, alert_row, attempt_rows, enqueue, notifier, outbox_rows
from tests.web.conftest import make_env

LEADER = "jiang_wenbo"  # channels [slack, email]
SECRETS = {
    "slack_bot_token": "xoxb-ui-never-shows-this-1",
    "slack_signing_secret": "ui-signing-secret-2",
    "smtp_password": "ui-smtp-password-3",
    "webhook_secret": "ui-webhook-secret-4",
}
URL_TOKEN = "ui-token-in-the-url-5"


async def test_no_secret_appears_on_any_page_that_shows_deliveries(sqlite_db, clock, unused_tcp_port):
    slack = FakeSlack()  # answers invalid_auth: our token is not the one it knows
    server = await start(slack.app)
    settings = {
        **SECRETS,
        "slack_api_url": str(server.make_url("/api/")),
        "webhook_url": f"http://127.0.0.1:{unused_tcp_port}/hook?token={URL_TOKEN}",  # nothing listens there
        "smtp_host": "127.0.0.1",
        "smtp_port": unused_tcp_port,
        "smtp_user": "monitor",
        "smtp_from": "yuqing@minghu.gov.example",
        "notify_console": True,
        "notify_max_attempts": 1,
    }
    try:
        async for env in make_env(sqlite_db, clock, **settings):
            incident = await add_incident(sqlite_db, clock.now())
            await enqueue(
                sqlite_db,
                alert_row(clock.now(), incident, LEADER),
                alert_row(clock.now(), incident, LEADER, step="hook", channel="webhook"),
            )
            async with notifier(sqlite_db, clock, env.services.settings) as (n, _):
                for _ in range(4):
                    await n.run_once()
                    clock.advance(60)
            attempts = await attempt_rows(sqlite_db)
            assert {"failed", "sent"} <= {a.outcome for a in attempts}  # slack/webhook/e-mail failed, console sent
            assert any(r.kind == "system_alert" for r in await outbox_rows(sqlite_db))  # channel broken: alarm

            pages = {}
            for role in (UserRole.ADMIN, UserRole.DUTY_OFFICER, UserRole.LEADER):
                client = await env.login(role)
                for path in (f"/incidents/{incident}", f"/api/incidents/{incident}", "/queue", "/org", "/account"):
                    resp = await client.get(path)
                    pages[(role, path)] = (resp.status, await resp.text())
            metrics = await env.client.get("/metrics")
            pages[("-", "/metrics")] = (metrics.status, await metrics.text())
            timeline = pages[(UserRole.ADMIN, f"/incidents/{incident}")][1]
            assert "提醒发送失败" in timeline and "提醒已送达" in timeline  # the attempts are shown …
            assert "错误：Slack 应用配置错误：invalid_auth" in timeline and "（通用 Webhook" in timeline
            for (role, path), (status, text) in pages.items():
                assert status in (200, 401, 403, 404), (role, path, status)
                for secret in (*SECRETS.values(), URL_TOKEN):
                    assert secret not in text, (role, path, secret)  # … never the secrets
            failed = [e for e in await _events(env, incident) if e.kind == EventKind.NOTIFICATION_FAILED]
            assert failed and all(URL_TOKEN not in str(e.payload) for e in failed)
    finally:
        await server.close()


async def _events(env, incident):
    from monitor.storage.repo.incidents import list_events

    async with env.db.read() as conn:
        return await list_events(conn, incident)

"""市民来信/12345 on the incident page and the duty queue (SQLite and PostgreSQL): the prompt, the
one-click 7/15 working-day rules counted from the message's time, and the dismissal with a reason."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from monitor.domain import Incident, IncidentStatus, MediaType, UserRole
from monitor.domain.citizen import COMPLAINT_RULE, PROMPT_TEXT, SUGGESTION_RULE
from monitor.storage.repo.incident_detail import incident_obligations
from monitor.storage.repo.incidents import attach_items, create_incidents
from monitor.storage.repo.items import insert_items

from .conftest import WebEnv, confirmed_incident, post_form

H = timedelta(hours=1)
BADGE = "待定答复时限"


async def _message(env: WebEnv, incident: int, media_type: str, n: int = 1) -> None:
    """A 留言 published 50 hours before now (collected an hour later), attached to `incident`."""
    now = env.clock.now()
    async with env.db.write() as conn:
        keys = await insert_items(
            conn,
            [
                {
                    "dedup_key": f"citizen-{incident}-{n}",
                    "url": f"https://liuyan.minghu.gov.example/m/{n}",
                    "title": f"滨河花园小区连续三天停水{n}",
                    "text": "小区停水三天，物业不理，请政府协调。",
                    "fetched_at": now - 49 * H,
                    "published_at": now - 50 * H,
                    "created_at": now,
                    "media_tier": "self_media",
                    "media_type": media_type,
                    "relevant": True,
                }
            ],
        )
        await attach_items(conn, incident, [next(iter(keys.values()))[0]], now, {"why": "test"})


def _one_click(page: str, rule: str) -> dict[str, str]:
    """The hidden fields of the prompt's form for `rule`, as the browser would post them."""
    forms = re.findall(r'<form[^>]*class="inline citizen-attach">(.*?)</form>', page, re.S)
    form = next(f for f in forms if f'name="rule_id" value="{rule}"' in f)
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
    return {k: html.unescape(v) for k, v in fields if k != "_csrf"}


async def test_a_mailbox_incident_asks_for_a_deadline_and_one_click_counts_it_from_the_message(web_env_any):
    env = web_env_any
    incident = await confirmed_incident(env, title="滨河花园停水")
    await _message(env, incident, "mailbox")
    client = await env.login(UserRole.DUTY_OFFICER)
    queue = await (await client.get("/queue")).text()
    assert BADGE in queue
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert PROMPT_TEXT in page and "信箱来信「滨河花园小区连续三天停水1」" in page
    assert "不设答复时限" in page
    fields = _one_click(page, SUGGESTION_RULE)
    published = env.clock.now() - 50 * H
    assert fields["t0"] == published.isoformat()
    assert (await post_form(client, f"/incidents/{incident}/actions/rules", fields)).status == 303
    async with env.db.read() as conn:
        obligations = await incident_obligations(conn, incident)
    ob = next(o for o in obligations if o.rule_id == SUGGESTION_RULE)
    assert ob.t0 == published  # the message's time, not the click
    assert ob.due_at == env.services.calendar.working_days_due(published, 7)
    assert PROMPT_TEXT not in await (await client.get(f"/incidents/{incident}")).text()
    assert BADGE not in await (await client.get("/queue")).text()


async def test_a_12345_prompt_is_dismissed_only_with_a_reason_and_then_leaves_the_queue(web_env_any):
    env = web_env_any
    incident = await confirmed_incident(env, title="12345 反映噪音")
    await _message(env, incident, "hotline_12345")
    client = await env.login(UserRole.DUTY_OFFICER)
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert PROMPT_TEXT in page and "12345来信" in page and COMPLAINT_RULE in page
    empty = await post_form(client, f"/incidents/{incident}/actions/citizen-prompt-dismissals", {"reason": ""})
    assert empty.status == 400
    assert "「理由」为必填项" in await empty.text()
    form = {"reason": "系咨询电话，已当场答复"}
    done = await post_form(client, f"/incidents/{incident}/actions/citizen-prompt-dismissals", form)
    assert done.status == 303
    after = await (await client.get(f"/incidents/{incident}")).text()
    assert PROMPT_TEXT not in after and "系咨询电话，已当场答复" in after  # kept on the timeline
    assert BADGE not in await (await client.get("/queue")).text()
    [entry] = await env.audit("incident.dismiss_citizen_prompt")
    assert entry.actor == "duty" and entry.after["input"] == {"reason": "系咨询电话，已当场答复"}


async def test_other_media_ask_nothing_and_a_future_start_is_refused_on_the_form(web_env_any):
    env = web_env_any
    incident = await confirmed_incident(env, title="论坛热帖")
    await _message(env, incident, "forum")
    client = await env.login(UserRole.DUTY_OFFICER)
    assert PROMPT_TEXT not in await (await client.get(f"/incidents/{incident}")).text()
    assert BADGE not in await (await client.get("/queue")).text()
    future = (env.clock.now() + H).isoformat()
    resp = await post_form(client, f"/incidents/{incident}/actions/rules", {"rule_id": COMPLAINT_RULE, "t0": future})
    assert resp.status == 400 and "「起算时间」不能晚于当前时间" in await resp.text()
    async with env.db.read() as conn:
        assert all(o.rule_id != COMPLAINT_RULE for o in await incident_obligations(conn, incident))


async def test_an_imported_mailbox_row_without_items_asks_from_its_message_time(web_env_any):
    env = web_env_any
    now = env.clock.now()
    left = now - 30 * H
    row = Incident(
        title="留言：路灯不亮",
        detected_at=now - 2 * H,
        first_published_at=left,
        status=IncidentStatus.HANDLING,
        owner_unit="housing",
        media_type=MediaType.MAILBOX,
    )
    async with env.db.write() as conn:
        (incident,) = await create_incidents(conn, [row], now)
    client = await env.login(UserRole.DUTY_OFFICER)
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert PROMPT_TEXT in page and "导入台账" in page
    assert _one_click(page, COMPLAINT_RULE)["t0"] == left.isoformat()
    assert BADGE in await (await client.get("/queue")).text()

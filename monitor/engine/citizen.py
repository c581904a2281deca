"""不设市民来信答复时限: a person closes the 12345/信箱 deadline prompt with a reason.

The prompt itself is derived (monitor.domain.citizen); attaching GB2014-WEB-SUGGESTION-7WD or
GB2014-WEB-COMPLAINT-15WD (AttachRule) also settles it. Dismissing it changes no deadline, so the
fencing token is not bumped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.domain import EventKind
from monitor.domain import commands as c
from monitor.domain.citizen import CITIZEN_RULES, prompt_settled
from monitor.engine.handlers import Change, CommandRejected, Ctx

MAX_REASON = 1000


def dismiss_citizen_prompt(ctx: Ctx, cmd: c.DismissCitizenPrompt) -> Change:
    reason = (cmd.reason or "").strip()
    if not reason:
        raise CommandRejected("请填写不设答复时限的理由（如：系重复来信，已在其他事件中答复）。")
    if len(reason) > MAX_REASON:
        raise CommandRejected(f"理由不能超过 {MAX_REASON} 个字，请精简后再提交。")
    if prompt_settled(ctx.timeline):
        rules = {e.payload.get("rule") for e in ctx.timeline if e.kind == EventKind.RULE_ATTACHED}
        attached = bool(rules & set(CITIZEN_RULES))
        why = "已附加市民来信答复时限" if attached else "已登记过不设答复时限"
        raise CommandRejected(f"本事件{why}，无需再次处理。")
    event = ctx.event(EventKind.CITIZEN_PROMPT_DISMISSED, cmd, {"reason": reason})
    return Change(ctx.incident, [event], bump=False, message="已登记：本事件不设市民来信答复时限")


CITIZEN_HANDLERS: dict[type, Callable[[Ctx, Any], Change]] = {c.DismissCitizenPrompt: dismiss_citizen_prompt}

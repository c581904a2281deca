"""Credentials of the channels, and redaction of them from everything we store or log.

Settings secrets (Slack token, SMTP password …) come from `Settings`; group robots' webhook URLs
(which carry an access token) and signing secrets come from the environment variables the org
directory names. Errors stored on outbox rows, timeline events and log lines pass `redact()`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from monitor.config import REDACTED, Settings, settings_table
from monitor.domain import OrgDirectory, Robot


@dataclass(frozen=True)
class RobotCredentials:
    robot: Robot
    url: str
    secret: str | None


class Redactor:
    """Replaces every known secret value (and URL tokens) in a text with ***."""

    def __init__(self, values: Iterable[str]) -> None:
        found = {v for v in values if v and len(v) >= 4}
        for value in list(found):
            if "://" in value:
                found.update(v for _, v in parse_qsl(urlsplit(value).query) if len(v) >= 8)
        self._values = sorted(found, key=len, reverse=True)  # longest first: a URL before its token
        self._pattern = re.compile("|".join(map(re.escape, self._values))) if self._values else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern else text

    def extend(self, values: Iterable[str]) -> Redactor:
        return Redactor([*self._values, *values])


def robot_credentials(org: OrgDirectory, env: Mapping[str, str]) -> dict[str, RobotCredentials]:
    """Robots whose webhook URL is set in the environment (the others are simply not usable)."""
    found = {}
    for robot in org.robots.values():
        url = env.get(robot.webhook_env, "").strip()
        if url:
            secret = env.get(robot.secret_env, "").strip() if robot.secret_env else ""
            found[robot.id] = RobotCredentials(robot, url, secret or None)
    return found


def build_redactor(settings: Settings, robots: Mapping[str, RobotCredentials]) -> Redactor:
    values = [str(getattr(settings, info.name)) for info in settings_table() if info.secret]
    for cred in robots.values():
        values += [cred.url, cred.secret or ""]
    if settings.webhook_url:
        values.append(settings.webhook_url) if "?" in settings.webhook_url else None
    return Redactor(values)

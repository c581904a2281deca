"""Who gets a notification where: a person's channels in preference (= fallback) order, and quiet hours.

Both can also be set per role (`notify_role_channels`, `notify_role_quiet_hours`): an alert addressed
to someone in a role (payload `role`) tries the role's channels first, then the person's own; its
quiet hours are the person's own (org file), else the role's, else `notify_quiet_hours`.

A channel is usable for a person when it is configured (token, SMTP host, robot URL …) and the
person has an address on it (Slack user, e-mail, a unit with a group robot of that kind). When the
console channel is on (the demo), it is everyone's last resort.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from monitor.clock import SHANGHAI
from monitor.config import ConfigError
from monitor.domain import ChannelKind, OrgDirectory, Person, Role
from monitor.notifications.model import Destination
from monitor.notifications.secrets import RobotCredentials

_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class RoutingError(ValueError):
    """A notification cannot be routed (unknown person, no usable channel); the message says why."""


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str, what: str = "notify_quiet_hours") -> QuietHours | None:
        if not text.strip():
            return None
        m = _RANGE.match(text.strip())
        if not m or int(m[1]) > 23 or int(m[3]) > 23 or int(m[2]) > 59 or int(m[4]) > 59:
            raise ConfigError(f"{what} {text!r} is not a time range; write HH:MM-HH:MM, e.g. 22:00-07:30")
        return cls(time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4])))

    def until(self, now: datetime) -> datetime | None:
        """The end of the quiet period `now` falls in (Asia/Shanghai), or None when not quiet."""
        local = now.astimezone(SHANGHAI)
        t = local.time()
        overnight = self.start > self.end
        quiet = (t >= self.start or t < self.end) if overnight else (self.start <= t < self.end)
        if not quiet or self.start == self.end:
            return None
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end


NEVER = "never"


def _role_map(text: str, what: str) -> dict[Role, str]:
    """ "role: value; role: value" -> {Role: value}; a clear ConfigError for anything else."""
    found: dict[Role, str] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, colon, value = part.partition(":")
        if not colon:
            raise ConfigError(f"{what}: {part!r} has no ':'; write role: value, e.g. \"principal: 23:00-07:00\"")
        try:
            role = Role(name.strip())
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise ConfigError(f"{what}: unknown role {name.strip()!r} in {part!r}; use one of {roles}") from None
        found[role] = value.strip()
    return found


def role_channels(text: str) -> dict[Role, tuple[ChannelKind, ...]]:
    """Parse notify_role_channels: "duty_officer: dingtalk, console; principal: slack, email"."""
    result: dict[Role, tuple[ChannelKind, ...]] = {}
    for role, value in _role_map(text, "notify_role_channels").items():
        channels = []
        for name in (v.strip() for v in value.split(",") if v.strip()):
            try:
                channels.append(ChannelKind(name))
            except ValueError:
                kinds = ", ".join(c.value for c in ChannelKind)
                raise ConfigError(
                    f"notify_role_channels: unknown channel {name!r} for {role.value}; use {kinds}"
                ) from None
        result[role] = tuple(channels)
    return result


def role_quiet_hours(text: str) -> dict[Role, QuietHours | None]:
    """Parse notify_role_quiet_hours: "duty_officer: never; principal: 23:00-07:00" (None = never quiet)."""
    return {
        role: None if value in ("", NEVER) else QuietHours.parse(value, f"notify_role_quiet_hours ({role.value})")
        for role, value in _role_map(text, "notify_role_quiet_hours").items()
    }


@dataclass(frozen=True)
class Router:
    org: OrgDirectory
    enabled: Collection[ChannelKind]  # channels whose settings are present
    robots: Mapping[str, RobotCredentials]
    default_quiet: QuietHours | None = None
    console_fallback: bool = False
    role_channels: Mapping[Role, tuple[ChannelKind, ...]] = field(default_factory=dict)
    role_quiet: Mapping[Role, QuietHours | None] = field(default_factory=lambda: {Role.DUTY_OFFICER: None})

    def person(self, person_id: str | None) -> Person:
        if person_id is None or person_id not in self.org.people:
            raise RoutingError(f"收件人 {person_id!r} 不在通讯录中")
        return self.org.people[person_id]

    def destinations(self, person: Person, unit_hint: str | None = None, role: str | None = None) -> list[Destination]:
        """The person's usable destinations, preferred first (the role's channels, when the alert is
        addressed to a role that has them, then the person's own); the console last when it is on."""
        found: list[Destination] = []
        ruled = _role(role)
        preferred = self.role_channels.get(ruled, ()) if ruled is not None else ()
        for channel in (*preferred, *person.channels):
            dest = self.destination(person, channel, unit_hint)
            if dest is not None and dest not in found:
                found.append(dest)
        if (
            self.console_fallback
            and ChannelKind.CONSOLE in self.enabled
            and not any(d.channel == ChannelKind.CONSOLE for d in found)
        ):
            found.append(Destination(ChannelKind.CONSOLE, "console", "console", person.name))
        return found

    def destination(self, person: Person, channel: ChannelKind, unit_hint: str | None = None) -> Destination | None:
        if channel not in self.enabled:
            return None
        if channel == ChannelKind.SLACK:
            return (
                Destination(channel, f"slack:{person.slack_user}", person.slack_user, person.name)
                if person.slack_user
                else None
            )
        if channel == ChannelKind.EMAIL:
            return Destination(channel, f"email:{person.email}", person.email, person.name) if person.email else None
        if channel in (ChannelKind.DINGTALK, ChannelKind.WECOM):
            robot = self.robot_for(person, channel, unit_hint)
            return (
                Destination(channel, f"{channel}:{robot.robot.id}", robot.robot.id, robot.robot.name) if robot else None
            )
        return Destination(channel, channel.value, channel.value, person.name)

    def robot_for(self, person: Person, kind: ChannelKind, unit_hint: str | None) -> RobotCredentials | None:
        """The group robot of that kind in the person's units; the incident's unit first."""
        units = [a.unit for a in person.roles]
        if unit_hint in units:
            units.remove(unit_hint)
            units.insert(0, unit_hint)
        for unit_id in units:
            robot_id = self.org.units[unit_id].robots.get(kind) if unit_id in self.org.units else None
            if robot_id and robot_id in self.robots:
                return self.robots[robot_id]
        return None

    def quiet_until(self, person: Person, now: datetime, role: str | None = None) -> datetime | None:
        """When a non-urgent notification to `person` (in `role`) may go out, if `now` is in their quiet hours.

        The person's own quiet_hours win; then those of the role the alert is addressed to, or — for
        an alert to no role (a report) — of the person's first role that has any (duty officers:
        never quiet by default); then notify_quiet_hours."""
        if person.quiet_hours is not None:
            quiet = QuietHours.parse(person.quiet_hours, f"quiet_hours of {person.id}")
        else:
            roles = [_role(role)] if _role(role) in self.role_quiet else [a.role for a in person.roles]
            ruled = next((r for r in roles if r in self.role_quiet), None)
            quiet = self.role_quiet[ruled] if ruled is not None else self.default_quiet
        return quiet.until(now) if quiet else None

    def duty_officers(self) -> list[Person]:
        return self.org.people_with(Role.DUTY_OFFICER)


def _role(value: str | None) -> Role | None:
    try:
        return Role(value) if value else None
    except ValueError:
        return None

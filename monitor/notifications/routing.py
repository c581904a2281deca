"""Who gets a notification where: a person's channels in preference (= fallback) order, and quiet hours.

A channel is usable for a person when it is configured (token, SMTP host, robot URL …) and the
person has an address on it (Slack user, e-mail, a unit with a group robot of that kind). When the
console channel is on (the demo), it is everyone's last resort.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Router:
    org: OrgDirectory
    enabled: Collection[ChannelKind]  # channels whose settings are present
    robots: Mapping[str, RobotCredentials]
    default_quiet: QuietHours | None = None
    console_fallback: bool = False

    def person(self, person_id: str | None) -> Person:
        if person_id is None or person_id not in self.org.people:
            raise RoutingError(f"收件人 {person_id!r} 不在通讯录中")
        return self.org.people[person_id]

    def destinations(self, person: Person, unit_hint: str | None = None) -> list[Destination]:
        """The person's usable destinations, preferred first; the console last when it is on."""
        found: list[Destination] = []
        for channel in person.channels:
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

    def quiet_until(self, person: Person, now: datetime) -> datetime | None:
        """When a non-urgent notification to `person` may go out, if `now` is in their quiet hours."""
        if person.quiet_hours is not None:
            quiet = QuietHours.parse(person.quiet_hours, f"quiet_hours of {person.id}")
        elif person.has_role(Role.DUTY_OFFICER):
            return None  # on duty: never held back
        else:
            quiet = self.default_quiet
        return quiet.until(now) if quiet else None

    def duty_officers(self) -> list[Person]:
        return self.org.people_with(Role.DUTY_OFFICER)

"""Load and validate the org directory YAML (e.g. playbooks/org/demo-city.yaml)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from monitor.domain import ChannelKind, OrgDirectory, OrgError, Person, Robot, Role, RoleAssignment, Unit, UnitKind
from monitor.policy.yamlfile import PolicyError, Section, YamlDoc, load_yaml

_SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
_MOBILE = re.compile(r"^1\d{10}$")
UNIT_KEYS = (
    "id",
    "name",
    "short_name",
    "kind",
    "parent",
    "vertical_managed",
    "aliases",
    "keywords",
    "places",
    "robots",
)
PERSON_KEYS = ("id", "name", "title", "mobile", "email", "slack_user", "roles", "channels", "quiet_hours")
_QUIET = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
ROBOT_KEYS = ("id", "kind", "name", "webhook_env", "secret_env")


def load_org(path: Path | str) -> OrgDirectory:
    """Read an org directory file; errors name the file, line, key and the fix."""
    doc = load_yaml(path)
    root = doc.root().only("version", "city", "units", "robots", "people")
    if root.get("version", int, 1) != 1:
        raise root.error("version", "unsupported version", "set version: 1")
    city = root.section("city")
    assert city is not None
    city.only("name", "province")
    robots = [_robot(s) for s in root.sections("robots", required=False)]
    units = [_unit(s) for s in root.sections("units")]
    people = [_person(s) for s in root.sections("people")]
    _check_references(root, {u.id for u in units}, {r.id for r in robots})
    try:
        return OrgDirectory.build(city.text("name"), units, people, robots)
    except OrgError as exc:
        raise _locate(doc, exc) from None


def _slug(section: Section, key: str = "id") -> str:
    value: str = section.text(key)
    if not _SLUG.match(value):
        raise section.error(
            key, f"{value!r} is not a valid id", "use lowercase letters, digits, '_' or '-', starting with a letter"
        )
    return value


def _robot(s: Section) -> Robot:
    s.only(*ROBOT_KEYS)
    kind = s.enum("kind", ChannelKind)
    if kind not in (ChannelKind.DINGTALK, ChannelKind.WECOM):
        raise s.error("kind", f"robots must be dingtalk or wecom, got {kind}", "use kind: dingtalk or kind: wecom")
    secret_env = s.text("secret_env", None)
    if kind == ChannelKind.WECOM and secret_env:
        raise s.error("secret_env", "WeCom group robots have no signing secret", "remove secret_env")
    return Robot(_slug(s), kind, s.text("name"), _env_name(s, "webhook_env"), secret_env and _env_name(s, "secret_env"))


def _env_name(s: Section, key: str) -> str:
    value: str = s.text(key)
    if not re.match(r"^[A-Z][A-Z0-9_]*$", value):
        raise s.error(key, f"{value!r} is not an environment variable name", "use UPPER_CASE letters, digits and '_'")
    return value


def _unit(s: Section) -> Unit:
    s.only(*UNIT_KEYS)
    kind = s.enum("kind", UnitKind)
    robots_section = s.section("robots", required=False)
    robots: dict[ChannelKind, str] = {}
    if robots_section is not None:
        robots_section.only("dingtalk", "wecom")
        robots = {ChannelKind(k): robots_section.text(k) for k in robots_section.data}
    places = s.strings("places")
    if places and not kind.is_locality:
        raise s.error(
            "places",
            "only townships and subdistricts have a gazetteer",
            "move these places to the unit that contains them",
        )
    return Unit(
        id=_slug(s),
        name=s.text("name"),
        short_name=s.text("short_name", s.text("name")),
        kind=kind,
        parent=s.text("parent", None),
        vertical_managed=s.get("vertical_managed", bool, False),
        aliases=s.strings("aliases"),
        keywords=s.strings("keywords"),
        places=places,
        robots=robots,
    )


def _person(s: Section) -> Person:
    s.only(*PERSON_KEYS)
    mobile = s.text("mobile", None)
    if mobile is not None and not _MOBILE.match(mobile):
        raise s.error(
            "mobile", f"{mobile!r} is not an 11-digit mobile number", 'quote it and write 11 digits, e.g. "13900000001"'
        )
    email = s.text("email", None)
    if email is not None and "@" not in email:
        raise s.error("email", f"{email!r} is not an e-mail address", "write name@domain")
    roles = []
    for r in s.sections("roles", required=False):
        r.only("role", "unit")
        roles.append(RoleAssignment(r.enum("role", Role), r.text("unit")))
    channels = tuple(_channel(s, i, c) for i, c in enumerate(s.strings("channels", ("email",))))
    quiet = s.text("quiet_hours", None)
    if quiet and not _QUIET.match(quiet):
        raise s.error(
            "quiet_hours", f"{quiet!r} is not a time range", 'write "HH:MM-HH:MM" (e.g. "22:00-07:30"), or "" for never'
        )
    person = Person(
        id=_slug(s),
        name=s.text("name"),
        title=s.text("title", ""),
        mobile=mobile,
        email=email,
        slack_user=s.text("slack_user", None),
        roles=tuple(roles),
        channels=channels,
        quiet_hours=quiet,
    )
    _check_channels(s, person)
    return person


def _channel(s: Section, index: int, raw: str) -> ChannelKind:
    try:
        return ChannelKind(raw)
    except ValueError:
        raise s.doc.error(
            (*s.path, "channels", index),
            f"unknown channel {raw!r}",
            f"use one of {', '.join(c.value for c in ChannelKind)}",
        ) from None


def _check_channels(s: Section, person: Person) -> None:
    needs = {ChannelKind.EMAIL: person.email, ChannelKind.SLACK: person.slack_user}
    for channel, address in needs.items():
        if channel in person.channels and not address:
            key = "email" if channel == ChannelKind.EMAIL else "slack_user"
            raise s.error(
                "channels", f"channel {channel} is listed but {key} is missing", f"add {key}: or remove {channel}"
            )
    if {ChannelKind.DINGTALK, ChannelKind.WECOM} & set(person.channels) and not person.mobile:
        raise s.error("channels", "dingtalk/wecom mention people by mobile, but mobile is missing", "add mobile:")


def _check_references(root: Section, unit_ids: set[str], robot_ids: set[str]) -> None:
    """Every id a file refers to must exist; errors point at the exact key."""
    _check_unique(root, "units")
    _check_unique(root, "people")
    _check_unique(root, "robots")
    for s in root.sections("units"):
        parent = s.text("parent", None)
        if parent is not None and parent not in unit_ids:
            raise s.error("parent", f"unknown unit id {parent!r}", _suggest(parent, unit_ids))
        robots = s.section("robots", required=False)
        for kind in robots.data if robots else ():
            assert robots is not None
            if robots.text(kind) not in robot_ids:
                raise robots.error(
                    kind, f"unknown robot id {robots.text(kind)!r}", _suggest(robots.text(kind), robot_ids)
                )
    for s in root.sections("people"):
        for r in s.sections("roles", required=False):
            if r.text("unit") not in unit_ids:
                raise r.error("unit", f"unknown unit id {r.text('unit')!r}", _suggest(r.text("unit"), unit_ids))


def _check_unique(root: Section, key: str) -> None:
    seen: set[str] = set()
    for s in root.sections(key, required=False):
        ident = s.text("id")
        if ident in seen:
            raise s.error("id", f"duplicate id {ident!r}", "give every entry its own id")
        seen.add(ident)


def _suggest(value: str, known: set[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    return f"did you mean '{close[0]}'?" if close else "use the id of an entry defined in this file"


def _locate(doc: YamlDoc, exc: OrgError) -> PolicyError:
    """Attach a line number to a cross-reference error from OrgDirectory.check()."""
    message = str(exc)
    match = re.match(r"(unit|person|robot) (\S+?):", message) or re.match(
        r"duplicate (unit|person|robot) id '([^']+)'", message
    )
    section = {"unit": "units", "person": "people", "robot": "robots"}
    if match:
        kind, ident = match.group(1), match.group(2)
        for i, entry in enumerate(doc.data.get(section[kind]) or []):
            if isinstance(entry, dict) and str(entry.get("id")) == ident:
                return doc.error((section[kind], i), message, "fix the reference so it names an existing id")
    return PolicyError(doc.file, None, "", message, "fix the reference so it names an existing id")

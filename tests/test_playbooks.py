"""The shipped playbooks load; bad ones are rejected naming file, line, key and fix."""

import shutil
from pathlib import Path

import pytest

from monitor.domain import ClockType, EventLevel, OpinionLevel, ResponseKind
from monitor.domain.playbooks import Levels, Playbook
from monitor.policy import PolicyError
from monitor.policy.playbooks import load_policy

REPO = Path(__file__).resolve().parent.parent
PLAYBOOKS = REPO / "playbooks"
DOMAIN_IDS = {
    "GB80-AUTH-RELEASE-5H",
    "GB61-PRESSCONF-24H",
    "GB61-RESPOND-48H",
    "GB61-CONTINUOUS",
    "YJB2015-PHONE-30MIN",
    "YJB2015-WRITTEN-1H",
    "OGI-REPLY-20WD",
    "OGI-SUPPLEMENT-NOTICE-7WD",
    "LOCAL-INTERPRETATION-3WD",
    "GB2014-WEB-SUGGESTION-7WD",
}


@pytest.mark.parametrize("path", [PLAYBOOKS / "rules.yaml", *sorted((PLAYBOOKS / "jurisdictions").glob("*.yaml"))])
def test_every_shipped_rules_file_loads(path):
    policy = load_policy(path)
    assert {r.id for r in policy.playbook.rules} >= DOMAIN_IDS
    assert Playbook.from_dict(policy.playbook.to_dict()).digest == policy.playbook.digest


def test_national_rules_keep_domain_semantics():
    book = load_policy(PLAYBOOKS / "rules.yaml").playbook
    five, press, respond = (book.rule(i) for i in ("GB80-AUTH-RELEASE-5H", "GB61-PRESSCONF-24H", "GB61-RESPOND-48H"))
    assert five and press and respond
    assert (five.limit, five.clock, five.t0.value) == (5, ClockType.NATURAL_HOURS, "event_occurred_at")
    assert five.met_by == {k.value for k in ResponseKind}  # any public release
    assert press.met_by == {"press_conference"}  # a 吹风会 only where a jurisdiction says so
    assert respond.t0.value == "earliest_publication"
    major = Levels(EventLevel.II, OpinionLevel.L1, True)
    minor = Levels(EventLevel.III, OpinionLevel.L2, True)
    assert five.applies_if.matches(major) and not five.applies_if.matches(minor)
    assert respond.applies_if.matches(minor) and not respond.applies_if.matches(major)
    assert book.rule("GB2014-WEB-SUGGESTION-7WD").extension_limit == 15
    assert book.rule("GB61-CONTINUOUS").cadence.total_seconds() == 24 * 3600


def test_jurisdiction_overrides_adds_and_keeps_national_ids():
    national = load_policy(PLAYBOOKS / "rules.yaml").playbook
    js = load_policy(PLAYBOOKS / "jurisdictions" / "jiangsu.yaml").playbook
    assert js.rule("JS2016-FIRST-RELEASE-6H").limit == 6
    assert js.rule("GB61-PRESSCONF-24H").met_by == {"press_conference", "briefing"}
    assert js.rule("GB61-CONTINUOUS").limit == 12
    assert js.rule("GB80-AUTH-RELEASE-5H") == national.rule("GB80-AUTH-RELEASE-5H")
    assert js.digest != national.digest


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "playbooks"
    shutil.copytree(PLAYBOOKS, dest, ignore=shutil.ignore_patterns("org", "scenarios"))
    return dest


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("limit_h: 5\n", "limit_h: -5\n", "rules[1].limit_h"),
        ("    met_by: [press_conference]", "    met_by: [press_conference, tv_show]", "rules[2].met_by[1]"),
        ("    ladder: triage", "    ladder: nowhere", "rules[0].ladder"),
        ("    t0: detected_at\n    attach", "    t0: when_ever\n    attach", "rules[0].t0"),
        ("    clock: natural_hours\n    limit_h: 5", "    clock: natural_hour\n    limit_h: 5", "rules[1].clock"),
        ("    action: triage", "    acton: triage", "rules[0].acton"),
    ],
)
def test_errors_name_file_line_key_and_fix(tmp_path, old, new, expect):
    root = _copy(tmp_path)
    rules = root / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert old in text
    rules.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy(rules)
    message = str(exc.value)
    assert "rules.yaml:" in message and expect in message and "fix:" in message, message


def test_ladder_errors_name_the_ladder_file(tmp_path):
    root = _copy(tmp_path)
    ladders = root / "ladders.yaml"
    ladders.write_text(ladders.read_text(encoding="utf-8").replace("roles: [duty_officer]}", "roles: [janitor]}", 1))
    with pytest.raises(PolicyError) as exc:
        load_policy(root / "rules.yaml")
    assert "ladders.yaml:" in str(exc.value) and "roles[0]" in str(exc.value) and "janitor" in str(exc.value)


@pytest.mark.parametrize("kind", ["returned", "supervised", "system_alert"])
def test_a_ladder_step_cannot_have_a_kind_the_engine_never_schedules(tmp_path, capsys, kind):
    """退回待改派 and 政府办督查 alerts follow a person's action, 系统告警 a problem: not a step's time."""
    from monitor.cli import main

    root = _copy(tmp_path)
    ladders = root / "ladders.yaml"
    text = ladders.read_text(encoding="utf-8")
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "kind: deadline_breach" in ln)
    ladders.write_text(text.replace("kind: deadline_breach", f"kind: {kind}", 1), encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy(root / "rules.yaml")
    message = str(exc.value)
    assert f"ladders.yaml:{line}" in message and "steps[1].kind" in message and repr(kind) in message, message
    assert "deadline_warning, deadline_breach, escalation, supervision" in message, message
    assert main(["--set", f"playbook_file={root / 'rules.yaml'}", "check-playbooks"]) == 2
    assert f"ladders.yaml:{line} ladders.triage.steps[1].kind" in capsys.readouterr().err


def test_override_of_unknown_rule_is_an_error(tmp_path):
    root = _copy(tmp_path)
    js = root / "jurisdictions" / "jiangsu.yaml"
    js.write_text(js.read_text(encoding="utf-8").replace("  GB61-CONTINUOUS:", "  GB61-CONTINUUS:"), encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy(js)
    assert "jiangsu.yaml:" in str(exc.value) and "GB61-CONTINUUS" in str(exc.value)


def test_check_playbooks_command_validates_everything(capsys):
    from monitor.cli import main

    assert main(["check-playbooks"]) == 0
    out = capsys.readouterr().out
    assert "rules.yaml: ok (in use)" in out and "jiangsu.yaml: ok" in out and "holidays.yaml: ok" in out

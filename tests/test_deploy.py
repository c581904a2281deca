"""deploy/: the files an operator copies must be current and must run what they say.

Docker cannot run on the development machines, so the Dockerfile and compose file are checked
statically: every file they copy exists and every command they run parses as a `monitor`
command. systemd units are checked with `systemd-analyze verify` where it exists.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from monitor.cli import build_parser
from monitor.config import example_toml, load_settings, settings_table

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SETTINGS = {info.env for info in settings_table()} | {f"{i.env}_FILE" for i in settings_table() if i.secret}


def _parses(argv: list[str]) -> None:
    """A `monitor` command line must reach a handler (argparse exits on anything it cannot parse)."""
    args = build_parser().parse_args(argv)
    assert callable(args.handler), argv


def test_example_config_is_current_and_every_line_is_valid(tmp_path: Path):
    text = (DEPLOY / "monitor.example.toml").read_text(encoding="utf-8")
    assert text == example_toml(), "regenerate: monitor config-dump --example > deploy/monitor.example.toml"
    assert tomllib.loads(text) == {}  # everything commented out
    for info in settings_table():
        assert info.env in text, info.name
    uncommented = "\n".join(line[2:] for line in text.splitlines() if re.match(r"^# [a-z_]+ = ", line))
    (tmp_path / "all.toml").write_text(uncommented, encoding="utf-8")
    loaded = load_settings(config_file=tmp_path / "all.toml", env={})  # every default, written out, is accepted
    assert set(loaded.origins.values()) == {str(tmp_path / "all.toml"), "default"}
    assert [o for o in loaded.origins.values() if o == "default"] == ["default"] * sum(
        1 for i in settings_table() if i.secret
    )


def _dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [
        (line.split()[0].upper(), line.split(maxsplit=1)[1] if " " in line else "")
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_dockerfile_copies_what_exists_runs_as_a_user_and_checks_health():
    instructions = _dockerfile()
    copies = [arg.split() for op, arg in instructions if op == "COPY" and not arg.startswith("--from")]
    for *sources, _dest in copies:
        for source in sources:
            assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    for *sources, _dest in copies:
        for source in sources:
            assert f"!{source.rstrip('/')}" in ignore or f"!{source}/" in ignore, f"{source} excluded by dockerignore"
    users = [arg for op, arg in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert any(op == "HEALTHCHECK" and "MONITOR_HEALTH_URL" in arg for op, arg in instructions)
    entry = next(arg for op, arg in instructions if op == "ENTRYPOINT")
    cmd = next(arg for op, arg in reversed(instructions) if op == "CMD" and arg.startswith("["))
    entry_argv, cmd_argv = yaml.safe_load(entry), yaml.safe_load(cmd)
    assert entry_argv == ["monitor"]
    assert shutil.which("monitor") or (REPO / ".venv/bin/monitor").exists()
    _parses(cmd_argv)
    for op, arg in instructions:
        if op == "ENV":
            names = re.findall(r"(MONITOR_[A-Z_]+)=", arg)
            assert set(names) - {"MONITOR_HEALTH_URL"} <= SETTINGS, names


def test_compose_services_run_valid_commands_with_known_settings():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"db", "migrate", "web", "worker"} <= set(services)
    for name, service in services.items():
        if name == "db":
            continue
        _parses(service["command"])
        unknown = {k for k in service["environment"] if k.startswith("MONITOR_")} - SETTINGS - {"MONITOR_HEALTH_URL"}
        assert not unknown, f"{name}: unknown settings {unknown}"
        assert set(service["secrets"]) <= set(compose["secrets"])
    assert services["web"]["environment"]["MONITOR_SERVE_ROLES"] == ""  # stateless web nodes
    assert "--role" in services["worker"]["command"]
    assert services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


UNITS = ["monitor-serve.service", "monitor-worker@.service", "monitor-backup.service"]


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_units_run_valid_commands(unit: str):
    text = (DEPLOY / "systemd" / unit).read_text(encoding="utf-8")
    commands = re.findall(r"^ExecStart(?:Pre)?=(.+)$", text, re.M)
    assert commands
    for command in commands:
        argv = shlex.split(command.replace("%i", "engine,notifier").replace("%%", "%"))
        if argv[0] == "/bin/sh":
            argv = shlex.split(argv[-1].replace("$(date +%Y%m%d-%H%M%S)", "20261122"))[1:]
        assert argv[0] == "/opt/monitor/bin/monitor", command
        _parses(argv[1:])
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet="):
        assert option in text, f"{unit} lacks {option}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path):
    monitor = shutil.which("monitor") or str(REPO / ".venv/bin/monitor")
    for source in (DEPLOY / "systemd").iterdir():
        (tmp_path / source.name).write_text(
            source.read_text(encoding="utf-8").replace("/opt/monitor/bin/monitor", monitor)
        )
    names = ["monitor-serve.service", "monitor-worker@engine.service", "monitor-backup.service", "monitor-backup.timer"]
    run = subprocess.run(
        ["systemd-analyze", "verify", *[str(tmp_path / n) for n in names]],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    problems = [line for line in (run.stdout + run.stderr).splitlines() if str(tmp_path) in line or "Unknown" in line]
    assert run.returncode == 0 and not problems, run.stdout + run.stderr


def test_nginx_example_streams_events_and_terminates_tls():
    conf = (DEPLOY / "nginx/monitor.conf").read_text(encoding="utf-8")
    events = conf[conf.index("location = /events") :].split("}")[0]
    for directive in ("proxy_buffering off", "proxy_cache off", "proxy_read_timeout 1h"):
        assert directive in events
    for directive in ("listen 443 ssl", "ssl_certificate ", "ssl_protocols TLSv1.2 TLSv1.3", "X-Forwarded-Proto"):
        assert directive in conf
    assert re.search(r"client_max_body_size (\d+)m", conf)

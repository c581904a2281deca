"""deploy/: the files an operator copies must be current and must run what they say.

The Dockerfile and compose file are checked statically everywhere (every file they copy exists,
every command they run parses as a `monitor` command, every setting is known). Where a Docker
daemon answers, the image is also built and run: `monitor migrate`, then `monitor serve`, until
its HEALTHCHECK reports healthy and /healthz and /readyz answer from the host. The build needs a
base image: python:3.11-slim, or on a host that cannot reach Docker Hub one made from the Debian
mirror by deploy/tools/offline-base-image.sh, named in MONITOR_TEST_DOCKER_BASE. The nginx
example is checked by `nginx -t` and then served for real in front of a loopback upstream, over
TLS with a throw-away certificate. systemd units are checked with `systemd-analyze verify`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web

from monitor.cli import build_parser
from monitor.config import example_toml, load_settings, settings_table
from monitor.runtime import STOP_GRACE_S

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
    for name, service in services.items():
        for other in service.get("depends_on", {}):
            assert other in services, f"{name} depends on {other}, which is not a service"
        if "build" in service:
            build = service["build"]
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file(), build
        for secret in service.get("secrets", []):
            assert f"{secret} " in (DEPLOY / "compose.yaml").read_text(encoding="utf-8").split("name:")[0], (
                f"the header comment does not say how to create the secret {secret}"
            )
    worker_env = services["worker"]["environment"]  # its HEALTHCHECK must ask the listener it opens
    assert (
        worker_env["MONITOR_HEALTH_URL"].split(":")[-1].split("/")[0] == worker_env["MONITOR_OPS_LISTEN"].split(":")[-1]
    )
    assert services["web"]["environment"]["MONITOR_SERVE_ROLES"] == ""  # stateless web nodes
    assert "--role" in services["worker"]["command"]
    assert services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_orchestrators_wait_longer_than_the_loops_may_take_to_stop():
    """SIGTERM lets each loop finish its pass for up to STOP_GRACE_S; whoever stops the process must
    wait longer before SIGKILL (Docker's default is 10 s), or a notifier mid-send is killed and its
    alert goes out again after the lease, as 'in doubt'."""
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]
    for name in ("web", "worker"):
        grace = services[name].get("stop_grace_period", "10s")
        assert re.fullmatch(r"\d+s", grace) and int(grace[:-1]) > STOP_GRACE_S, f"{name}: stop_grace_period {grace}"
    for unit in ("monitor-serve.service", "monitor-worker@.service"):
        timeout = re.search(r"^TimeoutStopSec=(\d+)$", (DEPLOY / "systemd" / unit).read_text(encoding="utf-8"), re.M)
        assert timeout and int(timeout.group(1)) > STOP_GRACE_S, unit


def _defaults(value: str) -> str:
    """A compose value with every `${VAR:-default}` as it reads when no variable is set."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_compose_defaults_are_the_production_ones():
    """The images, secrets and published port can be swapped by variables (a mirror, an air-gapped host,
    the compose test); unset, they are the official images, deploy/secrets/ and loopback:8080."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert _defaults(services["db"]["image"]) == "postgres:15"
    assert _defaults(services["web"]["build"]["args"]["BASE"]) == "python:3.11-slim"
    assert _defaults(services["web"]["image"]) == "minghu-monitor:latest"
    assert [_defaults(p) for p in services["web"]["ports"]] == ["127.0.0.1:8080:8080"]
    assert {_defaults(s["file"]) for s in compose["secrets"].values()} == {
        f"./secrets/{name}" for name in ("db_password", "session_secret", "metrics_token")
    }
    assert _defaults(services["web"]["env_file"]) == "./secrets/monitor.env"
    assert "BASE=python:3.11-slim" in (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    header = (DEPLOY / "compose.yaml").read_text(encoding="utf-8").split("\nname:")[0]
    variables = set(re.findall(r"\$\{([A-Z_]+):-", (DEPLOY / "compose.yaml").read_text(encoding="utf-8")))
    assert variables == {
        "POSTGRES_IMAGE",
        "MONITOR_BASE_IMAGE",
        "MONITOR_IMAGE",
        "MONITOR_WEB_PUBLISH",
        "MONITOR_SECRETS",
    }
    for variable in variables:
        assert variable in header, f"the header comment does not explain {variable}"


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


# --- the image, built and run where a Docker daemon answers ---------------------------------
DOCKER_BASE_ENV = "MONITOR_TEST_DOCKER_BASE"


def _docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and run.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args)} failed ({run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
        )
    return run


def _docker_base(what: str = "Docker image not built") -> str:
    """The base image to build on, or skip with what is missing and how to provide it."""
    if shutil.which("docker") is None:
        pytest.skip(f"{what}: the docker CLI is not installed")
    info = _docker("info", "--format", "{{.ServerVersion}}", timeout=30, check=False)
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        pytest.skip(f"{what}: no Docker daemon answers ({reason}); start dockerd or set DOCKER_HOST")
    return _local_or_pulled(
        os.environ.get(DOCKER_BASE_ENV, "python:3.11-slim"),
        f"{what}: base image {{image}} is neither local nor pullable; without Docker Hub build one "
        f"with deploy/tools/offline-base-image.sh and name it in {DOCKER_BASE_ENV}",
    )


def _local_or_pulled(image: str, skip_reason: str) -> str:
    if _docker("image", "inspect", image, check=False).returncode == 0:
        return image
    if _docker("pull", image, timeout=600, check=False).returncode != 0:
        pytest.skip(skip_reason.format(image=image))
    return image


def _wait_healthy(container: str, port: int, deadline_s: float) -> dict[str, str]:
    """Poll the container (a real process: wall time) until Docker's HEALTHCHECK reports healthy."""
    end, state = time.monotonic() + deadline_s, ""
    while time.monotonic() < end:
        state = _docker("inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", container).stdout.strip()
        if state.startswith("exited"):
            break
        if state == "running healthy":
            return {path: urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).read().decode()
                    for path in ("/healthz", "/readyz")}  # fmt: skip
        time.sleep(2)
    logs = _docker("logs", container, check=False)
    raise AssertionError(f"container not healthy ({state}):\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")


@pytest.mark.timeout(3600)
def test_the_image_builds_migrates_serves_and_reports_healthy():
    base = _docker_base()
    name = f"monitor-test-{secrets.token_hex(4)}"
    image, volume = f"minghu-monitor:{name}", name
    try:
        _docker("build", "-f", str(DEPLOY / "Dockerfile"), "--build-arg", f"BASE={base}", "-t", image, str(REPO),
                timeout=3000)  # fmt: skip
        config = _docker("image", "inspect", "--format", "{{.Config.User}} {{json .Config.Healthcheck.Test}}", image)
        user, check = config.stdout.strip().split(" ", 1)
        assert user == "monitor" and "MONITOR_HEALTH_URL" in check
        _docker("volume", "create", volume)
        migrated = _docker("run", "--rm", "-v", f"{volume}:/var/lib/monitor", image, "migrate", timeout=600)
        again = _docker("run", "--rm", "-v", f"{volume}:/var/lib/monitor", image, "migrate", timeout=600)
        assert migrated.returncode == again.returncode == 0  # safe to run twice
        # A short healthcheck interval so the test need not wait the production 30 s.
        _docker("run", "-d", "--name", name, "-v", f"{volume}:/var/lib/monitor", "-p", "127.0.0.1::8080",
                "--health-interval", "2s", "--health-start-period", "60s", image, timeout=600)  # fmt: skip
        port = int(_docker("port", name, "8080/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1])
        answers = _wait_healthy(name, port, deadline_s=600)
        assert '"ok"' in answers["/healthz"] and '"ready"' in answers["/readyz"], answers
        assert _docker("exec", name, "id", "-u").stdout.strip() == "10001"  # not root
        owner = _docker("exec", name, "stat", "-c", "%U", "/var/lib/monitor/monitor.db").stdout.strip()
        assert owner == "monitor"
    finally:
        _docker("rm", "-f", name, check=False)
        _docker("volume", "rm", "-f", volume, check=False)
        _docker("image", "rm", "-f", image, check=False)


# --- the compose stack, run where a Docker daemon and Compose v2 answer ----------------------
POSTGRES_IMAGE_ENV = "MONITOR_TEST_POSTGRES_IMAGE"
COMPOSE_WHAT = "compose stack not run"
STACK_DEADLINE_S = 600.0  # real containers starting on a busy 2-core VM: wall time


def _compose_v2() -> str:
    run = _docker("compose", "version", "--short", timeout=30, check=False)
    if run.returncode != 0:
        pytest.skip(
            f"{COMPOSE_WHAT}: `docker compose` (Compose v2) is not installed (Debian 12's docker-compose 1.29 "
            "cannot read the Compose Specification); install it with deploy/tools/compose-v2-from-debian.sh"
        )
    return run.stdout.strip()


def _compose_secrets(directory: Path) -> dict[str, str]:
    """The four secret files the compose header asks for, owned and moded as it says (root) or 0444."""
    directory.mkdir()
    password = secrets.token_hex(16)
    values = {
        "db_password": password,
        "session_secret": secrets.token_hex(32),
        "metrics_token": secrets.token_hex(16),
        "monitor.env": f"MONITOR_DATABASE_URL=postgresql+asyncpg://monitor:{password}@db:5432/monitor",
    }
    owners = {"db_password": 999, "session_secret": 10001, "metrics_token": 10001}
    for name, value in values.items():
        path = directory / name
        path.write_text(value + "\n", encoding="utf-8")
        if name in owners and os.geteuid() == 0:
            os.chown(path, owners[name], owners[name])
            path.chmod(0o400)
        else:
            path.chmod(0o600 if name == "monitor.env" else 0o444)
    return values


def _compose_states(compose: Any) -> dict[str, dict[str, Any]]:
    out = compose("ps", "--all", "--format", "json").stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]
    if not rows and out.strip().startswith("["):
        rows = json.loads(out)
    return {row["Service"]: row for row in rows}


def _wait_stack(compose: Any, healthy: set[str], deadline_s: float) -> dict[str, dict[str, Any]]:
    """Poll (real containers: wall time) until every service in `healthy` reports healthy."""
    end, states = time.monotonic() + deadline_s, {}
    while time.monotonic() < end:
        states = _compose_states(compose)
        if any(states.get(s, {}).get("State") == "exited" for s in healthy) or (
            states.get("migrate", {}).get("State") == "exited" and states["migrate"].get("ExitCode") not in (0, None)
        ):
            break
        if all(states.get(s, {}).get("Health") == "healthy" for s in healthy):
            return states
        time.sleep(2)
    logs = compose("logs", "--no-color", "--tail", "60", check=False)
    summary = {s: (v.get("State"), v.get("Health"), v.get("ExitCode")) for s, v in states.items()}
    raise AssertionError(f"stack not healthy: {summary}\n{logs.stdout[-6000:]}{logs.stderr[-2000:]}")


def test_compose_v2_accepts_the_file_as_written_and_with_every_override(tmp_path: Path):
    """`docker compose config` (no daemon needed) reads the file, unset and with every variable set."""
    if shutil.which("docker") is None:
        pytest.skip(f"{COMPOSE_WHAT}: the docker CLI is not installed")
    _compose_v2()
    _compose_secrets(tmp_path / "secrets")
    swapped = {
        "POSTGRES_IMAGE": "mirror.example/postgres:15",
        "MONITOR_BASE_IMAGE": "mirror.example/python:3.11-slim",
        "MONITOR_IMAGE": "mirror.example/minghu-monitor:1",
        "MONITOR_WEB_PUBLISH": "127.0.0.1:18080",
        "MONITOR_SECRETS": str(tmp_path / "secrets"),
    }
    env = {k: v for k, v in os.environ.items() if k not in swapped}
    run = subprocess.run(
        ["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, env={**env, **swapped},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    config = json.loads(run.stdout)
    assert config["name"] == "minghu-monitor"
    assert config["services"]["db"]["image"] == swapped["POSTGRES_IMAGE"]
    assert {config["services"][s]["image"] for s in ("migrate", "web", "worker")} == {swapped["MONITOR_IMAGE"]}
    assert config["services"]["web"]["build"]["args"]["BASE"] == swapped["MONITOR_BASE_IMAGE"]
    assert config["services"]["web"]["ports"][0]["published"] == "18080"
    assert config["secrets"]["db_password"]["file"] == str(tmp_path / "secrets/db_password")
    # Unset, the file still parses down to the env_file it needs: the message names deploy/secrets.
    unset = subprocess.run(
        ["docker", "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    if not (DEPLOY / "secrets/monitor.env").exists():
        assert unset.returncode != 0 and str(DEPLOY / "secrets/monitor.env") in unset.stderr, unset.stderr


@pytest.mark.timeout(3600)
def test_the_compose_stack_runs_postgresql_migrate_web_and_a_worker(tmp_path: Path):
    """`docker compose up` of deploy/compose.yaml as an operator runs it, with only the images swapped
    for local ones where Docker Hub cannot be reached (MONITOR_TEST_DOCKER_BASE, MONITOR_TEST_POSTGRES_IMAGE)."""
    base = _docker_base(COMPOSE_WHAT)
    _compose_v2()
    postgres = _local_or_pulled(
        os.environ.get(POSTGRES_IMAGE_ENV, "postgres:15"),
        f"{COMPOSE_WHAT}: PostgreSQL image {{image}} is neither local nor pullable; without Docker Hub build "
        f"deploy/tools/postgres-standin on the offline base and name it in {POSTGRES_IMAGE_ENV}",
    )
    project = f"monitor-test-{secrets.token_hex(4)}"
    image = f"minghu-monitor:{project}"
    values = _compose_secrets(tmp_path / "secrets")
    # Test-only: healthchecks every 2 s instead of the image's 30 s, so healthy arrives sooner.
    override = tmp_path / "compose.test.yaml"
    override.write_text(
        yaml.safe_dump({"services": {s: {"healthcheck": {"interval": "2s"}} for s in ("web", "worker")}})
    )
    env = {
        **os.environ,
        "MONITOR_BASE_IMAGE": base,
        "POSTGRES_IMAGE": postgres,
        "MONITOR_IMAGE": image,
        "MONITOR_SECRETS": str(tmp_path / "secrets"),
        "MONITOR_WEB_PUBLISH": "127.0.0.1:",  # an ephemeral host port: 8080 may be taken on this host
    }

    def compose(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = ["docker", "compose", "-p", project, "-f", str(DEPLOY / "compose.yaml"), "-f", str(override), *args]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
        if check and run.returncode != 0:
            raise AssertionError(
                f"{shlex.join(argv[3:])} failed ({run.returncode}):\n{run.stdout[-4000:]}{run.stderr[-4000:]}"
            )
        return run

    def psql(sql: str) -> list[str]:
        run = compose("exec", "-T", "db", "psql", "-U", "monitor", "-d", "monitor", "-Atc", sql, timeout=60)
        return run.stdout.split()

    try:
        compose("up", "--detach", "--build", timeout=3000)
        states = _wait_stack(compose, {"db", "web", "worker"}, STACK_DEADLINE_S)
        assert states["migrate"]["State"] == "exited" and states["migrate"]["ExitCode"] == 0, states["migrate"]
        assert psql("select current_user") == ["monitor"]
        assert psql("select count(*) from alembic_version") == ["1"]  # the schema the migrate service made

        # The web node, from the host through the published port, against PostgreSQL.
        port = int(compose("port", "web", "8080").stdout.strip().rsplit(":", 1)[1])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            assert resp.status == 200 and json.load(resp) == {"status": "ok"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as resp:
            ready = json.load(resp)
            assert resp.status == 200 and ready["status"] == "ready", ready
        assert ready["checks"]["database"]["ok"] and ready["checks"]["schema"]["ok"], ready
        assert not [c for c in ready["checks"] if c.startswith("loop:") and c != "loop:web"], ready  # stateless

        def inside(service: str, url: str, token: str = "") -> str:
            """GET `url` from within the service's container (the ops port is not published)."""
            code = (
                "import sys, urllib.request as u; r = u.Request(sys.argv[1]); "
                "sys.argv[2] and r.add_header('Authorization', 'Bearer ' + sys.argv[2]); "
                "print(u.urlopen(r, timeout=5).read().decode())"
            )
            return compose("exec", "-T", service, "python", "-c", code, url, token, timeout=60).stdout

        # The worker: its own ops listener (which its HEALTHCHECK asks) says ready with its loops.
        worker = json.loads(inside("worker", "http://127.0.0.1:9108/readyz"))
        assert worker["status"] == "ready", worker
        loops = {c.removeprefix("loop:") for c in worker["checks"] if c.startswith("loop:")}
        assert {"collector", "engine", "notifier"} <= {loop.split(":")[0] for loop in loops}, worker
        # Both processes beat in PostgreSQL: the web node and every role of the worker (each after its first pass).
        roles, end = {"web", "collector", "engine", "notifier", "scheduler"}, time.monotonic() + 120
        while not roles <= (beating := set(psql("select distinct component from heartbeats"))):
            assert time.monotonic() < end, f"no heartbeat from {roles - beating} in 120 s"
            time.sleep(2)
        assert compose("exec", "-T", "worker", "id", "-u", timeout=60).stdout.strip() == "10001"

        # /metrics stays behind the token the secret file holds.
        assert "monitor_" in inside("worker", "http://127.0.0.1:9108/metrics", values["metrics_token"])

        # `monitor migrate` again, as a release upgrade runs it: safe twice.
        compose("run", "--rm", "--no-deps", "migrate", timeout=600)

        compose("down", "--volumes", timeout=600)
        label = f"label=com.docker.compose.project={project}"
        assert _docker("ps", "--all", "--quiet", "--filter", label).stdout.strip() == ""
        assert _docker("volume", "ls", "--quiet", "--filter", label).stdout.strip() == ""
        assert _docker("network", "ls", "--quiet", "--filter", label).stdout.strip() == ""
    finally:
        compose("down", "--volumes", "--remove-orphans", timeout=600, check=False)
        # Every monitor service builds (one `up --build` works whichever is started): the tag and the
        # untagged twins all carry the project label.
        built = _docker("images", "--quiet", "--filter", f"label=com.docker.compose.project={project}", check=False)
        _docker("image", "rm", "-f", image, *set(built.stdout.split()), check=False)


# --- the nginx example, checked by nginx itself and then served ------------------------------
NGINX_HOST = "yuqing.example.gov.cn"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _nginx_site(tmp_path: Path, http_port: int, https_port: int, upstream_port: int) -> Path:
    """The example with a throw-away certificate and loopback ports; returns a main nginx.conf."""
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        pytest.skip("nginx example not checked: nginx or openssl is not installed (apt-get install nginx-light)")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={NGINX_HOST}",
         "-addext", f"subjectAltName=DNS:{NGINX_HOST},IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (DEPLOY / "nginx/monitor.conf").read_text(encoding="utf-8")
    replacements = {
        f"/etc/nginx/tls/{NGINX_HOST}.fullchain.pem": str(cert),
        f"/etc/nginx/tls/{NGINX_HOST}.key": str(key),
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{upstream_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
    }
    for old, new in replacements.items():
        assert old in site, f"the nginx example no longer contains {old!r}; update this test"
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)  # no IPv6 needed here
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    main = tmp_path / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the temp dirs under tmp_path
    main.write_text(
        f"{user}daemon off;\npid {tmp_path}/nginx.pid;\nerror_log stderr notice;\nevents {{}}\nhttp {{\n"
        f"  access_log off;\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    return main


def test_nginx_accepts_the_example(tmp_path: Path):
    main = _nginx_site(tmp_path, _free_port(), _free_port(), 8080)
    run = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0 and "test is successful" in run.stderr, run.stderr


async def test_nginx_streams_events_unbuffered_over_tls_and_overwrites_forwarded_headers(tmp_path: Path):
    seen: list[dict[str, str]] = []
    release = asyncio.Event()

    async def events(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        await resp.write(b"event: queue\ndata: {}\n\n")  # far below any proxy buffer size
        await release.wait()  # the stream stays open: the client must have the event already
        return resp

    async def page(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(text="queue")

    app = web.Application()
    app.router.add_get("/events", events)
    app.router.add_get("/", page)
    app.router.add_get("/metrics", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    http_port, https_port = _free_port(), _free_port()
    main = _nginx_site(tmp_path, http_port, https_port, int(runner.addresses[0][1]))
    errors = (tmp_path / "nginx.err").open("wb")
    nginx = await asyncio.create_subprocess_exec("nginx", "-p", str(tmp_path), "-c", str(main), stderr=errors)
    tls = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))
    base = f"https://127.0.0.1:{https_port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):  # until nginx listens (a real process: wall time)
                try:
                    async with http.get(f"{base}/", ssl=tls, headers={"X-Forwarded-For": "203.0.113.9"}) as resp:
                        assert resp.status == 200 and await resp.text() == "queue"
                    break
                except aiohttp.ClientConnectorError:
                    assert nginx.returncode is None, (tmp_path / "nginx.err").read_text()
                    await asyncio.sleep(0.05)
            assert seen[-1]["X-Forwarded-For"] == "127.0.0.1"  # overwritten, never the client's claim
            assert seen[-1]["X-Forwarded-Proto"] == "https" and seen[-1]["Host"] == "127.0.0.1"
            async with http.get(f"{base}/events", ssl=tls) as resp:
                assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
                first = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 10)
                assert first == b"event: queue\ndata: {}\n\n"
                release.set()
            async with http.get(f"{base}/metrics", ssl=tls) as resp:
                assert resp.status == 404  # Prometheus scrapes ops_listen, never through the public proxy
            async with http.get(f"http://127.0.0.1:{http_port}/x?y=1", allow_redirects=False) as resp:
                assert resp.status == 301 and resp.headers["Location"] == "https://127.0.0.1/x?y=1"
            async with http.get(f"{base}/", ssl=tls) as resp:
                assert "max-age=63072000" in resp.headers["Strict-Transport-Security"]
    finally:
        release.set()
        nginx.terminate()
        await asyncio.wait_for(nginx.wait(), 30)
        errors.close()
        await runner.cleanup()

"""`monitor serve` and `monitor worker` as real processes: one engine per SQLite file, clear refusals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.clock import (
    TEST_CLOCK_ENV,
    TEST_CLOCK_GUARD,
    TEST_CLOCK_GUARD_VALUE,
    AcceleratedClock,
    ClockConfigError,
    SystemClock,
    clock_from_env,
)


def _env(tmp_path: Path, db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    return {**env, "MONITOR_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "MONITOR_DATA_DIR": str(tmp_path),
            "MONITOR_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1", **extra}  # fmt: skip


def _wait_for_line(proc: subprocess.Popen[str], needle: str) -> list[str]:
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never logged; got:\n{''.join(lines)}")


def test_a_second_serve_on_the_same_sqlite_file_is_refused(tmp_path: Path, sqlite_template: Path):
    db = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, db)
    first = subprocess.Popen(  # the engine is what must be alone; the other roles only slow the test down
        [sys.executable, "-m", "monitor", "--set", "serve_roles=engine", "serve", "--port", "0"],
        env=_env(tmp_path, db), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        lines = _wait_for_line(first, '"event": "web.listen"')
        started = json.loads(lines[-1])
        assert started["level"] == "INFO" and started["port"] > 0
        second = subprocess.run(
            [sys.executable, "-m", "monitor", "--set", "serve_roles=engine,collector", "serve", "--port", "0"],
            env=_env(tmp_path, db), capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert second.returncode == 2
        assert "another engine runner is already using" in second.stderr
        assert f"pid {first.pid}" in second.stderr and "monitor worker --role engine" in second.stderr
        # a web-only node (no engine) may share the file: it is the engine that must be alone
        web_only = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--set", "serve_roles=", "serve", "--port", "0"],
            env=_env(tmp_path, db), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp_path,
        )  # fmt: skip
        try:
            _wait_for_line(web_only, '"event": "web.listen"')
        finally:
            web_only.send_signal(signal.SIGTERM)
            assert web_only.wait(60) == 0
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0  # SIGTERM is a clean stop


def test_worker_needs_postgresql_and_known_roles(tmp_path, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    assert main(["--database-url", url, "worker", "--role", "engine"]) == 2
    assert "monitor worker needs PostgreSQL" in capsys.readouterr().err
    assert main(["--database-url", url, "worker", "--role", "engine,mailer"]) == 2
    assert "--role: unknown role 'mailer'; use one or more of collector, engine, notifier, scheduler" in (
        capsys.readouterr().err
    )


def test_the_test_clock_needs_its_guard_and_says_so(tmp_path: Path, sqlite_template: Path):
    db = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, db)
    spec = AcceleratedClock.starting_now(datetime(2026, 9, 1, tzinfo=UTC), 60).spec
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "serve", "--port", "0"],
        env=_env(tmp_path, db, **{TEST_CLOCK_ENV: spec}), capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2
    assert "must be set together" in run.stderr and "In production unset both" in run.stderr


def test_clock_from_env():
    assert isinstance(clock_from_env({}), SystemClock)
    spec = "2026-09-01T01:00:00+00:00@1000.0x60.0"
    with pytest.raises(ClockConfigError, match="must be set together"):
        clock_from_env({TEST_CLOCK_ENV: spec})
    with pytest.raises(ClockConfigError, match="must be set together"):
        clock_from_env({TEST_CLOCK_ENV: spec, TEST_CLOCK_GUARD: "1"})
    with pytest.raises(ClockConfigError, match="must be set together"):
        clock_from_env({TEST_CLOCK_GUARD: TEST_CLOCK_GUARD_VALUE})
    clock = clock_from_env({TEST_CLOCK_ENV: spec, TEST_CLOCK_GUARD: TEST_CLOCK_GUARD_VALUE})
    assert isinstance(clock, AcceleratedClock) and AcceleratedClock.parse(clock.spec).spec == spec
    with pytest.raises(ClockConfigError, match="is not START@ANCHORxSPEED"):
        AcceleratedClock.parse("tomorrow")


def test_accelerated_clocks_agree_and_run_fast():
    start = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
    clock = AcceleratedClock.starting_now(start, 3600)
    other = AcceleratedClock.parse(clock.spec)  # another process's copy
    a = clock.now()
    b = other.now()
    assert start <= a <= b  # the same timeline in both
    earlier = AcceleratedClock(start, clock.anchor - 2.0, 3600)  # anchored 2 wall seconds ago
    assert (earlier.now() - start).total_seconds() >= 7200  # two simulated hours have passed

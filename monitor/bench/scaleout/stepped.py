"""A worker process driven step by step: the deterministic scale-out test's worker.

`python -m monitor.bench.scaleout.stepped --start ISO --instance NAME` opens the services the
way `monitor worker` does (settings from MONITOR_*, PostgreSQL or SQLite), prints one JSON line
`{"ready": NAME}`, then reads one JSON command per line on stdin and answers one JSON line on
stdout when the step is done:

    {"op": "collect" | "tick" | "notify", "now": "2026-09-01T01:05:00+00:00"}
    -> {"op": "notify", "now": "…", "claimed": 12, "sent": 12, …}

`collect` is one pass of the collector (lease due sources, fetch, store; no classification),
`tick` one engine tick, `notify` one notifier pass — the same code the loops of `monitor worker`
run between their waits. The process's clock is a `FakeClock` set to each command's `now`, so
the test decides what time it is in every process, which process takes which step and in which
order, and where a process dies (SIGKILL while the test's webhook sink or feed server holds its
request, or while its transaction waits on a row lock the test holds). Nothing here reads wall
time or waits for it. TESTS AND BENCHMARKS ONLY: it refuses to start without
MONITOR_TESTING=stepped-worker.

`StepWorker` is the driver's side: it starts such a process and sends it steps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from monitor.app import Services, open_services
from monitor.clock import TEST_CLOCK_GUARD, FakeClock, parse_instant
from monitor.collectors.polling import Collector, CollectorConfig
from monitor.config import load_settings
from monitor.engine.runner import Engine
from monitor.notifications.outbox import Notifier
from monitor.notifications.service import Channels, build_channels, create_notifier

log = logging.getLogger(__name__)

STEPPED_GUARD_VALUE = "stepped-worker"
OPS = ("collect", "tick", "notify")


class StepError(RuntimeError):
    """A worker process answered a step with an error, or ended without answering."""


@dataclass
class Roles:
    """The three roles of one stepped worker, sharing its services and clock."""

    services: Services
    clock: FakeClock
    collector: Collector
    engine: Engine
    notifier: Notifier
    channels: Channels

    async def step(self, op: str, now: datetime) -> dict[str, Any]:
        self.clock.set(now)
        if op == "collect":
            passed = await self.collector.run_once()
            return {"sources": passed.sources, "items_new": passed.items_new, "errors": passed.errors}
        if op == "tick":
            ticked = await self.engine.tick()
            return {"timers": ticked.timers, "stale": ticked.stale, "alerts": ticked.alerts}
        if op == "notify":
            report = await self.notifier.run_once()
            return {"claimed": report.claimed, "sent": report.sent, "failed": report.failed,
                    "deferred": report.deferred, "recovered": report.recovered}  # fmt: skip
        raise ValueError(f"unknown step {op!r}; use one of {', '.join(OPS)}")


async def _open(start: datetime, instance: str) -> Roles:
    settings = load_settings(env=os.environ).settings
    clock = FakeClock(start)
    services = await open_services(settings, clock=clock)
    rng = random.Random(instance)
    collector = Collector(services.db, clock, CollectorConfig.from_settings(settings), rng=rng, owner=instance)
    await collector.__aenter__()
    channels = build_channels(settings, services.org, os.environ, clock, rng)
    notifier = create_notifier(services.db, clock, settings, channels, rng=rng, worker=instance)
    engine = Engine(services, batch=settings.engine_batch, instance=instance)
    return Roles(services, clock, collector, engine, notifier, channels)


async def _serve(start: datetime, instance: str, stdin: IO[str], stdout: IO[str]) -> None:
    roles = await _open(start, instance)
    try:
        _answer(stdout, {"ready": instance})
        while line := await asyncio.to_thread(stdin.readline):
            command = json.loads(line)
            if command.get("op") == "quit":
                break
            try:
                result = await roles.step(command["op"], parse_instant(command["now"]))
            except Exception as exc:
                log.exception("step %s failed", command)
                _answer(stdout, {"op": command.get("op"), "error": f"{type(exc).__name__}: {exc}"})
                continue
            _answer(stdout, {"op": command["op"], "now": command["now"], **result})
    finally:
        await roles.collector.__aexit__(None, None, None)
        await roles.channels.close()
        await roles.services.changes.close()
        await roles.services.db.close()


def _answer(stdout: IO[str], payload: dict[str, Any]) -> None:
    stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.bench.scaleout.stepped", description=__doc__)
    parser.add_argument("--start", required=True, help="the clock's first instant (ISO 8601 with offset)")
    parser.add_argument("--instance", required=True, help="the worker's name in leases, claims and logs")
    args = parser.parse_args(argv)
    if os.environ.get(TEST_CLOCK_GUARD) != STEPPED_GUARD_VALUE:
        print(f"refusing to start: a stepped worker is for tests; set {TEST_CLOCK_GUARD}={STEPPED_GUARD_VALUE}",
              file=sys.stderr)  # fmt: skip
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(_serve(parse_instant(args.start), args.instance, sys.stdin, sys.stdout))
    return 0


# --- the driver's side ------------------------------------------------------------------------


@dataclass
class StepWorker:
    """One stepped worker process, seen from the test: send steps, read answers, kill it."""

    name: str
    process: asyncio.subprocess.Process
    log: Path
    killed: bool = False
    steps: list[dict[str, Any]] = field(default_factory=list)  # every answer, in order

    @classmethod
    async def start(cls, name: str, start: datetime, env: dict[str, str], workdir: Path) -> StepWorker:
        """Start the process; returns once it is ready (services open, collector index loaded)."""
        log = workdir / f"{name}.log"
        with log.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "monitor.bench.scaleout.stepped", "--start", start.isoformat(),
                "--instance", name, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
                env={**env, TEST_CLOCK_GUARD: STEPPED_GUARD_VALUE}, cwd=workdir,
            )  # fmt: skip
        worker = cls(name, process, log)
        ready = await worker._read()
        if ready.get("ready") != name:
            raise StepError(f"{name} did not start: {ready}")
        return worker

    def send(self, op: str, now: datetime) -> None:
        """Start a step without waiting for it (to kill the process in the middle of it)."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"op": op, "now": now.isoformat()}) + "\n").encode())

    async def step(self, op: str, now: datetime) -> dict[str, Any]:
        """Run one step to its end and return the answer."""
        self.send(op, now)
        answer = await self._read()
        if "error" in answer:
            raise StepError(f"{self.name} failed step {op} at {now}: {answer['error']}\n{self.tail()}")
        self.steps.append(answer)
        return answer

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            await self.process.wait()
            raise StepError(f"{self.name} exited ({self.process.returncode}) without answering\n{self.tail()}")
        parsed: dict[str, Any] = json.loads(line)
        return parsed

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no rollback from the process; leases, locks and the database must cope."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.killed = True

    async def quit(self) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.write(b'{"op": "quit"}\n')
            await self.process.wait()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


if __name__ == "__main__":
    sys.exit(main())

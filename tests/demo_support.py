"""Start `monitor demo` (run_demo) in the test's event loop on a FakeClock, with its console captured."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.clock import FakeClock
from monitor.config import Settings, load_settings
from monitor.demo.run import DemoInfo, run_demo

from .conftest import START

# The demo's loops that wait on the clock when idle: web heartbeat, the live queue's poller,
# notifier, people follower, engine, audit watchdog and collector (monitor/demo/run.py starts them).
# Fewer parked means one of them is still at work (a collector classifying, a notifier sending).
DEMO_LOOPS = 7


@dataclass
class RunningDemo:
    settings: Settings
    clock: FakeClock
    info: DemoInfo
    task: asyncio.Task[None]
    stop: asyncio.Event
    lines: list[str] = field(default_factory=list)

    async def finish(self) -> None:
        self.stop.set()
        await self.task

    async def step_until(self, done: Callable[[], bool], step_s: float, max_steps: int = 600) -> bool:
        """Advance the clock by `step_s` whenever every loop of the demo waits on it, until `done()`.

        Nothing here waits for wall time: each step waits for the loops to finish their passes
        (however long that takes on a loaded machine), so the outcome depends on simulated time only."""
        for _ in range(max_steps):
            if done():
                return True
            await self.clock.until_sleepers(DEMO_LOOPS)
            if done():
                return True
            self.clock.advance(step_s)
        return done()


async def start_demo(tmp_path: Path, *, on_line: Callable[[str], None] | None = None, **overrides: Any) -> RunningDemo:
    """The demo on its own ports and data dir; every console line goes to `.lines` (then `on_line`)."""
    settings = dataclasses.replace(
        load_settings(env={}).settings, data_dir=str(tmp_path), port=0, demo_feed_port=0, **overrides
    )
    clock, stop, lines = FakeClock(START), asyncio.Event(), []
    ready: asyncio.Future[DemoInfo] = asyncio.get_running_loop().create_future()

    def announce(line: str) -> None:
        lines.append(line)
        if on_line is not None:
            on_line(line)

    task = asyncio.create_task(run_demo(settings, clock=clock, stop=stop, announce=announce, on_ready=ready.set_result))
    await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)  # no wall-clock limit: a slow start is fine
    if not ready.done():  # the demo ended before it was ready: its exception says why
        await task
        raise AssertionError("the demo stopped before it was ready")
    info = ready.result()
    return RunningDemo(settings, clock, info, task, stop, lines)

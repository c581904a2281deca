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
        await asyncio.wait_for(self.task, 30)


async def start_demo(
    tmp_path: Path, *, on_line: Callable[[str], None] | None = None, ready_within_s: float = 30, **overrides: Any
) -> RunningDemo:
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
    info = await asyncio.wait_for(ready, ready_within_s)
    return RunningDemo(settings, clock, info, task, stop, lines)

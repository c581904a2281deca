"""Benchmarks behind `monitor bench NAME`. Results go into benchmarks/README.md by hand."""

from __future__ import annotations

import os
import platform
import resource
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from monitor.clock import SystemClock
from monitor.config import Settings


@dataclass(frozen=True)
class BenchOptions:
    settings: Settings
    n: int | None = None  # problem size; each benchmark has its own default
    database_url: str | None = None  # where to run (default: a fresh SQLite file in a temp dir)


@dataclass
class BenchResult:
    name: str
    figures: dict[str, str] = field(default_factory=dict)  # label -> formatted value
    notes: list[str] = field(default_factory=list)

    def table_rows(self, command: str) -> list[str]:
        machine = f"{platform.machine()}, {os.cpu_count() or 1} cores, Python {platform.python_version()}"
        today = SystemClock().now().date().isoformat()
        return [f"| {machine} | {today} | `{command}` | {label}: {value} |" for label, value in self.figures.items()]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BenchFn = Callable[[BenchOptions], Coroutine[Any, Any, BenchResult]]


def registry() -> dict[str, BenchFn]:
    """Name -> benchmark. Imported lazily so `monitor --help` stays fast."""
    from monitor.bench import classify, engine, ingest, notify, queue, report, scaleout, storage

    return {
        "engine": engine.run,
        "storage": storage.run,
        "notify": notify.run,
        "queue": queue.run,
        "ingest": ingest.run,
        "report": report.run,
        "classify": classify.run,
        "scaleout": scaleout.run,
        "scaleout-kill": scaleout.run_kills,
    }

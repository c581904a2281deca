"""Shared CLI plumbing: settings overrides, logging, running async commands with signals."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from monitor.config import LoadedSettings, Settings, redact


class CliError(RuntimeError):
    """A command failed in a way the user can fix; the message says how."""


@dataclass(frozen=True)
class Context:
    args: argparse.Namespace
    loaded: LoadedSettings

    @property
    def settings(self) -> Settings:
        return self.loaded.settings


def settings_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags that map onto settings (the top layer)."""
    overrides: dict[str, Any] = {}
    for pair in args.overrides:
        name, sep, value = pair.partition("=")
        if not sep:
            raise CliError(f"--set expects NAME=VALUE, got {pair!r}")
        overrides[name.strip()] = value
    for name in ("database_url", "log_level", "host", "port", "data_dir"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return overrides


_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def record_extras(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a caller passed with `extra={...}` (event, role, instance, counts …)."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}


class _JsonFormatter(logging.Formatter):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "msg": redact(record.getMessage(), self.settings),
        }
        entry.update(record_extras(record))
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info), self.settings)
        return redact(json.dumps(entry, ensure_ascii=False, default=str), self.settings)


class _RedactingFormatter(logging.Formatter):
    def __init__(self, settings: Settings) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.settings = settings

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.settings)


class _StderrHandler(logging.StreamHandler[Any]):
    """Writes to whatever sys.stderr is at emit time (survives stream swaps, e.g. in tests)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def setup_logging(settings: Settings) -> None:
    handler = _StderrHandler()
    handler.setFormatter(_JsonFormatter(settings) if settings.log_format == "json" else _RedactingFormatter(settings))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def run_until_signal(main: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> int:
    """Run `main(stop)`; SIGINT/SIGTERM set `stop` so the command shuts down cleanly."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())
    return 0

"""The `monitor` command. Each sub-command lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from monitor import __version__
from monitor.cli import (
    archive,
    backup,
    bench,
    check,
    classify,
    collect,
    configcmd,
    db,
    demo,
    export_ledger,
    ledger,
    notify,
    parse,
    report,
    retrain,
    serve,
    simulate,
    sources,
    users,
    worker,
)
from monitor.cli.common import CliError, Context, settings_overrides, setup_logging
from monitor.config import ConfigError, load_settings
from monitor.policy import PolicyError
from monitor.storage.db import connect_failure

# Each module exposes register(subparsers) and sets `handler` on its parser.
COMMAND_MODULES = (
    demo,
    serve,
    worker,
    db,
    backup,
    configcmd,
    check,
    bench,
    notify,
    users,
    simulate,
    parse,
    sources,
    collect,
    report,
    ledger,
    export_ledger,
    classify,
    retrain,
    archive,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="政务舆情回应监测与督办 — public-opinion response monitor",
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    parser.add_argument("-c", "--config", metavar="FILE", help="TOML settings file (overrides defaults)")
    parser.add_argument("--database-url", help="override the database_url setting")
    parser.add_argument("--log-level", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="override log_level")
    parser.add_argument(
        "--set",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override any non-secret setting (repeatable)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        loaded = load_settings(config_file=args.config, env=os.environ, cli=settings_overrides(args))
        setup_logging(loaded.settings)
        return int(args.handler(Context(args=args, loaded=loaded)) or 0)
    except (ConfigError, PolicyError, CliError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        failure = connect_failure(exc)  # any command: a database that cannot be opened is the operator's to fix
        if failure is None:
            raise
        print(f"error: {failure}", file=sys.stderr)
        return 2

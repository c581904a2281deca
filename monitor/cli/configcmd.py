"""`monitor config-dump`: print the merged settings, secrets redacted."""

from __future__ import annotations

import argparse
from typing import Any

from monitor.cli.common import Context
from monitor.config import dump, example_toml, markdown_table


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("config-dump", help="print the merged settings (secrets redacted)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--markdown", action="store_true", help="print the settings table for README.md instead")
    what.add_argument(
        "--example", action="store_true", help="print deploy/monitor.example.toml (every setting commented out)"
    )
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    if ctx.args.example:
        print(example_toml(), end="")
    else:
        print(markdown_table() if ctx.args.markdown else dump(ctx.loaded), end="")
    return 0

"""`monitor config-dump`: print the merged settings, secrets redacted."""

from __future__ import annotations

import argparse
from typing import Any

from monitor.cli.common import Context
from monitor.config import dump, markdown_table


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("config-dump", help="print the merged settings (secrets redacted)")
    parser.add_argument("--markdown", action="store_true", help="print the settings table for README.md instead")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    print(markdown_table() if ctx.args.markdown else dump(ctx.loaded), end="")
    return 0

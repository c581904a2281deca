"""`monitor bench NAME`: run a benchmark and print rows for benchmarks/README.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from monitor.bench import BenchOptions, registry
from monitor.cli.common import CliError, Context


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("bench", help="run a benchmark (see benchmarks/README.md)")
    parser.add_argument("name", help="benchmark name; `monitor bench list` shows them")
    parser.add_argument("--n", type=int, help="problem size (each benchmark has a default)")
    parser.add_argument(
        "--on", dest="bench_db", metavar="DATABASE_URL", help="run against this database instead of a temp SQLite file"
    )
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    benchmarks = registry()
    name = ctx.args.name
    if name == "list":
        print("\n".join(sorted(benchmarks)))
        return 0
    if name not in benchmarks:
        raise CliError(f"unknown benchmark {name!r}; available: {', '.join(sorted(benchmarks))}")
    options = BenchOptions(settings=ctx.settings, n=ctx.args.n, database_url=ctx.args.bench_db)
    try:
        result = asyncio.run(benchmarks[name](options))
    except ValueError as exc:  # a benchmark that cannot run with these options says why
        raise CliError(str(exc)) from exc
    command = "monitor " + " ".join(sys.argv[1:]) if sys.argv[1:] else f"monitor bench {name}"
    for row in result.table_rows(command):
        print(row)
    for note in result.notes:
        print(f"note: {note}")
    return 0

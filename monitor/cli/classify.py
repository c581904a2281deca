"""`monitor classify`: classify a JSON Lines file, or the items waiting in the database."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from monitor.app import open_services
from monitor.classify import ClassifierError, classify_pending, open_classifier
from monitor.classify.jsonl import FileReport, classify_file
from monitor.cli.common import CliError, Context
from monitor.clock import SystemClock
from monitor.config import resolve_org_file
from monitor.policy import load_org
from monitor.storage.db import DatabaseError


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "classify",
        help="classify a JSON Lines file (--input/--output) or the items waiting in the database (--pending)",
        description='Each input line is {"id", "title", "text"} (optional source, published_at, media_tier); '
        "each output line adds relevant, relevance_score, event_type, facts, event_level, opinion_level, unit, "
        "co_units and why. Unreadable lines are reported with their number and skipped; the exit status is 1 "
        "when any line was skipped.",
    )
    parser.add_argument("--input", "-i", metavar="FILE", help="JSON Lines to read ('-' = standard input)")
    parser.add_argument("--output", "-o", metavar="FILE", help="JSON Lines to write ('-' = standard output)")
    parser.add_argument("--rejects", metavar="FILE", help="also copy every skipped input line to FILE, unchanged")
    parser.add_argument("--batch", type=int, default=500, help="documents per batch (default 500)")
    parser.add_argument("--workers", type=int, default=0, help="worker processes (default 0: this process)")
    parser.add_argument(
        "--pending", action="store_true", help="classify the database's items that wait for classification"
    )
    parser.add_argument("--limit", type=int, default=100_000, help="with --pending: at most this many items")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    args = ctx.args
    if args.pending:
        if args.input or args.output:
            raise CliError("--pending classifies the database; leave out --input/--output")
        return asyncio.run(_pending(ctx))
    if not args.input or not args.output:
        raise CliError("give --input FILE and --output FILE (or --pending to classify the database's items)")
    if args.batch < 1 or args.workers < 0:
        raise CliError("--batch must be at least 1 and --workers at least 0")
    _check_distinct(args.input, args.output, args.rejects)
    return asyncio.run(_file(ctx))


def _check_distinct(source: str, output: str, rejects: str | None) -> None:
    """Refuse to write over the input (opening the output truncates it before a line is read)
    or to write the output and the rejects into one file."""
    for flag, name in (("--output", output), ("--rejects", rejects)):
        if name is not None and _same_file(source, name):
            raise CliError(f"{flag} {name} is the input file; writing it would erase the input. Choose another file")
    if rejects is not None and _same_file(output, rejects):
        raise CliError(f"--rejects and --output are the same file ({output}); choose two different files")


def _same_file(a: str, b: str) -> bool:
    if a == "-" or b == "-":
        return False
    first, second = Path(a), Path(b)
    try:
        return first.samefile(second)
    except OSError:  # one of them does not exist (yet)
        return first.resolve() == second.resolve()


async def _file(ctx: Context) -> int:
    args = ctx.args
    org = load_org(resolve_org_file(ctx.settings))
    try:
        classifier = await open_classifier(ctx.settings, org, workers=args.workers)
    except ClassifierError as exc:
        raise CliError(str(exc)) from exc
    try:
        with _open(args.input, "rb") as source, _open(args.output, "w") as sink, _rejects(args.rejects) as rejects:

            def on_reject(number: int, reason: str, line: bytes) -> None:
                print(f"{args.input}:{number}: skipped: {reason}", file=sys.stderr)
                if rejects is not None:
                    rejects.write(line if line.endswith(b"\n") else line + b"\n")

            report = await classify_file(source, sink, classifier, batch=args.batch, on_reject=on_reject)
    finally:
        await classifier.close()
    _summary(report, args.output)
    return 1 if report.rejected else 0


def _summary(report: FileReport, output: str) -> None:
    skipped = len(report.rejected)
    where = "standard output" if output == "-" else output
    print(
        f"classified {report.classified} of {report.lines} lines into {where}"
        + (f"; skipped {skipped} (see the messages above)" if skipped else ""),
        file=sys.stderr,
    )


@contextlib.contextmanager
def _open(name: str, mode: str) -> Iterator[Any]:
    """A file by name ('-' = standard input/output); binary for "rb"/"wb", UTF-8 text for "w"."""
    if name == "-":
        yield {"rb": sys.stdin.buffer, "wb": sys.stdout.buffer, "w": sys.stdout}[mode]
        return
    try:
        handle = Path(name).open(mode, encoding=None if "b" in mode else "utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CliError(f"cannot open {name}: {exc.strerror}") from exc
    with handle:
        yield handle


@contextlib.contextmanager
def _rejects(name: str | None) -> Iterator[IO[bytes] | None]:
    if name is None:
        yield None
        return
    with _open(name, "wb") as handle:
        yield handle


async def _pending(ctx: Context) -> int:
    try:
        services = await open_services(ctx.settings, clock=SystemClock())
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    try:
        classifier = await open_classifier(services.settings, services.org)
    except ClassifierError as exc:
        await services.db.close()
        raise CliError(str(exc)) from exc
    try:
        result = await classify_pending(
            services.db, services.clock, classifier, limit=ctx.args.limit, batch=services.settings.classify_batch
        )
    finally:
        await classifier.close()
        await services.db.close()
    print(f"classified {result.items} items ({result.relevant} relevant) with model {classifier.version}")
    if result.failed:
        print(
            f"{result.failed} could not be classified (garbled text or a classifier error); each is stored "
            'with the reason in its classification\'s "error" and relevant left empty, for people to read'
        )
        return 1
    return 0

"""`monitor parse FILE…`: parse local feed or page files offline, one JSON object per item."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from monitor.cli.common import CliError, Context
from monitor.collectors.feeds import ParsedEntry
from monitor.collectors.offline import is_bad, parse_document


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "parse",
        help="parse local feed/page files offline and print one JSON object per item",
        description="Prints {file, title, link, published, text, warnings} per item. Exit status 1 when "
        "any file could not be parsed (each one named on stderr).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="RSS/Atom/JSON Feed, HTML list or article page")
    parser.add_argument(
        "--selectors",
        metavar="JSON",
        help='read HTML files as list pages with these CSS selectors, e.g. \'{"item": "ul.news li"}\'',
    )
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    options = _selectors(ctx.args.selectors)
    bad = 0
    for name in ctx.args.files:
        bad += 0 if _parse_one(name, options) else 1
    if bad:
        print(f"warning: {bad} of {len(ctx.args.files)} file(s) could not be parsed", file=sys.stderr)
    return 1 if bad else 0


def _selectors(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise CliError(f'--selectors must be a JSON object, e.g. \'{{"item": "ul li"}}\': {exc}') from exc
    if not isinstance(value, dict):
        raise CliError('--selectors must be a JSON object, e.g. \'{"item": "ul li"}\'')
    return value


def _parse_one(name: str, options: dict[str, Any] | None) -> bool:
    try:
        body = Path(name).read_bytes()
    except OSError as exc:
        print(f"warning: {name}: cannot read the file ({exc.strerror or exc})", file=sys.stderr)
        return False
    parsed = parse_document(body, name=name, options=options)
    for entry in parsed.entries:
        print(json.dumps(_record(name, entry, parsed.warnings), ensure_ascii=False))
    if is_bad(parsed):
        print(f"warning: {name}: {'; '.join(parsed.warnings) or 'no items found'}", file=sys.stderr)
        return False
    return True


def _record(name: str, entry: ParsedEntry, feed_warnings: list[str]) -> dict[str, Any]:
    return {
        "file": name,
        "title": entry.title,
        "link": entry.link,
        "published": entry.published.isoformat() if entry.published else None,
        "text": entry.text,
        "warnings": [*feed_warnings, *entry.warnings],
    }

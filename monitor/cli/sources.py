"""`monitor sources add|list|remove|import-opml|export-opml`: manage what the collectors read."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from monitor.cli.common import CliError, Context
from monitor.clock import SystemClock, to_local
from monitor.collectors.sources import SourceError, build_source, parse_tier, read_opml, write_opml
from monitor.domain import MediaTier, Source, SourceHealth, SourceKind
from monitor.storage.db import Database, DatabaseError
from monitor.storage.migrate import require_current_schema
from monitor.storage.repo.sources import add_sources, list_sources, remove_source, row_media_type, source_rows


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("sources", help="add, list, remove, import or export sources")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register a feed or an HTML list page")
    add.add_argument("url")
    add.add_argument("--name", help="display name (default: the URL)")
    add.add_argument("--kind", choices=[k.value for k in SourceKind], default="feed")
    add.add_argument(
        "--tier", default="city", help="media tier: central|provincial|city|county|self_media (或 中央/省/市/县/自媒体)"
    )
    add.add_argument(
        "--media-type",
        help="媒体类型: website|forum|blog|weibo|print|wechat|app|short_video|hotline_12345|mailbox "
        "(或 网站/论坛/博客/微博/纸媒/微信/App/短视频/12345/信箱); default: inferred from the URL and name",
    )
    add.add_argument("--region", help="region hint (a township/subdistrict unit id of the org directory)")
    add.add_argument("--poll-min", type=int, default=300, help="shortest poll interval in seconds (default 300)")
    add.add_argument("--poll-max", type=int, default=3600, help="longest poll interval in seconds (default 3600)")
    add.add_argument("--expected-per-day", type=float, help="items expected per day (enables SILENT detection)")
    add.add_argument("--credentials-ref", help="NAME of the environment variable holding the credentials")
    add.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="source option, e.g. item='ul.news li' for html_list (repeatable; JSON values allowed)",
    )
    listing = actions.add_parser("list", help="list sources with their health")
    listing.add_argument("--json", action="store_true", help="one JSON object per source")
    remove = actions.add_parser("remove", help="remove a source by id or URL (its items stay)")
    remove.add_argument("ident", metavar="ID_OR_URL")
    imp = actions.add_parser("import-opml", help="import sources from an OPML file")
    imp.add_argument("file")
    imp.add_argument("--tier", default="city", help="media tier for outlines that do not say (default city)")
    exp = actions.add_parser("export-opml", help="export sources as OPML (to stdout or FILE)")
    exp.add_argument("file", nargs="?")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    try:
        return asyncio.run(_run(ctx))
    except (SourceError, DatabaseError) as exc:
        raise CliError(str(exc)) from exc


async def _run(ctx: Context) -> int:
    action = ctx.args.action
    if action == "add":
        new = [_source_from_args(ctx.args)]
    elif action == "import-opml":
        new = read_opml(_read(ctx.args.file), default_tier=parse_tier(ctx.args.tier), file=ctx.args.file)
    db = Database.open(ctx.settings.database_url)
    try:
        await require_current_schema(db)
        if action in ("add", "import-opml"):
            return await _add(db, new)
        if action == "remove":
            return await _remove(db, ctx.args.ident)
        if action == "export-opml":
            return await _export(db, ctx.args.file)
        return await _list(db, ctx.args.json)
    finally:
        await db.close()


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc


def _source_from_args(args: argparse.Namespace) -> Source:
    options: dict[str, Any] = {}
    for pair in args.option:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--option expects KEY=VALUE, got {pair!r}")
        try:
            options[key.strip()] = json.loads(raw)
        except ValueError:
            options[key.strip()] = raw
    values = {
        "name": args.name or args.url[:200],
        "url": args.url,
        "kind": args.kind,
        "media_tier": args.tier,
        "media_type": args.media_type,
        "region_hint": args.region,
        "poll_min_s": args.poll_min,
        "poll_max_s": args.poll_max,
        "expected_per_day": args.expected_per_day,
        "credentials_ref": args.credentials_ref,
        "options": options,
    }
    return build_source(values)  # the same rules as the web form (monitor.collectors.sources)


async def _add(db: Database, new: list[Source]) -> int:
    async with db.read() as conn:
        known = {s.url for s in await list_sources(conn)}
    async with db.write() as conn:
        ids = await add_sources(conn, new, SystemClock().now())
    for source in new:
        state = "already registered" if source.url in known else "added"
        print(f"{state}: #{ids[source.url]} {source.name} <{source.url}> 媒体类型 {source.media_type_guess.text}")
    return 0


async def _remove(db: Database, ident: str) -> int:
    async with db.write() as conn:
        removed = await remove_source(conn, ident)
    if not removed:
        raise CliError(f"no source with id or URL {ident!r}; `monitor sources list` shows them")
    print(f"removed {removed} source(s); their items and evidence are kept")
    return 0


async def _export(db: Database, path: str | None) -> int:
    async with db.read() as conn:
        text = write_opml(await list_sources(conn))
    if path:
        await asyncio.to_thread(Path(path).write_text, text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


async def _list(db: Database, as_json: bool) -> int:
    async with db.read() as conn:
        rows = [dict(r._mapping) for r in await source_rows(conn)]
    for row in rows:
        guess = row_media_type(row)
        if as_json:
            shown = {k: _jsonable(v) for k, v in row.items() if k not in _PRIVATE}
            shown |= {"media_type_effective": guess.media_type.value, "media_type_inferred": guess.inferred}
            print(json.dumps(shown, ensure_ascii=False))
            continue
        health = SourceHealth(row["health"]).label
        tier = MediaTier(row["media_tier"]).label
        print(
            f"#{row['id']:<4} {health:<3} {tier:<3} {row['name']}  <{row['url']}>  媒体类型 {guess.text}\n"
            f"       上次成功 {_when(row['last_success_at'])}  下次采集 {_when(row['next_poll_at'])}"
            + (f"  错误：{row['last_error']}" if row["last_error"] else "")
        )
    if not rows:
        print("no sources yet; add one with `monitor sources add URL` or `monitor sources import-opml FILE`")
    return 0


_PRIVATE = ("etag", "last_modified", "lease_owner", "lease_expires_at")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _when(value: Any) -> str:
    return to_local(value).strftime("%m-%d %H:%M") if value else "—"

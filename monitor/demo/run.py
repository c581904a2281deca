"""Run the demo: feed server + collection + web page, on a fresh SQLite file under data_dir."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from monitor.app import Services, create_app, open_services
from monitor.clock import Clock
from monitor.collectors.polling import CollectorConfig, PassResult
from monitor.config import Settings
from monitor.demo.accounts import create_demo_accounts
from monitor.demo.corpus import DemoCorpus, load_corpus
from monitor.demo.feedserver import create_feed_app
from monitor.demo.ledger import import_demo_ledger
from monitor.domain import Source, SourceKind
from monitor.pipeline import Analysis
from monitor.runtime import Role, Runtime, RuntimeHooks
from monitor.storage.repo.sources import add_sources
from monitor.web.ops import OPS_PROBE

log = logging.getLogger(__name__)

DEMO_DB_NAME = "demo.db"


class DemoError(RuntimeError):
    """The demo cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class DemoInfo:
    url: str
    feed_url: str
    database: Path


DEMO_RULES = "jurisdictions/demo.yaml"


def demo_settings(settings: Settings) -> tuple[Settings, Path]:
    """The demo always uses its own SQLite file, never the configured database, and its own rules
    (playbooks/jurisdictions/demo.yaml) unless a rules file is configured."""
    path = Path(settings.data_dir) / DEMO_DB_NAME
    demo = dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{path}", notify_console=True)
    if settings.playbook_file == Settings.playbook_file:
        demo = dataclasses.replace(demo, playbook_file=DEMO_RULES)
    if not settings.session_secret:  # the demo database is rebuilt at every start: a random key is the point
        demo = dataclasses.replace(demo, session_secret=secrets.token_urlsafe(32))
    return demo, path


def reset_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def run_demo(
    settings: Settings,
    *,
    clock: Clock,
    stop: asyncio.Event,
    announce: Callable[[str], None] = print,
    on_ready: Callable[[DemoInfo], None] | None = None,
) -> None:
    """Start everything, poll the feeds until `stop` is set, then shut down cleanly."""
    settings, db_path = demo_settings(settings)
    reset_database(db_path)
    corpus = load_corpus()
    services = await open_services(settings, clock=clock, auto_migrate=True)
    runtime = Runtime(services, stop, _hooks(settings, announce))
    try:
        feed_url = await _start(
            runtime, create_feed_app(corpus, clock, clock.now()), "127.0.0.1", settings.demo_feed_port
        )
        await _register_feeds(services, corpus, feed_url)
        logins = await create_demo_accounts(services)
        app = create_app(services)
        app[OPS_PROBE] = runtime
        url = await _start(runtime, app, settings.host, settings.port, web_role=True)
        if not settings.public_url:  # links in alerts point at the port actually bound
            services.settings = settings = dataclasses.replace(settings, public_url=url)
        await runtime.start([Role.NOTIFIER])
        info = DemoInfo(url=url + "/", feed_url=feed_url + "/", database=db_path)
        announce(f"演示已启动：{info.url}  （演示数据库 {db_path}，每次启动重建；按 Ctrl-C 停止）")
        announce("演示账户（仅限演示数据库）：\n" + "\n".join(logins))
        if on_ready:
            on_ready(info)
        history = await import_demo_ledger(services)
        announce(f"已导入演示用历史留言台账 {history.imported} 条（合成数据，标题带【演示】），月报见 {url}/reports")
        await runtime.start([Role.ENGINE, Role.COLLECTOR])
        await runtime.wait()
    finally:
        await runtime.close()
    announce("演示已停止。")


def _hooks(settings: Settings, announce: Callable[[str], None]) -> RuntimeHooks:
    config = CollectorConfig.from_settings(settings)
    # The demo's feed server is our own, on loopback: no need to space requests to it.
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, host_min_interval=timedelta(0)))

    def on_collect(result: PassResult, analysis: Analysis) -> None:
        announce(
            f"采集完成：{result.sources} 个来源，发现 {result.items_seen} 条，新增 {result.items_new} 条"
            + (f"，失败 {result.errors} 个来源" if result.errors else "")
        )
        if analysis.classified.items:
            announce(
                f"研判完成：{analysis.classified.items} 条稿件中 {analysis.classified.relevant} 条为政务舆情，"
                f"新建事件 {analysis.clustered.opened} 个，归入已有事件 {analysis.clustered.joined} 条"
                + (f"，{analysis.regraded} 个事件因传播扩大上调舆情级别" if analysis.regraded else "")
            )

    return RuntimeHooks(
        collector_config=config, collector_idle_s=settings.demo_refresh_s, on_collect=on_collect, write=announce
    )


async def _start(runtime: Runtime, app: web.Application, host: str, port: int, *, web_role: bool = False) -> str:
    try:
        if web_role:
            bound = await runtime.serve_web(app, host, port)
        else:
            bound = (await runtime.serve_app(app, host, port))[1]
    except OSError as exc:
        raise DemoError(f"无法监听 {host}:{port}（{exc.strerror}）。请换一个端口，例如 --port 0 自动选择。") from exc
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown_host}:{bound}"


async def _register_feeds(services: Services, corpus: DemoCorpus, feed_url: str) -> None:
    interval = max(1, int(services.settings.demo_refresh_s / 2))  # due again at every demo pass
    sources = [
        Source(
            name=feed.title,
            url=feed_url + feed.path,
            kind=SourceKind.FEED,
            media_tier=feed.media_tier,
            media_type=feed.media_type,
            poll_min_s=interval,
            poll_max_s=interval,
        )
        for feed in corpus.feeds.values()
    ]
    async with services.db.write() as conn:
        await add_sources(conn, sources, services.clock.now())

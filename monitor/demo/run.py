"""Run the demo: feed server + collection + web page, on a fresh SQLite file under data_dir."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from monitor.app import Services, create_app, open_services
from monitor.classify import open_classifier
from monitor.clock import Clock, sleep_or_stop
from monitor.collectors.polling import Collector, CollectorConfig
from monitor.config import Settings
from monitor.demo.accounts import create_demo_accounts
from monitor.demo.corpus import DemoCorpus, load_corpus
from monitor.demo.feedserver import create_feed_app
from monitor.demo.ledger import import_demo_ledger
from monitor.domain import Source, SourceKind
from monitor.engine.runner import Engine
from monitor.notifications import start_notifier, stop_notifier
from monitor.pipeline import Pipeline
from monitor.storage.repo.sources import add_sources

log = logging.getLogger(__name__)

DEMO_DB_NAME = "demo.db"


class DemoError(RuntimeError):
    """The demo cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class DemoInfo:
    url: str
    feed_url: str
    database: Path


def demo_settings(settings: Settings) -> tuple[Settings, Path]:
    """The demo always uses its own SQLite file, never the configured database."""
    path = Path(settings.data_dir) / DEMO_DB_NAME
    demo = dataclasses.replace(settings, database_url=f"sqlite+aiosqlite:///{path}", notify_console=True)
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
    runners: list[web.AppRunner] = []
    notifier = None
    try:
        feed_url = await _start(
            runners, create_feed_app(corpus, clock, clock.now()), "127.0.0.1", settings.demo_feed_port
        )
        await _register_feeds(services, corpus, feed_url)
        logins = await create_demo_accounts(services)
        url = await _start(runners, create_app(services), settings.host, settings.port)
        if not settings.public_url:  # links in alerts point at the port actually bound
            services.settings = settings = dataclasses.replace(settings, public_url=url)
        notifier = start_notifier(services.db, clock, settings, services.org, stop, write=announce)
        info = DemoInfo(url=url + "/", feed_url=feed_url + "/", database=db_path)
        announce(f"演示已启动：{info.url}  （演示数据库 {db_path}，每次启动重建；按 Ctrl-C 停止）")
        announce("演示账户（仅限演示数据库）：\n" + "\n".join(logins))
        if on_ready:
            on_ready(info)
        history = await import_demo_ledger(services)
        announce(f"已导入演示用历史留言台账 {history.imported} 条（合成数据，标题带【演示】），月报见 {url}/reports")
        engine = asyncio.create_task(Engine(services).run(stop, poll_s=services.settings.engine_tick_s))
        try:
            await _collect_until_stopped(services, stop, announce)
        finally:
            stop.set()
            await asyncio.gather(engine, return_exceptions=True)
    finally:
        if notifier is not None:
            await stop_notifier(notifier)
        for runner in reversed(runners):
            await runner.cleanup()
        await services.db.close()  # idempotent: the web app's cleanup may have closed it already
    announce("演示已停止。")


async def _start(runners: list[web.AppRunner], app: web.Application, host: str, port: int) -> str:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    runners.append(runner)
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        raise DemoError(f"无法监听 {host}:{port}（{exc.strerror}）。请换一个端口，例如 --port 0 自动选择。") from exc
    bound = runner.addresses[0]
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown_host}:{bound[1]}"


async def _register_feeds(services: Services, corpus: DemoCorpus, feed_url: str) -> None:
    interval = max(1, int(services.settings.demo_refresh_s / 2))  # due again at every demo pass
    sources = [
        Source(
            name=feed.title,
            url=feed_url + feed.path,
            kind=SourceKind.FEED,
            media_tier=feed.media_tier,
            poll_min_s=interval,
            poll_max_s=interval,
        )
        for feed in corpus.feeds.values()
    ]
    async with services.db.write() as conn:
        await add_sources(conn, sources, services.clock.now())


async def _collect_until_stopped(services: Services, stop: asyncio.Event, announce: Callable[[str], None]) -> None:
    config = CollectorConfig.from_settings(services.settings)
    # The demo's feed server is our own, on loopback: no need to space requests to it.
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, host_min_interval=timedelta(0)))
    classifier = await open_classifier(services.settings, services.org)
    pipeline = Pipeline(services, services.settings, classifier)
    try:
        async with Collector(services.db, services.clock, config) as collector:
            while not stop.is_set():
                result = await collector.run_once()
                announce(
                    f"采集完成：{result.sources} 个来源，发现 {result.items_seen} 条，新增 {result.items_new} 条"
                    + (f"，失败 {result.errors} 个来源" if result.errors else "")
                )
                analysis = await pipeline.run()
                if analysis.classified.items:
                    announce(
                        f"研判完成：{analysis.classified.items} 条稿件中 {analysis.classified.relevant} 条为政务舆情，"
                        f"新建事件 {analysis.clustered.opened} 个，归入已有事件 {analysis.clustered.joined} 条"
                        + (f"，{analysis.regraded} 个事件因传播扩大上调舆情级别" if analysis.regraded else "")
                    )
                await sleep_or_stop(services.clock, services.settings.demo_refresh_s, stop)
    finally:
        await classifier.close()

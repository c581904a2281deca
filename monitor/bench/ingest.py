"""`monitor bench ingest`: items/s through fetch -> parse -> normalise -> dedup -> store, and memory.

A feed server runs in a child process (so its work is not billed to the pipeline) and serves
RSS pages of 50 distinct Chinese news items each, about a tenth of them reposts (来源：… lines
around a copy of an earlier story). The collector polls one source per page through the real
code path (leases, conditional GET, evidence, health bookkeeping) into a fresh SQLite file.
It also prints the CPU time of the poller process (all its threads, not the feed server) and
its voluntary context switches. Peak RSS is sampled after each fifth of the run: with the
near-duplicate index capped (and one pass leasing at most `claim_limit` sources), it should
level off (flat memory).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import resource
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

from monitor.bench import BenchOptions, BenchResult, peak_rss_mb
from monitor.clock import FakeClock, Stopwatch
from monitor.collectors.dedup import DedupConfig
from monitor.collectors.fetch import FetchLimits
from monitor.collectors.polling import Collector, CollectorConfig
from monitor.domain import Source
from monitor.storage.db import Database
from monitor.storage.migrate import migrate
from monitor.storage.repo.sources import add_sources

PER_PAGE = 50
INDEX_CAP = 20_000  # bench cap of the near-duplicate index (production default: dedup window / 200k)
_START = datetime(2026, 11, 1, tzinfo=UTC)
_PLACES = ["东港", "北湖", "西岭", "南山", "城东", "城西", "城南", "城北", "滨江", "青石", "白沙", "桃源"]
_UNITS = ["应急管理局", "住房和城乡建设局", "交通运输局", "卫生健康委员会", "生态环境局", "教育局", "城管局", "水务局"]
_PHRASES = [
    "相关部门表示将依法依规处理",
    "市民可通过热线反映问题",
    "现场秩序良好",
    "工作组已进驻开展调查",
    "有关情况将持续发布",
    "居民反映噪音扰民",
    "施工单位承诺整改",
    "学校食堂开展专项检查",
    "农贸市场加强抽检",
    "道路积水影响出行",
    "公交线路临时调整",
    "供水管网抢修完成",
    "燃气管道排查隐患",
    "老旧小区加装电梯",
    "物业费收取引发争议",
    "停车位规划不足",
    "垃圾分类试点推进",
    "河道水质监测达标",
    "企业排污被立案",
    "夜市摊贩管理规范",
    "共享单车乱停放",
    "养老服务中心投用",
    "医保报销流程简化",
    "防汛物资储备到位",
    "山体滑坡风险点巡查",
    "危化品运输车辆检查",
    "校车安全专项整治",
    "网约车平台约谈",
    "房屋征收补偿公示",
    "拖欠农民工工资调解",
    "菜价波动引关注",
    "社区核酸点撤除",
    "公园改造方案征求意见",
    "景区限流措施",
    "桥梁检测封闭施工",
]


def story(n: int) -> tuple[str, str]:
    rng = random.Random(n)
    place, unit = rng.choice(_PLACES), rng.choice(_UNITS)
    phrases = rng.sample(_PHRASES, 14)
    title = f"{place}{phrases[0]}（{unit}第{n}号通报）"
    body = "，".join(f"{p}{rng.randint(2, 9999)}处" if rng.random() < 0.4 else p for p in phrases)
    text = f"明湖市{unit}{rng.randint(1, 28)}日通报：{place}{body}。编号{n * 7919}，联系人{rng.randint(100, 999)}号。"
    return title, text


def render_page(page: int) -> bytes:
    entries = []
    for i in range(PER_PAGE):
        n = page * PER_PAGE + i
        title, text = story(n)
        if n % 10 == 9 and n > 50:  # a repost of an earlier story
            title, text = "转载：" + story(n - 37)[0], "来源：明湖日报\n" + story(n - 37)[1] + "\n责任编辑：王敏"
        entries.append(
            f"<item><title>{escape(title)}</title><link>https://news{page % 7}.example/a/{n}.html</link>"
            f"<guid>n{n}</guid><pubDate>{format_datetime(_START)}</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>bench</title>'
    return (head + "".join(entries) + "</channel></rss>").encode()


def _serve(port_queue: multiprocessing.Queue) -> None:  # runs in the child process
    async def feed(request: web.Request) -> web.Response:
        body = render_page(int(request.match_info["page"]))
        return web.Response(body=body, content_type="application/rss+xml", charset="utf-8")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{page}.xml", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_queue.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def run(options: BenchOptions) -> BenchResult:
    n = options.n or 100_000
    pages = max(1, n // PER_PAGE)
    context = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = context.Queue()
    server = context.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        port = await asyncio.to_thread(ports.get, True, 60)
        with tempfile.TemporaryDirectory() as tmp:
            url = options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            db = Database.open(url)
            try:
                await migrate(db)
                return await _measure(db, f"http://127.0.0.1:{port}", pages)
            finally:
                await db.close()
    finally:
        server.terminate()
        server.join(10)


async def _measure(db: Database, base: str, pages: int) -> BenchResult:
    clock = FakeClock(_START)  # schedule time stands still; only the stopwatch measures
    sources = [Source(name=f"bench {p}", url=f"{base}/feed/{p}.xml", poll_min_s=3600) for p in range(pages)]
    async with db.write() as conn:
        await add_sources(conn, sources, clock.now())
    config = CollectorConfig(
        limits=FetchLimits(concurrency=8, per_host=8, host_min_interval=timedelta(0)),
        dedup=DedupConfig(max_entries=INDEX_CAP),
        claim_limit=100,
    )
    totals = {"seen": 0, "new": 0, "dups": 0}
    rss: dict[int, float] = {}  # fifth of the run -> peak RSS so far
    async with Collector(db, clock, config, rng=random.Random(1)) as collector:
        watch, usage = Stopwatch(), resource.getrusage(resource.RUSAGE_SELF)
        while True:
            result = await collector.run_once()
            if not result.sources:
                break
            totals["seen"] += result.items_seen
            totals["new"] += result.items_new
            totals["dups"] += result.duplicates
            for fifth in range(1, min(5, int(5 * totals["new"] / (pages * PER_PAGE))) + 1):
                rss.setdefault(fifth, peak_rss_mb())
        elapsed, used = watch.elapsed(), resource.getrusage(resource.RUSAGE_SELF)
        index_size = len(collector.index)
    bench = BenchResult("ingest")
    label = f"ingest {totals['new']:,} new items ({db.dialect}, {pages:,} feeds, dedup on)"
    bench.figures[label] = f"{totals['new'] / elapsed:,.0f} items/s"
    bench.figures["reposts detected"] = f"{totals['dups']:,}"
    # CPU time is what other load on a shared machine does not inflate (much); the context
    # switches show hand-overs between the loop and the collector's threads (see docs/collectors.md).
    cpu = used.ru_utime + used.ru_stime - usage.ru_utime - usage.ru_stime
    cpu_label = "CPU of the poller process (all its threads; the feed server not counted)"
    bench.figures[cpu_label] = f"{cpu:.1f} s = {totals['new'] / max(cpu, 1e-9):,.0f} items per CPU-second"
    bench.figures["voluntary context switches of the poller process"] = f"{used.ru_nvcsw - usage.ru_nvcsw:,}"
    shown = " / ".join(f"{rss.get(k, 0):,.0f}" for k in range(1, 6))
    bench.figures["peak RSS after each fifth of the run"] = f"{shown} MiB"
    bench.notes.append(f"near-duplicate index held {index_size:,} originals (cap {INDEX_CAP:,})")
    return bench

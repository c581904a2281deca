"""`monitor bench storage`: batch insert and batch lookup of items through the repositories."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from monitor.bench import BenchOptions, BenchResult, peak_rss_mb
from monitor.clock import Stopwatch
from monitor.storage.db import Database
from monitor.storage.migrate import migrate
from monitor.storage.repo.items import insert_items

BATCH = 1000


def _rows(start: int, count: int, now: datetime) -> list[dict[str, object]]:
    return [
        {
            "dedup_key": hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
            "url": f"https://news.example/{i}.html",
            "title": f"明湖市第{i}条测试新闻标题",
            "text": "明湖市住房和城乡建设局就老旧小区改造答复网民留言。" * 6,
            "fetched_at": now,
            "created_at": now,
        }
        for i in range(start, start + count)
    ]


async def run(options: BenchOptions) -> BenchResult:
    n = options.n or 100_000
    with tempfile.TemporaryDirectory() as tmp:
        url = options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        db = Database.open(url)
        try:
            await migrate(db)
            return await _measure(db, n)
        finally:
            await db.close()


async def _measure(db: Database, n: int) -> BenchResult:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    watch = Stopwatch()
    for start in range(0, n, BATCH):
        async with db.write() as conn:
            await insert_items(conn, _rows(start, min(BATCH, n - start), now))
    insert_s = watch.restart()
    for start in range(0, n, BATCH):  # re-inserting known keys is the dedup hot path
        async with db.write() as conn:
            await insert_items(conn, _rows(start, min(BATCH, n - start), now))
    dedup_s = watch.restart()
    result = BenchResult("storage")
    result.figures[f"insert {n:,} items ({db.dialect}, batches of {BATCH})"] = f"{n / insert_s:,.0f} rows/s"
    result.figures[f"dedup check of {n:,} known items"] = f"{n / dedup_s:,.0f} rows/s"
    result.figures["peak RSS"] = f"{peak_rss_mb():,.0f} MiB"
    return result

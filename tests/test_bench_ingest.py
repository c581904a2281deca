"""`monitor bench ingest` on a small run: the figures it prints, CPU time included."""

from __future__ import annotations

import re

from monitor.bench import BenchOptions, ingest
from monitor.config import Settings


async def test_bench_ingest_reports_throughput_reposts_and_cpu_time():
    result = await ingest.run(BenchOptions(Settings(), n=500))
    figures = result.figures
    assert figures["ingest 500 new items (sqlite, 10 feeds, dedup on)"].endswith(" items/s")
    assert figures["reposts detected"] == "45"  # every planted repost (n % 10 == 9, n > 50), no false ones
    cpu = figures["CPU of the poller process (all its threads; the feed server not counted)"]
    seconds, per_second = re.fullmatch(r"([\d.]+) s = ([\d,]+) items per CPU-second", cpu).groups()
    assert float(seconds) > 0 and int(per_second.replace(",", "")) > 0
    assert int(figures["voluntary context switches of the poller process"].replace(",", "")) >= 0

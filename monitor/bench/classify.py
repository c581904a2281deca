"""`monitor bench classify`: classifier throughput on one core, cold start, and classify_pending.

Documents are 300-character windows of real text: the shared corpora's CEC reports and citizen
messages when ``$CLASSIFIERS_DATA_DIR`` / ../shared/data is there, else the demo corpus. The
throughput figure is ``Pipeline.classify`` (every task, explanations included) in this process
pinned to one core, batches of 500, after a warm-up batch; wall and CPU time are both reported
with the load average, because other work on the machine distorts the wall figure. Cold start is
measured in a fresh interpreter (import + load + first document). The last figure runs
``classify_pending`` end to end: SQLite items → one worker process → one UPDATE per batch.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from classifiers import Doc, Pipeline
from classifiers.corpora import CORPUS_FILES, default_data_dir
from monitor.bench import BenchOptions, BenchResult, peak_rss_mb
from monitor.classify import classify_pending, open_classifier
from monitor.classify.models import resolve_models_dir
from monitor.clock import Stopwatch, SystemClock
from monitor.config import resolve_org_file
from monitor.demo.corpus import load_corpus
from monitor.policy import load_org
from monitor.storage.db import Database
from monitor.storage.migrate import migrate
from monitor.storage.repo.items import insert_items

CHARS = 300
BATCH = 500
_COLD_START = (
    "import sys, time; from monitor.clock import Stopwatch; w = Stopwatch(); c = time.process_time(); "
    "from classifiers import Doc, Pipeline; from pathlib import Path; p = Pipeline.load(Path(sys.argv[1])); "
    "p.classify([Doc('1', '标题', '正文')]); print(w.elapsed(), time.process_time() - c)"
)


def documents(n: int, chars: int = CHARS) -> tuple[list[Doc], str]:
    """``n`` documents of ``chars`` characters and a description of where they came from."""
    data = default_data_dir()
    texts: list[str] = []
    source = "shared corpora (CEC reports + citizen messages)"
    if (data / "routing").is_dir():
        for name, column in (("cec", "text"), ("responses", "detail")):
            with (data / CORPUS_FILES[name]).open(encoding="utf-8", newline="") as handle:
                texts += [row[column][:chars] for row in csv.DictReader(handle) if len(row[column]) >= chars]
    if not texts:
        joined = "".join(item.text for item in load_corpus().items)
        texts = [joined[i : i + chars] for i in range(0, len(joined) - chars, chars // 3)]
        source = "demo corpus"
    return [Doc(str(i), "", texts[i % len(texts)]) for i in range(n)], f"{source}, {chars}-char windows"


def _pinned_throughput(pipeline: Pipeline, docs: list[Doc]) -> tuple[float, float]:
    """(wall, CPU) docs/s on one core."""
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if affinity:
        os.sched_setaffinity(0, {min(affinity)})
    try:
        pipeline.classify(docs[:BATCH])  # warm-up
        watch, cpu = Stopwatch(), time.process_time()
        for start in range(0, len(docs), BATCH):
            pipeline.classify(docs[start : start + BATCH])
        return len(docs) / watch.elapsed(), len(docs) / (time.process_time() - cpu)
    finally:
        if affinity:
            os.sched_setaffinity(0, affinity)


def cold_start(models_dir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds from a fresh interpreter's first import to its first result."""
    out = subprocess.run(
        [sys.executable, "-c", _COLD_START, str(models_dir)], capture_output=True, text=True, check=True, timeout=120
    )
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


async def _pending(options: BenchOptions, docs: list[Doc]) -> tuple[float, str]:
    settings = options.settings
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            await migrate(db)
            clock = SystemClock()
            now = clock.now()
            rows = [
                {
                    "dedup_key": f"bench-classify-{i}",
                    "url": f"https://bench.example/{i}",
                    "title": "",
                    "text": d.text,
                    "fetched_at": now,
                    "created_at": now,
                }
                for i, d in enumerate(docs)
            ]
            async with db.write() as conn:
                await insert_items(conn, rows)
            classifier = await open_classifier(settings, load_org(resolve_org_file(settings)), workers=1)
            try:
                watch = Stopwatch()
                result = await classify_pending(db, clock, classifier, limit=len(docs), batch=settings.classify_batch)
                return result.items / watch.elapsed(), db.dialect
            finally:
                await classifier.close()
        finally:
            await db.close()


async def run(options: BenchOptions) -> BenchResult:
    n = options.n or 4000
    docs, source = documents(n)
    models_dir = resolve_models_dir(options.settings)
    pipeline = Pipeline.load(models_dir)
    load_before = os.getloadavg()[0]
    wall, cpu = _pinned_throughput(pipeline, docs)
    load_after = os.getloadavg()[0]
    cold_wall, cold_cpu = cold_start(models_dir)
    pending, dialect = await _pending(options, docs[: min(n, 2000)])
    result = BenchResult("classify")
    label = f"Pipeline.classify, all tasks, {n:,} docs ({source}), batches of {BATCH}, one core"
    result.figures[f"{label}, wall"] = f"{wall:,.0f} docs/s (load average {load_before:.1f} → {load_after:.1f})"
    result.figures[f"{label}, CPU time"] = f"{cpu:,.0f} docs/s (target ≥ 2,000)"
    result.figures["cold start (fresh interpreter: import, load, first doc)"] = (
        f"{cold_wall:.2f} s wall, {cold_cpu:.2f} s CPU (target < 2 s)"
    )
    result.figures[f"classify_pending end to end ({dialect}, 1 worker process)"] = f"{pending:,.0f} items/s"
    result.figures["peak RSS"] = f"{peak_rss_mb():,.0f} MiB"
    result.notes.append(f"models: {models_dir}")
    return result

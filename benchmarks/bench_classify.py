"""Throughput and cold start of classifiers.Pipeline on one core.

    python benchmarks/bench_classify.py [--docs 4000] [--chars 300] [--batch 500]

Documents are 300-character windows of the shared corpora's raw texts (CEC reports and citizen
messages) when ``$CLASSIFIERS_DATA_DIR`` / ../shared/data exists, else a built-in sample
repeated with variations. Cold start is measured in a fresh interpreter (import + load +
first document). BLAS threads are pinned to one (the work is sparse and single-threaded).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import Doc, Pipeline  # noqa: E402
from classifiers.corpora import CORPUS_FILES, default_data_dir  # noqa: E402

SAMPLE = (
    "今日凌晨，某市城东街道一化工厂发生爆炸，造成3人死亡、12人受伤，直接经济损失约1200万元。"
    "我们小区物业公司长期乱收物业费，业主多次向住建局反映未果，希望政府部门尽快处理。"
    "湖人队在昨晚的比赛中以120比110击败勇士队，詹姆斯砍下35分。"
)


def corpus_texts(chars: int) -> list[str]:
    data = default_data_dir(ROOT)
    texts: list[str] = []
    if not data.is_dir():
        return texts
    for name, column in (("cec", "text"), ("responses", "detail")):
        with (data / CORPUS_FILES[name]).open(encoding="utf-8") as handle:
            texts += [row[column][:chars] for row in csv.DictReader(handle) if len(row[column]) >= chars]
    return texts


def make_docs(n: int, chars: int) -> tuple[list[Doc], str]:
    texts = corpus_texts(chars)
    source = "shared corpora (CEC + responses), 300-char windows"
    if not texts:
        texts = [(SAMPLE * (chars // len(SAMPLE) + 1))[i % 50 : i % 50 + chars] for i in range(200)]
        source = "built-in sample"
    docs = [Doc(str(i), "", texts[i % len(texts)]) for i in range(n)]
    return docs, source


def cold_start() -> tuple[float, float]:
    """(wall, CPU) seconds from interpreter start of the import to the first result."""
    code = (
        "import time; t=time.perf_counter(); c=time.process_time(); from classifiers import Pipeline, Doc; "
        "p=Pipeline.load(); p.classify([Doc('1','标题','正文')]); "
        "print(time.perf_counter()-t, time.process_time()-c)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--chars", type=int, default=300)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    pipeline = Pipeline.load()
    docs, source = make_docs(args.docs, args.chars)
    pipeline.classify(docs[: args.batch])  # warm-up
    started, started_cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(docs), args.batch):
        pipeline.classify(docs[i : i + args.batch])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    print(f"documents: {len(docs)} x {args.chars} chars ({source}), batch {args.batch}, one core")
    print(f"throughput (wall): {len(docs) / elapsed:,.0f} docs/s ({elapsed / len(docs) * 1e6:.0f} us/doc)")
    print(f"throughput (CPU time of this process): {len(docs) / cpu:,.0f} docs/s")
    wall, cpu_cold = cold_start()
    print(f"cold start (import + load + first doc, fresh interpreter): {wall:.2f} s wall, {cpu_cold:.2f} s CPU")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} (2 cores)")


if __name__ == "__main__":
    main()

"""The classifier as a service: ``classifiers.Pipeline`` warmed up in a process pool.

Classification is CPU-bound (segmentation, one sparse product, regular expressions), so it runs
in worker processes, as aiohttp-demos does with its scikit-learn model: every worker loads the
models once in its initializer and classifies one document before the pool is reported ready,
so the first real batch does not pay the cold start. Workers are *spawned* (never forked from a
process that already runs an event loop and database threads). ``workers=0`` classifies in a
thread of the calling process instead (tests, the ``monitor classify`` command, tiny installs).

Workers return plain dicts (``Result.to_dict()``): cheap to pickle, and what gets stored.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers import ArtifactError, Doc, Gazetteer, Pipeline, models_io

WARM_UP_DOC = Doc("warm-up", "东港镇化工厂发生爆炸", "今日凌晨一化工厂发生爆炸，造成3人死亡、12人受伤。")


class ClassifierError(RuntimeError):
    """The classifier cannot start (missing or incompatible models); the message says the fix."""


@dataclass(frozen=True)
class PipelineSpec:
    """Everything a worker needs to build its pipeline (picklable)."""

    models_dir: Path
    gazetteer: Gazetteer
    opinion_config: Mapping[str, Any] | None = None
    grading_config: Mapping[str, Any] | None = None  # a deployment's grading schemes (grading_schemes_file)

    def load(self) -> Pipeline:
        # Passed only when set: Pipeline.load(grading_config=…) hands the schemes to classifiers.grade().
        grading = {} if self.grading_config is None else {"grading_config": self.grading_config}
        try:
            return Pipeline.load(
                self.models_dir, gazetteer=self.gazetteer, opinion_config=self.opinion_config, **grading
            )
        except (ArtifactError, ValueError) as exc:
            raise ClassifierError(f"classifier models in {self.models_dir}: {exc}") from exc

    def verify(self) -> Mapping[str, Any]:
        """The models' meta.json once their versions and hashes check out (no weights loaded)."""
        try:
            return models_io.verify(self.models_dir)
        except ArtifactError as exc:
            raise ClassifierError(f"classifier models in {self.models_dir}: {exc}") from exc


_worker_pipeline: Pipeline | None = None


def _init_worker(spec: PipelineSpec) -> None:
    global _worker_pipeline
    # Ctrl-C in a terminal reaches the whole process group; the parent owns shutdown (it closes
    # the pool), so a worker ignores SIGINT instead of dying with a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_pipeline = spec.load()


def _classify_in_worker(docs: Sequence[Doc]) -> list[dict[str, Any]]:
    assert _worker_pipeline is not None, "worker started without _init_worker"
    return [r.to_dict() for r in _worker_pipeline.classify(docs)]


def model_version(meta: Mapping[str, Any]) -> str:
    """A short, stable name of a model build: its build date and the start of its weights' sha256."""
    digest = str(meta.get("files", {}).get("weights.npz", ""))[:12] or "unknown"
    return f"{meta.get('built', 'unbuilt')}-{digest}"


class Classifier:
    """Classifies batches of documents; create with :meth:`start`, release with :meth:`close`."""

    def __init__(self, spec: PipelineSpec, workers: int) -> None:
        self.spec = spec
        self.workers = workers
        self._local: Pipeline | None = None
        self._pool: Executor | None = None
        self.meta: Mapping[str, Any] = {}

    @classmethod
    def in_process(cls, spec: PipelineSpec, pipeline: Pipeline) -> Classifier:
        """A classifier around an already loaded pipeline (no pool; e.g. shared by tests)."""
        classifier = cls(spec, 0)
        classifier._local = pipeline
        classifier.meta = pipeline.meta
        return classifier

    @classmethod
    async def start(cls, spec: PipelineSpec, workers: int = 1) -> Classifier:
        """Load the models (in every worker) and classify one document per worker to warm up."""
        if workers <= 0:
            return cls.in_process(spec, await asyncio.to_thread(spec.load))
        classifier = cls(spec, workers)
        classifier.meta = await asyncio.to_thread(spec.verify)  # fail here, with the fix, not in a worker
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(spec,))
        classifier._pool = pool
        try:
            loop = asyncio.get_running_loop()
            warm = [loop.run_in_executor(pool, _classify_in_worker, [WARM_UP_DOC]) for _ in range(workers)]
            await asyncio.gather(*warm)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return classifier

    @property
    def version(self) -> str:
        return model_version(self.meta)

    async def classify(self, docs: Sequence[Doc]) -> list[dict[str, Any]]:
        """``Result.to_dict()`` of every document, in order."""
        if not docs:
            return []
        if self._local is not None:
            local = self._local
            return await asyncio.to_thread(lambda: [r.to_dict() for r in local.classify(docs)])
        if self._pool is None:
            raise ClassifierError("the classifier is closed")
        return await asyncio.get_running_loop().run_in_executor(self._pool, _classify_in_worker, list(docs))

    async def close(self) -> None:
        pool, self._pool, self._local = self._pool, None, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True)

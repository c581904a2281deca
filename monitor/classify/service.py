"""The classify adapter as the service uses it: open once, then classify pending items in batches."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from classifiers import Doc, normalize
from classifiers.grading import GradingConfigError, load_schemes
from classifiers.opinion import validate_config
from monitor.classify.models import resolve_models_dir
from monitor.classify.orgmap import OrgMapping, org_mapping
from monitor.classify.runner import Classifier, ClassifierError, PipelineSpec
from monitor.classify.values import ItemClassification
from monitor.clock import Clock
from monitor.config import Settings
from monitor.domain import OrgDirectory
from monitor.policy import PolicyError
from monitor.policy.yamlfile import load_yaml
from monitor.storage.db import Database
from monitor.storage.repo.classify import pending_items, save_classifications

log = logging.getLogger(__name__)


class ItemClassifier:
    """A started :class:`Classifier` plus the org mapping: documents in, domain values out."""

    def __init__(self, classifier: Classifier, mapping: OrgMapping) -> None:
        self.classifier = classifier
        self.mapping = mapping

    @property
    def version(self) -> str:
        return self.classifier.version

    async def classify_raw(self, docs: Sequence[Doc]) -> list[dict[str, Any]]:
        """The classifier's JSON results plus ``unit_ids`` / ``co_unit_ids`` (org unit ids)."""
        return [self.to_values(r).classification for r in await self.classifier.classify(docs)]

    async def classify(self, docs: Sequence[Doc], text_basis: Sequence[str] | None = None) -> list[ItemClassification]:
        results = await self.classifier.classify(docs)
        bases = text_basis or ["title+text"] * len(results)
        return [self.to_values(r, b) for r, b in zip(results, bases, strict=True)]

    def to_values(self, result: Mapping[str, Any], text_basis: str = "title+text") -> ItemClassification:
        return ItemClassification.from_result(result, self.mapping, self.version, text_basis)

    async def close(self) -> None:
        await self.classifier.close()


async def open_classifier(settings: Settings, org: OrgDirectory, *, workers: int | None = None) -> ItemClassifier:
    """Start the classifier the settings describe (models_dir, opinion_levels_file, grading_schemes_file,
    classify_workers)."""
    mapping = org_mapping(org)
    spec = PipelineSpec(
        resolve_models_dir(settings), mapping.gazetteer, load_opinion_config(settings), load_grading_config(settings)
    )
    count = settings.classify_workers if workers is None else workers
    return ItemClassifier(await Classifier.start(spec, count), mapping)


def load_opinion_config(settings: Settings) -> Mapping[str, Any] | None:
    """The opinion_levels_file thresholds (validated), or None for the shipped defaults."""
    if not settings.opinion_levels_file:
        return None
    path = Path(settings.opinion_levels_file)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a mapping of the fields of classifiers/opinion_levels.yaml")
        return validate_config(data)
    except OSError as exc:
        raise ClassifierError(f"opinion_levels_file {path}: cannot be read ({exc.strerror})") from exc
    except (yaml.YAMLError, ValueError) as exc:
        raise ClassifierError(f"opinion_levels_file {path}: {exc}") from exc


def load_grading_config(settings: Settings) -> Mapping[str, Any] | None:
    """The grading_schemes_file schemes (validated), or None for the shipped schemes."""
    if not settings.grading_schemes_file:
        return None
    try:
        return read_grading_schemes(settings.grading_schemes_file)
    except PolicyError as exc:
        raise ClassifierError(f"grading_schemes_file {exc}") from exc


def read_grading_schemes(path: Path | str) -> dict[str, Any]:
    """A grading schemes file (layout of classifiers/grading_schemes.yaml), validated; a PolicyError
    names the file, the line, the key and the fix (``monitor check-playbooks`` shows it)."""
    doc = load_yaml(path)
    data = doc.data if doc.data is not None else {}
    try:
        load_schemes(data)
    except GradingConfigError as exc:
        raise doc.error(exc.path, exc.problem, exc.fix) from None
    return data


def item_doc(row: Any) -> tuple[Doc, str]:
    """The document the classifier reads for an items row, and what its spans index.

    Collectors store ``text_norm`` = normalised title + newline + text; when present it is read
    as is (the title is prepended only when it is not already there). Otherwise the original
    title and text are read, and the classifier normalises them itself.
    """
    tier = row.media_tier or None
    if row.text_norm:
        if normalize(row.text_norm).startswith(normalize(row.title or "")):
            return Doc(str(row.id), "", row.text_norm, media_tier=tier, published_at=row.published_at), "text_norm"
        return Doc(str(row.id), row.title, row.text_norm, tier, row.published_at), "title+text_norm"
    return Doc(str(row.id), row.title, row.text, media_tier=tier, published_at=row.published_at), "title+text"


@dataclass(frozen=True)
class PendingResult:
    """What one ``classify_pending`` call did."""

    items: int = 0
    relevant: int = 0
    batches: int = 0
    failed: int = 0  # items the classifier raised on: stored with the error, relevant left NULL


async def classify_pending(
    db: Database, clock: Clock, classifier: ItemClassifier, *, limit: int = 1000, batch: int = 200
) -> PendingResult:
    """Classify up to ``limit`` items with ``classified_at IS NULL``, ``batch`` at a time: per
    batch one read, the classification (in the worker pool, outside any transaction) and one
    executemany UPDATE. Returns counts; call it after each collection pass, before clustering.

    An item whose text is garbled (unrepaired mojibake, flagged by the collectors) is not given to
    the classifier; it is stored like a failed item, with the reason.

    An item the classifier raises on does not block the queue: the batch is retried item by
    item, and the failing item is stored as classified with ``classification = {"error": …}`` and
    ``relevant`` NULL (clustering skips it; it stays listed for people). A dead worker pool
    (``BrokenProcessPool``) or a closed classifier is not an item's fault and propagates."""
    done = relevant = batches = failed = 0
    while done < limit:
        async with db.read() as conn:
            rows = await pending_items(conn, min(batch, limit - done))
        if not rows:
            break
        outcomes = await _classify_rows(classifier, rows)
        now = clock.now()
        updates = [
            {"item_id": row.id, **_columns(outcome), "classified_at": now, "model_version": classifier.version}
            for row, outcome in zip(rows, outcomes, strict=True)
        ]
        async with db.write() as conn:
            await save_classifications(conn, updates)
        done += len(rows)
        relevant += sum(isinstance(o, ItemClassification) and o.relevant for o in outcomes)
        failed += sum(isinstance(o, str) for o in outcomes)
        batches += 1
        if len(rows) < batch:
            break
    return PendingResult(done, relevant, batches, failed)


def garbled(row: Any) -> str | None:
    """Why the row's text is unreadable (mojibake the collectors could not repair), else None.

    Such text would be classified as noise, silently; it is held back from the classifier instead
    and listed for people with the reason (the collectors' warning)."""
    for warning in getattr(row, "warnings", None) or ():
        if isinstance(warning, str) and warning.startswith("mojibake:"):
            return f"not classified, text is garbled ({warning})"
    return None


async def _classify_rows(classifier: ItemClassifier, rows: Sequence[Any]) -> list[ItemClassification | str]:
    """The classification of each row, or the error message for a row the classifier raised on
    or that was held back because its text is garbled."""
    held = {i: reason for i, row in enumerate(rows) if (reason := garbled(row)) is not None}
    if held:
        readable = [row for i, row in enumerate(rows) if i not in held]
        done = iter(await _classify_rows(classifier, readable) if readable else [])
        return [held[i] if i in held else next(done) for i in range(len(rows))]
    prepared = [item_doc(row) for row in rows]
    try:
        return list(await classifier.classify([d for d, _ in prepared], [b for _, b in prepared]))
    except (BrokenProcessPool, ClassifierError):
        raise
    except Exception:
        log.exception("classifying a batch of %d items failed; retrying them one by one", len(rows))
    outcomes: list[ItemClassification | str] = []
    for row, (doc, basis) in zip(rows, prepared, strict=True):
        try:
            outcomes.extend(await classifier.classify([doc], [basis]))
        except (BrokenProcessPool, ClassifierError):
            raise
        except Exception as exc:
            log.exception("item %s could not be classified", row.id)
            outcomes.append(f"{type(exc).__name__}: {exc}")
    return outcomes


def _columns(outcome: ItemClassification | str) -> dict[str, Any]:
    if isinstance(outcome, ItemClassification):
        return outcome.columns()
    empty = dict.fromkeys(("relevant", "relevance_score", "event_type", "event_level", "opinion_level"))
    return {**empty, "department": None, "region": None, "classification": {"error": outcome}}

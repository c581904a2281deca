"""Helpers for the classify adapter tests: the demo org, a shared in-process classifier, items."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from typing import Any

from classifiers import Pipeline
from monitor.classify import Classifier, ItemClassifier, OrgMapping, PipelineSpec, org_mapping
from monitor.classify.models import SHIPPED_MODELS_DIR
from monitor.config import load_settings, resolve_org_file
from monitor.domain import OrgDirectory
from monitor.policy import load_org


@lru_cache(maxsize=1)
def demo_org() -> OrgDirectory:
    return load_org(resolve_org_file(load_settings(env={}).settings))


@lru_cache(maxsize=1)
def demo_mapping() -> OrgMapping:
    return org_mapping(demo_org())


@lru_cache(maxsize=1)
def shipped_pipeline() -> Pipeline:
    """The shipped models with the demo org's gazetteer (loaded once per test session)."""
    return Pipeline.load(SHIPPED_MODELS_DIR, gazetteer=demo_mapping().gazetteer)


def item_classifier() -> ItemClassifier:
    """An in-process classifier over the demo org (the pipeline is loaded once per test session)."""
    spec = PipelineSpec(SHIPPED_MODELS_DIR, demo_mapping().gazetteer)
    return ItemClassifier(Classifier.in_process(spec, shipped_pipeline()), demo_mapping())


def item_row(n: int, title: str, text: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "dedup_key": hashlib.sha256(f"item-{n}".encode()).hexdigest(),
        "url": f"https://news.example/{n}.html",
        "title": title,
        "text": text,
        "fetched_at": at,
        "created_at": at,
        "media_tier": None,
        "text_norm": None,
        "published_at": None,
        **extra,
    }

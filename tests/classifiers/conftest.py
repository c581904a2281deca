"""Shared fixtures: the loaded pipeline and the location of the shared corpora."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers import Pipeline
from classifiers.corpora import default_data_dir


@pytest.fixture(scope="session")
def pipeline() -> Pipeline:
    return Pipeline.load()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = default_data_dir()
    if not (path / "routing").is_dir():
        pytest.skip(f"shared corpora not found at {path} (set CLASSIFIERS_DATA_DIR to run corpus tests)")
    return path

"""Artifact safety: version refusal, hash verification, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from classifiers import ArtifactError, Pipeline
from classifiers.models_io import RETRAIN_COMMAND, check_versions
from classifiers.pipeline import DEFAULT_MODELS_DIR


def copy_models(tmp_path: Path) -> Path:
    target = tmp_path / "models"
    shutil.copytree(DEFAULT_MODELS_DIR, target)
    return target


def test_refuses_other_library_versions(tmp_path: Path) -> None:
    target = copy_models(tmp_path)
    meta = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    meta["versions"]["jieba"] = "0.1.0"
    (target / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactError) as info:
        Pipeline.load(target)
    assert "jieba 0.1.0 (built)" in str(info.value)
    assert RETRAIN_COMMAND in str(info.value)


def test_minor_versions_matter_for_numeric_libraries() -> None:
    meta = {"versions": {"numpy": "2.4.0"}}
    check_versions(meta, {"numpy": "2.4.9"})
    with pytest.raises(ArtifactError, match=r"numpy 2\.4\.0"):
        check_versions(meta, {"numpy": "2.5.0"})


def test_refuses_a_tampered_weight_file(tmp_path: Path) -> None:
    target = copy_models(tmp_path)
    with (target / "weights.npz").open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(ArtifactError, match="corrupt"):
        Pipeline.load(target)


def test_missing_model_directory_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"python -m classifiers\.train"):
        Pipeline.load(tmp_path / "nowhere")


def test_corrupt_meta(tmp_path: Path) -> None:
    target = copy_models(tmp_path)
    (target / "meta.json").write_text("{", encoding="utf-8")
    with pytest.raises(ArtifactError, match="corrupt"):
        Pipeline.load(target)


def test_shipped_models_are_small_and_document_their_data() -> None:
    total = sum(p.stat().st_size for p in DEFAULT_MODELS_DIR.iterdir())
    assert total < 10 * 1024 * 1024
    meta = json.loads((DEFAULT_MODELS_DIR / "meta.json").read_text(encoding="utf-8"))
    assert set(meta["data"]["sha256"]) == {"routing", "responses", "cec", "duee", "tnews"}
    assert (DEFAULT_MODELS_DIR / "README.md").is_file()

"""Trained linear heads on the shared feature space, and their on-disk format.

Format (no pickle anywhere): ``vocab.json.gz`` (terms per namespace in column order),
``weights.npz`` (idf, weights as float16, bias; loaded with ``allow_pickle=False``) and
``meta.json`` (heads, library versions, corpus hashes, metrics, and the sha256 of both files,
checked before anything is parsed).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from classifiers.features import NAMESPACES, FeatureSpace

FORMAT_VERSION = 1
VOCAB_FILE = "vocab.json.gz"
WEIGHTS_FILE = "weights.npz"
META_FILE = "meta.json"
RETRAIN_COMMAND = "python -m classifiers.train --data ../shared/data --out classifiers/models"
# Libraries whose version must match exactly (they decide the tokens) or by major.minor.
EXACT_VERSIONS = ("jieba", "rjieba")
MINOR_VERSIONS = ("numpy", "scipy", "scikit-learn")


class ArtifactError(RuntimeError):
    """A model directory is missing, corrupt, or was built with other library versions."""


@dataclass(frozen=True)
class Head:
    """Columns ``start:end`` of the weight matrix; binary heads have one column."""

    name: str
    classes: tuple[str, ...]
    start: int
    end: int

    @property
    def binary(self) -> bool:
        return self.end - self.start == 1

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """P(positive) for a binary head, softmax over classes for a multiclass head."""
        block = scores[:, self.start : self.end]
        if self.binary:
            return np.asarray(1.0 / (1.0 + np.exp(-block[:, 0])))
        shifted = np.exp(block - block.max(axis=1, keepdims=True))
        return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


@dataclass
class LinearModels:
    """Every head's weights stacked into one matrix: one sparse product scores all tasks."""

    features: FeatureSpace
    weights: np.ndarray  # n_features × n_outputs, float32
    bias: np.ndarray  # n_outputs
    heads: dict[str, Head]

    def scores(self, matrix: sparse.csr_matrix) -> np.ndarray:
        product: np.ndarray = np.asarray(matrix @ self.weights)
        scores: np.ndarray = product + self.bias
        return scores


def library_versions() -> dict[str, str | None]:
    names = EXACT_VERSIONS + MINOR_VERSIONS
    return {name: _version(name) for name in names}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def save(models: LinearModels, out_dir: Path, meta: Mapping[str, Any]) -> dict[str, Any]:
    """Write the three files; returns the meta.json content written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = {ns: sorted(models.features.vocab[ns], key=models.features.vocab[ns].__getitem__) for ns in NAMESPACES}
    raw = json.dumps(vocab, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    (out_dir / VOCAB_FILE).write_bytes(gzip.compress(raw, mtime=0))
    with (out_dir / WEIGHTS_FILE).open("wb") as handle:
        np.savez_compressed(
            handle,
            idf=models.features.idf,
            weights=models.weights.astype(np.float16),
            bias=models.bias.astype(np.float32),
        )
    full = dict(meta)
    full["format_version"] = FORMAT_VERSION
    full["versions"] = library_versions()
    full["heads"] = [
        {"name": h.name, "classes": list(h.classes), "start": h.start, "end": h.end} for h in models.heads.values()
    ]
    full["files"] = {name: _sha256(out_dir / name) for name in (VOCAB_FILE, WEIGHTS_FILE)}
    text = json.dumps(full, ensure_ascii=False, indent=2, sort_keys=True)
    (out_dir / META_FILE).write_text(text + "\n", encoding="utf-8")
    return full


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(model_dir: Path) -> tuple[LinearModels, dict[str, Any]]:
    """Load and verify a model directory; raises :class:`ArtifactError` with the fix."""
    meta = verify(model_dir)
    return _read_models(model_dir, meta), meta


def verify(model_dir: Path) -> dict[str, Any]:
    """Check meta.json, the library versions and the files' sha256 without loading the weights."""
    meta = read_meta(model_dir)
    check_versions(meta)
    for name, digest in meta.get("files", {}).items():
        path = model_dir / name
        if not path.is_file() or _sha256(path) != digest:
            raise ArtifactError(
                f"{path}: missing or corrupt (sha256 differs from meta.json). "
                f"Restore the file or retrain: {RETRAIN_COMMAND}"
            )
    return meta


def read_meta(model_dir: Path) -> dict[str, Any]:
    path = model_dir / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no model here. Train one: {RETRAIN_COMMAND}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: corrupt ({exc}). Retrain: {RETRAIN_COMMAND}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{path}: format_version is not {FORMAT_VERSION}. Retrain: {RETRAIN_COMMAND}")
    return meta


def check_versions(meta: Mapping[str, Any], installed: Mapping[str, str | None] | None = None) -> None:
    """Refuse artifacts built with other tokenizer versions or other numpy/scipy/sklearn minors."""
    installed = installed if installed is not None else library_versions()
    built = meta.get("versions", {})
    problems = []
    for name in EXACT_VERSIONS + MINOR_VERSIONS:
        have, want = installed.get(name), built.get(name)
        if have is None or want is None:
            continue  # e.g. rjieba absent: jieba gives the same tokens (tested)
        same = have == want if name in EXACT_VERSIONS else _minor(have) == _minor(want)
        if not same:
            problems.append(f"{name} {want} (built) vs {have} (installed)")
    if problems:
        raise ArtifactError(
            "model built with other library versions: "
            + "; ".join(problems)
            + f". Install the versions it was built with, or retrain: {RETRAIN_COMMAND}"
        )


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _read_models(model_dir: Path, meta: Mapping[str, Any]) -> LinearModels:
    try:
        vocab_lists = json.loads(gzip.decompress((model_dir / VOCAB_FILE).read_bytes()))
        with np.load(model_dir / WEIGHTS_FILE, allow_pickle=False) as arrays:
            idf, weights, bias = arrays["idf"], arrays["weights"], arrays["bias"]
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"{model_dir}: cannot read model files ({exc}). Retrain: {RETRAIN_COMMAND}") from None
    vocab: dict[str, dict[str, int]] = {}
    offset = 0
    for namespace in NAMESPACES:
        terms = vocab_lists[namespace]
        vocab[namespace] = {t: offset + i for i, t in enumerate(terms)}
        offset += len(terms)
    heads = {h["name"]: Head(h["name"], tuple(h["classes"]), h["start"], h["end"]) for h in meta["heads"]}
    features = FeatureSpace(vocab=vocab, idf=idf.astype(np.float32))
    return LinearModels(features, weights.astype(np.float32), bias.astype(np.float32), heads)

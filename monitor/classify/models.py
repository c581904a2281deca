"""Where the classifier's models live.

The models shipped in ``classifiers/models`` are read-only: a deployment never overwrites them.
``monitor retrain`` writes each new model into its own directory ``<data_dir>/models/<version>/``
and activates it by writing its name into ``<data_dir>/models/ACTIVE``. The ``models_dir``
setting, when set, pins one directory and overrides both.
"""

from __future__ import annotations

from pathlib import Path

from classifiers.pipeline import DEFAULT_MODELS_DIR
from monitor.config import Settings

SHIPPED_MODELS_DIR = DEFAULT_MODELS_DIR
ACTIVE_FILE = "ACTIVE"
SHIPPED = "shipped"  # what ACTIVE may also say: back to the shipped models


def models_root(settings: Settings) -> Path:
    """The directory retrained models are written to."""
    return Path(settings.data_dir) / "models"


def active_version(settings: Settings) -> str | None:
    """The retrained version ACTIVE names, or None (shipped models)."""
    pointer = models_root(settings) / ACTIVE_FILE
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return None if name in ("", SHIPPED) else name


def resolve_models_dir(settings: Settings) -> Path:
    """models_dir if set; else the activated retrained model; else the shipped models."""
    if settings.models_dir:
        return Path(settings.models_dir)
    version = active_version(settings)
    return models_root(settings) / version if version else SHIPPED_MODELS_DIR


def activate(settings: Settings, version: str | None) -> Path:
    """Make ``version`` (a directory under models_root) the model the service loads; None goes
    back to the shipped models. Returns the directory now in use. Written atomically."""
    root = models_root(settings)
    if version is not None and not (root / version / "meta.json").is_file():
        raise FileNotFoundError(f"{root / version}: no model there (no meta.json)")
    root.mkdir(parents=True, exist_ok=True)
    temporary = root / f".{ACTIVE_FILE}.tmp"
    temporary.write_text((version or SHIPPED) + "\n", encoding="utf-8")
    temporary.replace(root / ACTIVE_FILE)
    return root / version if version else SHIPPED_MODELS_DIR


def is_shipped(path: Path) -> bool:
    """True when ``path`` is (inside) the shipped model directory: never written to."""
    shipped = SHIPPED_MODELS_DIR.resolve()
    resolved = path.resolve()
    return resolved == shipped or shipped in resolved.parents

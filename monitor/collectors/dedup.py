"""Duplicate detection: exact keys, title hashes and near-duplicates (reposts) by MinHash/LSH.

Exact: the canonical URL (or GUID) gives `items.dedup_key`; a normalised title gives
`items.title_hash`. Near: Chinese has no spaces to split on, so text is shingled into overlapping
character 3-grams; a MinHash signature of the shingle set estimates Jaccard similarity and an
LSH index finds candidates in constant time. Boilerplate that reposts add or change (来源：…,
转载自…, 责任编辑：…, 原标题：…) is removed before shingling, so a 转载 matches its original.

The index holds only originals seen within a time window (and at most `max_entries` of them),
so memory stays flat however long the collector runs; signatures are stored with the items
(`items.minhash`), so the index is rebuilt from the database after a restart.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH

from monitor.collectors.normalize import normalize_title

_BOILERPLATE = re.compile(
    r"^\s*[\[【(（]?\s*(?:来源|稿源|转载自|转自|本文转自|原标题|责任编辑|编辑|作者|记者|通讯员|审核|校对)\s*[:：].*$",
    re.MULTILINE,
)
_ORIGIN = re.compile(r"(?:来源|稿源|转载自|转自|本文转自)\s*[:：]\s*([^\s|｜,，。;；)）\]】]{2,30})")
_NOT_TEXT = re.compile(r"[\s\W_]+")
MIN_SHINGLE_CHARS = 24  # shorter texts (titles only) are matched by title hash, not by MinHash


@dataclass(frozen=True, slots=True)
class DedupConfig:
    threshold: float = 0.6  # estimated Jaccard similarity of 3-gram sets above which a text is a repost
    num_perm: int = 64
    shingle: int = 3
    window: timedelta = timedelta(hours=72)
    max_entries: int = 200_000


def title_hash(title: str) -> str | None:
    """16 hex chars of sha256 over the normalised title; None for titles too short to identify a story."""
    core = normalize_title(title)
    return hashlib.sha256(core.encode("utf-8")).hexdigest()[:16] if len(core) >= 8 else None


def declared_origin(text: str) -> str | None:
    """The outlet a repost names as its source ("来源：新华社" -> "新华社"), if any."""
    match = _ORIGIN.search(text[:300]) or _ORIGIN.search(text[-300:])
    return match.group(1) if match else None


def shingle_text(title_norm: str, text_norm: str) -> str:
    """The text that is shingled: title and body without repost boilerplate, punctuation or spaces."""
    body = _BOILERPLATE.sub("", text_norm)
    return _NOT_TEXT.sub("", f"{title_norm}{body}")


class Signer:
    """Computes MinHash signatures with fixed permutations (so they compare across restarts)."""

    def __init__(self, config: DedupConfig) -> None:
        self.config = config
        self._permutations = MinHash(num_perm=config.num_perm, seed=1, scheme="affine32").permutations

    def signature(self, text: str) -> np.ndarray | None:
        """uint32[num_perm] MinHash of the character shingles of `text`; None when too short."""
        n = self.config.shingle
        if len(text) < MIN_SHINGLE_CHARS:
            return None
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        mixed = codes[: len(codes) - n + 1] * np.uint64(0x9E3779B1)
        for offset in range(1, n):
            mixed = (mixed * np.uint64(0x85EBCA77)) ^ codes[offset : len(codes) - n + 1 + offset]
        hashes = np.unique((mixed & np.uint64(0xFFFFFFFF)).astype(np.uint32))
        minhash = self._minhash()
        minhash.update_batch(hashes.tolist())
        return np.asarray(minhash.hashvalues, dtype=np.uint32)

    def _minhash(self, values: np.ndarray | None = None) -> MinHash:
        return MinHash(
            num_perm=self.config.num_perm,
            seed=1,
            hashfunc=int,
            permutations=self._permutations,
            hashvalues=values,
            scheme="affine32",
        )

    def wrap(self, values: np.ndarray) -> MinHash:
        return self._minhash(values)


def to_bytes(signature: np.ndarray) -> bytes:
    return signature.astype("<u4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


class NearDupIndex:
    """LSH over the signatures of recent originals, bounded by a time window and a size cap."""

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.config = config or DedupConfig()
        self.signer = Signer(self.config)
        self._lsh = MinHashLSH(threshold=self.config.threshold, num_perm=self.config.num_perm)
        self._signatures: dict[int, np.ndarray] = {}
        self._order: deque[tuple[datetime, int]] = deque()

    def __len__(self) -> int:
        return len(self._signatures)

    def find(self, signature: np.ndarray) -> tuple[int, float] | None:
        """The most similar indexed original (id, similarity) at or above the threshold."""
        best: tuple[int, float] | None = None
        for key in self._lsh.query(self.signer.wrap(signature)):
            score = similarity(signature, self._signatures[key])
            if score >= self.config.threshold and (best is None or (score, -key) > (best[1], -best[0])):
                best = (key, score)
        return best

    def add(self, item_id: int, signature: np.ndarray, at: datetime) -> None:
        if item_id in self._signatures:
            return
        self._lsh.insert(item_id, self.signer.wrap(signature), check_duplication=False)
        self._signatures[item_id] = signature
        self._order.append((at, item_id))
        if len(self._signatures) > self.config.max_entries:
            self._drop_oldest()

    def evict(self, now: datetime) -> int:
        """Forget originals older than the window; returns how many were dropped."""
        cutoff, dropped = now - self.config.window, 0
        while self._order and self._order[0][0] < cutoff:
            self._drop_oldest()
            dropped += 1
        return dropped

    def _drop_oldest(self) -> None:
        _, item_id = self._order.popleft()
        if self._signatures.pop(item_id, None) is not None:
            self._lsh.remove(item_id)

    def load(self, rows: Iterable[tuple[int, bytes, datetime]]) -> None:
        """Rebuild from stored (item id, signature bytes, time) rows, oldest first."""
        for item_id, blob, at in rows:
            if blob:
                self.add(item_id, from_bytes(blob), at)

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

from monitor.collectors.normalize import title_core

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


def title_hash(title_norm: str) -> str | None:
    """16 hex chars of sha256 over a normalised title's letters and digits; None when too short to identify a story."""
    core = title_core(title_norm)
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
    """MinHash signatures of character shingles, with datasketch's "affine32" permutations.

    The permutation is applied with numpy in one (shingles x num_perm) operation; the result is
    the same as datasketch's `MinHash.update_batch` on the same shingle hashes (a test checks),
    several times faster because no Python object is made per shingle.
    """

    def __init__(self, config: DedupConfig) -> None:
        self.config = config
        a, b = MinHash(num_perm=config.num_perm, seed=1, scheme="affine32").permutations
        self._a, self._b = a.astype(np.uint32)[None, :], b.astype(np.uint32)[None, :]

    def shingle_hashes(self, text: str) -> np.ndarray:
        """Distinct uint32 hashes of the overlapping character n-grams of `text`."""
        n = self.config.shingle
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        mixed = codes[: len(codes) - n + 1] * np.uint64(0x9E3779B1)
        for offset in range(1, n):
            mixed = (mixed * np.uint64(0x85EBCA77)) ^ codes[offset : len(codes) - n + 1 + offset]
        return np.unique((mixed & np.uint64(0xFFFFFFFF)).astype(np.uint32))

    def signature(self, text: str) -> np.ndarray | None:
        """uint32[num_perm] MinHash of the character shingles of `text`; None when too short."""
        if len(text) < MIN_SHINGLE_CHARS:
            return None
        hv = _fmix32(self.shingle_hashes(text))[:, None]
        with np.errstate(over="ignore"):
            permuted = hv * self._a + self._b  # uint32 arithmetic wraps: a*h + b mod 2**32
        return np.asarray(permuted.min(axis=0), dtype=np.uint32)


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (as datasketch applies before its affine permutations)."""
    with np.errstate(over="ignore"):
        hv = hv ^ (hv >> np.uint32(16))
        hv = hv * np.uint32(0x85EBCA6B)
        hv = hv ^ (hv >> np.uint32(13))
        hv = hv * np.uint32(0xC2B2AE35)
        return hv ^ (hv >> np.uint32(16))


def to_bytes(signature: np.ndarray) -> bytes:
    return signature.astype("<u4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


class NearDupIndex:
    """LSH over the signatures of recent originals, bounded by a time window and a size cap.

    Banding (b bands of r rows, chosen by datasketch for the threshold) is kept in plain dicts:
    a band's bytes -> item ids. Candidates sharing any band are verified on the full signature.
    """

    def __init__(self, config: DedupConfig | None = None) -> None:
        self.config = config or DedupConfig()
        self.signer = Signer(self.config)
        params = MinHashLSH(threshold=self.config.threshold, num_perm=self.config.num_perm)
        self._bands = [(i * params.r, (i + 1) * params.r) for i in range(params.b)]
        self._tables: list[dict[bytes, list[int]]] = [{} for _ in self._bands]
        self._signatures: dict[int, np.ndarray] = {}
        self._order: deque[tuple[datetime, int]] = deque()
        self._provisional = 0

    def __len__(self) -> int:
        return len(self._signatures)

    def _keys(self, signature: np.ndarray) -> list[bytes]:
        return [signature[start:end].tobytes() for start, end in self._bands]

    def find(self, signature: np.ndarray) -> tuple[int, float] | None:
        """The most similar indexed original (id, similarity) at or above the threshold."""
        candidates: set[int] = set()
        for table, key in zip(self._tables, self._keys(signature), strict=True):
            candidates.update(table.get(key, ()))
        best: tuple[int, float] | None = None
        for item_id in candidates:
            score = similarity(signature, self._signatures[item_id])
            if score >= self.config.threshold and (best is None or (score, -item_id) > (best[1], -best[0])):
                best = (item_id, score)
        return best

    def add(self, item_id: int, signature: np.ndarray, at: datetime) -> None:
        if item_id in self._signatures:
            return
        for table, key in zip(self._tables, self._keys(signature), strict=True):
            table.setdefault(key, []).append(item_id)
        self._signatures[item_id] = signature
        self._order.append((at, item_id))
        while len(self._signatures) > self.config.max_entries:
            self._drop_oldest()

    def provisional_id(self) -> int:
        """A negative id, never reused, for an original whose database id is not known yet."""
        self._provisional -= 1
        return self._provisional

    def evict(self, now: datetime) -> int:
        """Forget originals older than the window; returns how many were dropped."""
        cutoff, dropped = now - self.config.window, 0
        while self._order and self._order[0][0] < cutoff:
            self._drop_oldest()
            dropped += 1
        return dropped

    def rekey(self, old_id: int, new_id: int | None, at: datetime) -> None:
        """Give a provisional entry its stored id (or forget it when `new_id` is None).

        The old id stays in the age queue as a tombstone; eviction skips it.
        """
        signature = self._signatures.pop(old_id, None)
        if signature is None:
            return
        self._unlink(old_id, signature)
        if new_id is not None:
            self.add(new_id, signature, at)

    def _drop_oldest(self) -> None:
        _, item_id = self._order.popleft()
        signature = self._signatures.pop(item_id, None)
        if signature is not None:
            self._unlink(item_id, signature)

    def _unlink(self, item_id: int, signature: np.ndarray) -> None:
        for table, key in zip(self._tables, self._keys(signature), strict=True):
            bucket = table.get(key)
            if bucket is not None:
                bucket.remove(item_id)
                if not bucket:
                    del table[key]

    def load(self, rows: Iterable[tuple[int, bytes, datetime]]) -> None:
        """Rebuild from stored (item id, signature bytes, time) rows, oldest first."""
        for item_id, blob, at in rows:
            if blob:
                self.add(item_id, from_bytes(blob), at)

"""Readers for the shared corpora (never copied into the repository) and the held-out split.

Every corpus row becomes an :class:`Example` whose labels are None where that corpus says
nothing about a task. Rows are grouped by near-duplicate text (character 3-gram cosine ≥ 0.5,
connected components) and a group goes wholly to train or test by a hash of its first id, so
the same split is reproduced by ``train`` and ``evaluate`` and no near-copy of a test message
is trained on.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from classifiers.types import EventType

TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.15
# Anonymised place names in the 泰迪杯 messages (A市, A1区, C4市, A7县 …) and user ids.
_PLACEHOLDER = re.compile(r"[A-Za-z]+\d*(?=[省市区县镇乡村街])|UU\d+")

# DuEE event_top values that are ordinary news, not 政务舆情 (when not also a disaster).
_DUEE_NOT_GOV = {"竞赛行为", "产品行为", "财经/交易", "交往", "人生", "组织关系"}
# DuEE disaster subtypes → event type; the first matching entry wins.
_DUEE_TYPES = (
    ("灾害/意外-地震", EventType.NATURAL_DISASTER),
    ("灾害/意外-洪灾", EventType.NATURAL_DISASTER),
    ("灾害/意外-袭击", EventType.SOCIAL_SECURITY),
    ("灾害/意外-车祸", EventType.TRAFFIC),
    ("灾害/意外-坠机", EventType.TRAFFIC),
    ("灾害/意外-爆炸", EventType.WORK_SAFETY),
    ("灾害/意外-起火", EventType.FIRE),
    ("灾害/意外-坍/垮塌", EventType.WORK_SAFETY),
)
_CEC_TYPES = {
    "交通事故": EventType.TRAFFIC,
    "火灾": EventType.FIRE,
    "地震": EventType.NATURAL_DISASTER,
    "食物中毒": EventType.FOOD_POISONING,
    "恐怖袭击": EventType.SOCIAL_SECURITY,
    "环境污染": EventType.POLLUTION,
}


@dataclass(frozen=True)
class Example:
    """One labelled text; a None label means the corpus does not speak to that task."""

    source: str
    id: str
    text: str
    relevant: bool | None = None
    incident: bool | None = None
    event_type: str | None = None
    routing: str | None = None
    split: str = "train"  # train | validation | test
    tags: tuple[str, ...] = ()  # DuEE: the row's event_top values (for evaluation subsets)


def default_data_dir(repo_root: Path | None = None) -> Path:
    """``$CLASSIFIERS_DATA_DIR`` or ``../shared/data`` relative to the repository root."""
    env = os.environ.get("CLASSIFIERS_DATA_DIR")
    if env:
        return Path(env)
    root = repo_root or Path(__file__).resolve().parent.parent
    return (root / ".." / "shared" / "data").resolve()


CORPUS_FILES = {
    "routing": "routing/messages_train_segmented.csv",
    "responses": "responses/messages_with_replies.csv",
    "cec": "emergencies/cec_train.csv",
    "duee": "events/duee_train_events.csv",
    "tnews": "news/tnews_dev.csv",
}


CORPUS_SOURCES = {
    "routing": "第八届泰迪杯数据挖掘挑战赛 2020 C题 智慧政务 附件2 (群众留言, segmented)",
    "responses": "第八届泰迪杯数据挖掘挑战赛 2020 C题 智慧政务 附件4 (留言与答复)",
    "cec": "CEC 中文突发事件语料库 (上海大学语义智能实验室)",
    "duee": "DuEE 1.0 (Li et al. 2020, 千言)",
    "tnews": "TNEWS (CLUE) / 今日头条新闻标题",
}


def require_corpora(data_dir: Path) -> None:
    """Stop (SystemExit) with the corpus files ``data_dir`` lacks and how to point elsewhere."""
    missing = [f for f in CORPUS_FILES.values() if not (data_dir / f).is_file()]
    if missing:
        raise SystemExit(
            f"{data_dir}: the shared corpora are not there (missing {', '.join(missing)}); "
            "pass --data DIR or set CLASSIFIERS_DATA_DIR"
        )


def _rows(data_dir: Path, name: str) -> Iterator[dict[str, str]]:
    path = data_dir / CORPUS_FILES[name]
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def strip_placeholders(text: str) -> str:
    """Remove the corpus's anonymised place codes so models do not learn them as cues."""
    return _PLACEHOLDER.sub("", text)


def routing_examples(data_dir: Path) -> Iterator[Example]:
    """泰迪杯 messages: pre-segmented; joined back to unsegmented text (spaces removed)."""
    for row in _rows(data_dir, "routing"):
        text = strip_placeholders(row["text_segmented"].replace(" ", ""))
        yield Example(
            "routing",
            row["row"],
            text,
            relevant=True,
            incident=False,
            event_type=EventType.LIVELIHOOD.value,
            routing=row["label_level1"],
        )


def response_examples(data_dir: Path) -> Iterator[Example]:
    """Raw citizen messages (title + detail); no routing label (the reply unit is too noisy)."""
    for row in _rows(data_dir, "responses"):
        text = strip_placeholders(f"{row['title']}\n{row['detail']}")
        yield Example(
            "responses", row["msg_id"], text, relevant=True, incident=False, event_type=EventType.LIVELIHOOD.value
        )


def cec_examples(data_dir: Path) -> Iterator[Example]:
    for row in _rows(data_dir, "cec"):
        yield Example(
            "cec",
            row["doc_id"],
            f"{row['title']}\n{row['text']}",
            relevant=True,
            incident=True,
            event_type=_CEC_TYPES[row["category"]].value,
        )


def duee_examples(data_dir: Path) -> Iterator[Example]:
    for row in _rows(data_dir, "duee"):
        disaster = row["is_disaster_accident"] == "1"
        tops = set(row["event_top"].split("|"))
        relevant: bool | None = True if disaster else (False if tops <= _DUEE_NOT_GOV else None)
        yield Example(
            "duee",
            row["id"],
            row["text"],
            relevant=relevant,
            incident=disaster,
            event_type=_duee_type(row["event_types"], disaster, relevant),
            tags=tuple(sorted(tops)),
        )


def _duee_type(event_types: str, disaster: bool, relevant: bool | None) -> str | None:
    if not disaster:
        return EventType.NOT_GOV.value if relevant is False else None
    for subtype, event_type in _DUEE_TYPES:
        if subtype in event_types:
            return event_type.value
    return None


def tnews_examples(data_dir: Path) -> Iterator[Example]:
    for i, row in enumerate(_rows(data_dir, "tnews")):
        yield Example(
            "tnews", str(i), row["sentence"], relevant=False, incident=False, event_type=EventType.NOT_GOV.value
        )


def load_examples(data_dir: Path, cache_dir: Path | None = None) -> list[Example]:
    """All corpora with their train/validation/test split assigned.

    The near-duplicate grouping behind the split takes ~30 s; its result is cached in
    ``cache_dir`` (default ``$CLASSIFIERS_CACHE_DIR`` or ``~/.cache/minghu-classifiers``) under
    the corpora's sha256, so a cached split is exactly the split those files produce.
    """
    examples: list[Example] = []
    for reader in (routing_examples, response_examples, cec_examples, duee_examples, tnews_examples):
        examples.extend(reader(data_dir))
    splits = _cached_splits(data_dir, examples, cache_dir)
    return [replace(e, split=s) for e, s in zip(examples, splits, strict=True)]


def _cached_splits(data_dir: Path, examples: list[Example], cache_dir: Path | None) -> list[str]:
    from classifiers.dedup import near_duplicate_groups

    digest = hashlib.sha256(json.dumps(corpus_hashes(data_dir), sort_keys=True).encode()).hexdigest()[:16]
    path = (cache_dir or _default_cache_dir()) / f"splits-{digest}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, list) and len(cached) == len(examples):
            return [str(s) for s in cached]
    except (OSError, ValueError):
        pass
    groups = near_duplicate_groups([e.text for e in examples])
    splits = [_split_of(examples[g].source + examples[g].id) for g in groups]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(splits), encoding="utf-8")
    except OSError:
        pass  # a read-only home only costs the 30 s next time
    return splits


def _default_cache_dir() -> Path:
    env = os.environ.get("CLASSIFIERS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "minghu-classifiers"


def _split_of(key: str) -> str:
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if bucket < TEST_FRACTION:
        return "test"
    if bucket < TEST_FRACTION + VALIDATION_FRACTION:
        return "validation"
    return "train"


def corpus_hashes(data_dir: Path) -> dict[str, str]:
    """sha256 of each corpus file, recorded in meta.json."""
    out = {}
    for name, rel in CORPUS_FILES.items():
        out[name] = hashlib.sha256((data_dir / rel).read_bytes()).hexdigest()
    return out

"""The shipped models on the demo corpus: agreement with its gold labels (``expected``).

Thresholds sit a little below the figures recorded in benchmarks/README.md (``python -m
monitor.demo.classify_eval``) so that a regression fails here. The rules for 政策误读, 道德底线
and 谣言 were revised after a first run on this corpus: these are not held-out figures.
"""

from __future__ import annotations

from sqlalchemy import select

from monitor.classify import classify_pending
from monitor.clock import FakeClock
from monitor.demo.classify_eval import RULE_KINDS, agreement, demo_predictions, kind_scores
from monitor.demo.corpus import load_corpus
from monitor.storage.db import Database
from monitor.storage.repo.items import insert_items
from monitor.storage.schema import items

from .classify_support import demo_mapping, item_classifier, item_row, shipped_pipeline
from .conftest import START

FLOORS = {"relevant": 0.95, "event_type": 0.85, "event_level": 0.90, "department": 0.95, "region": 0.95}


def test_demo_corpus_agrees_with_its_gold_labels() -> None:
    pairs = demo_predictions(shipped_pipeline(), load_corpus())
    scores = {name: agree / n for name, (agree, n) in agreement(pairs).items()}
    assert all(scores[name] >= floor for name, floor in FLOORS.items()), scores
    for kind in kind_scores(pairs, RULE_KINDS):
        if kind.gold:  # 公共卫生 has no demo item
            assert kind.recall is not None and kind.recall >= 0.8, kind
            assert kind.precision is not None and kind.precision >= 0.8, kind


async def test_demo_items_get_their_owner_units_through_the_adapter(sqlite_db: Database) -> None:
    corpus = load_corpus()
    rows = [
        item_row(n, i.title, i.text, START, media_tier=corpus.feeds[i.feed].media_tier.value, guid=i.id)
        for n, i in enumerate(corpus.items)
    ]
    async with sqlite_db.write() as conn:
        await insert_items(conn, rows)
    result = await classify_pending(sqlite_db, FakeClock(START), item_classifier(), batch=50)
    assert result.items == len(corpus.items)
    async with sqlite_db.read() as conn:
        stored = {r.guid: r for r in await conn.execute(select(items))}
    mapping = demo_mapping()
    relevant = [i for i in corpus.items if i.expected["relevant"]]
    owner = sum(stored[i.id].department == mapping.department_id(i.expected["department"]) for i in relevant)
    region = sum(stored[i.id].region == mapping.region_id(i.expected.get("region")) for i in relevant)
    assert owner / len(relevant) >= FLOORS["department"] and region / len(relevant) >= FLOORS["region"]
    assert stored["d001"].opinion_level == "L1" and stored["d001"].event_level == "II"

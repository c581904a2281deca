"""A cluster pass and a person acting on an item (从稿件手动立案) at the same time, on SQLite and PostgreSQL.

incident_items.item_id is unique: before, a pass that read an item as pending while a person opened
an incident from it hit that constraint and rolled back every other item's clustering with it (and
the person could get a database error instead of a refusal). The PostgreSQL cases hold the other
side inside its transaction at a chosen point and watch pg_stat_activity for the lock wait; no sleeps.
"""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from monitor.collectors.cluster import cluster_pending
from monitor.domain.clustering import ClusterPolicy
from monitor.engine.commands import CommandRejected
from monitor.engine.open_item import open_from_item
from monitor.storage.db import Database
from monitor.storage.schema import incident_items

from .engine_support import Svc
from .test_engine_manual import _open, add_item

POLICY = ClusterPolicy(window=timedelta(hours=72), threshold=0.25)
H = timedelta(hours=1)


async def _two_relevant_items(svc: Svc) -> tuple[int, int]:
    relevant = {"relevant": True, "event_type": "livelihood", "event_level": None}
    water = await add_item(svc, 1, **relevant)
    road = await add_item(
        svc, 2, title="西岭大道塌陷致交通中断", text="西岭大道发生路面塌陷，交通中断。", region="xiling", **relevant
    )
    return water, road


async def _memberships(db: Database) -> dict[int, int]:
    async with db.read() as conn:
        return {r.item_id: r.incident_id for r in await conn.execute(select(incident_items))}


async def _lock_waits(db: Database) -> int:
    """How many other sessions on this database wait for a lock now (PostgreSQL)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    async with db.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def _until_waiting_or_done(db: Database, task: asyncio.Task[Any], waiting: int = 1) -> None:
    """Return once `task` is done or `waiting` sessions wait for a lock (each check yields to the loop)."""
    for _ in range(100_000):
        if task.done() or await _lock_waits(db) >= waiting:
            return
    pytest.fail("neither finished nor waited for a lock")


async def test_a_person_opening_an_item_mid_pass_rolls_back_no_other_item(db, clock):
    """The person's transaction holds the item (locked, its incident_items row written, not committed)
    when the pass starts: the pass skips that item and clusters the others without waiting."""
    svc = Svc(db, clock)
    water, road = await _two_relevant_items(svc)
    inside, release = asyncio.Event(), asyncio.Event()

    async def hold(*_: Any) -> None:
        inside.set()
        await release.wait()

    opening = asyncio.create_task(open_from_item(svc, _open(svc, water), within=hold))
    await inside.wait()
    clustering = asyncio.create_task(cluster_pending(db, clock, POLICY))
    try:
        if not db.is_sqlite:
            await _until_waiting_or_done(db, clustering)
            assert clustering.done(), "the pass waited for the person's transaction"
    finally:
        release.set()  # SQLite: the pass waits for the write lock (BEGIN IMMEDIATE), then sees the item taken
    opened = await opening
    result = await clustering
    assert (result.items, result.opened, result.joined) == (1, 1, 0)
    found = await _memberships(db)
    assert found[water] == opened.incident_id
    assert found[road] != opened.incident_id
    again = await cluster_pending(db, clock, POLICY)
    assert again.items == 0  # nothing left behind


async def test_a_person_opening_an_item_the_pass_holds_is_refused_in_chinese(db, clock):
    """The pass holds the item first: the person waits for it, then is told which incident took the
    item (a refusal, not a database error), and the pass commits every item."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises write transactions (BEGIN IMMEDIATE): there is no interleaving")
    svc = Svc(db, clock)
    water, road = await _two_relevant_items(svc)
    async with db.engine.connect() as blocker:
        await blocker.begin()
        # Let the pass read and lock its items, then stop it at its first incident_items insert.
        await blocker.execute(text("LOCK TABLE incident_items IN SHARE MODE"))
        clustering = asyncio.create_task(cluster_pending(db, clock, POLICY))
        await _until_waiting_or_done(db, clustering)
        assert not clustering.done()
        opening = asyncio.create_task(open_from_item(svc, _open(svc, water)))
        await _until_waiting_or_done(db, opening, waiting=2)
        await blocker.rollback()
    result = await clustering
    with pytest.raises(CommandRejected, match=f"稿件 #{water} 已在事件 #\\d+（监测发现）中，不能再立案"):
        await opening
    assert (result.items, result.opened) == (2, 2)
    found = await _memberships(db)
    assert {water, road} <= set(found)


async def test_two_passes_at_once_open_one_incident_for_one_event(db, clock):
    """Several collectors cluster after their own passes: a second pass waits for the first to commit,
    so an item of the same event joins the incident the first opened instead of opening a twin."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises write transactions (BEGIN IMMEDIATE): there is no interleaving")
    svc = Svc(db, clock)
    relevant = {"relevant": True, "event_type": "livelihood", "event_level": None}
    first = await add_item(svc, 1, **relevant)
    async with db.engine.connect() as blocker:
        await blocker.begin()
        await blocker.execute(text("LOCK TABLE incident_items IN SHARE MODE"))
        one = asyncio.create_task(cluster_pending(db, clock, POLICY))
        await _until_waiting_or_done(db, one)
        assert not one.done()
        second = await add_item(svc, 2, **relevant)  # the same 停水 report, after the first pass read
        two = asyncio.create_task(cluster_pending(db, clock, POLICY))
        await _until_waiting_or_done(db, two, waiting=2)
        await blocker.rollback()
    results = [await one, await two]
    assert [(r.items, r.opened, r.joined) for r in results] == [(1, 1, 0), (1, 0, 1)]
    found = await _memberships(db)
    assert found[first] == found[second]

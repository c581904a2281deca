"""Storage behaves the same on SQLite and PostgreSQL (the `db` fixture runs each test on both)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from monitor.domain import EventKind, EventLevel, Incident, IncidentEvent, IncidentStatus, MediaTier, Source
from monitor.storage.db import DatabaseError
from monitor.storage.migrate import current_revision, head_revision, migrate, require_current_schema
from monitor.storage.repo.incidents import (
    append_events,
    attach_items,
    create_incidents,
    get_incident,
    list_events,
    list_incidents,
    save_incident,
)
from monitor.storage.repo.items import Evidence, insert_items, load_evidence, store_evidence
from monitor.storage.repo.sources import add_sources, list_sources, remove_source
from monitor.storage.schema import heartbeats, incident_events, items
from monitor.storage.types import NaiveDatetimeError

NOW = datetime(2026, 9, 24, 1, 0, tzinfo=UTC)


def item_row(n: int, **kw):
    row = {
        "dedup_key": f"{n:064d}",
        "url": f"https://news.example/{n}",
        "title": f"标题{n}",
        "text": "正文",
        "fetched_at": NOW,
        "created_at": NOW,
    }
    row.update(kw)
    return row


async def test_migrate_is_idempotent(db):
    assert await current_revision(db) == head_revision()
    before, after = await migrate(db)
    assert before == after == head_revision()
    await require_current_schema(db)


async def test_migrate_to_an_older_revision_downgrades_and_back_up(db):
    older = "0008_collect3_drop_items_simhash"
    assert await migrate(db, older) == (head_revision(), older)
    assert await current_revision(db) == older
    with pytest.raises(DatabaseError, match="run `monitor migrate`"):
        await require_current_schema(db)
    assert await migrate(db) == (older, head_revision())
    await require_current_schema(db)


async def test_migrate_to_an_unknown_revision_names_the_known_ones(db):
    with pytest.raises(DatabaseError, match=r"unknown revision 'nosuch'.*0008_collect3_drop_items_simhash"):
        await migrate(db, "nosuch")
    assert await current_revision(db) == head_revision()


async def test_a_schema_newer_than_the_code_is_refused_without_suggesting_migrate(db):
    async with db.write() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    with pytest.raises(DatabaseError) as serving:
        await require_current_schema(db)
    with pytest.raises(DatabaseError) as migrating:
        await migrate(db)
    for exc in (serving, migrating):
        assert "0099_future" in str(exc.value) and "newer release" in str(exc.value)
        assert "run `monitor migrate`" not in str(exc.value)
    assert await current_revision(db) == "0099_future"


async def test_utc_datetime_round_trip_and_naive_refused(db):
    shanghai = timezone(timedelta(hours=8))
    async with db.write() as conn:
        await conn.execute(
            insert(heartbeats), {"component": "t", "instance": "a", "at": datetime(2026, 9, 24, 9, tzinfo=shanghai)}
        )
    async with db.read() as conn:
        value = (await conn.execute(select(heartbeats.c.at))).scalar_one()
    assert value == NOW and value.tzinfo == UTC
    with pytest.raises(StatementError) as exc:
        async with db.write() as conn:
            await conn.execute(insert(heartbeats), {"component": "t", "instance": "b", "at": datetime(2026, 9, 24, 9)})
    assert isinstance(exc.value.orig, NaiveDatetimeError)
    assert "refusing to store naive datetime" in str(exc.value)


async def test_insert_items_dedups_by_key_in_batches(db):
    async with db.write() as conn:
        first = await insert_items(conn, [item_row(1), item_row(2), item_row(2, title="dup in batch")])
    assert sorted(new for _, new in first.values()) == [True, True]
    async with db.write() as conn:
        second = await insert_items(conn, [item_row(2), item_row(3)])
    assert second[f"{2:064d}"] == (first[f"{2:064d}"][0], False)
    assert second[f"{3:064d}"][1] is True
    async with db.read() as conn:
        titles = sorted((await conn.execute(select(items.c.title))).scalars())
    assert titles == ["标题1", "标题2", "标题3"]


async def test_large_batches_stay_within_parameter_limits(db):
    rows = [item_row(n) for n in range(1500)]
    async with db.write() as conn:
        stored = await insert_items(conn, rows)
    assert len(stored) == 1500 and all(new for _, new in stored.values())


async def test_evidence_is_stored_once_and_round_trips(db):
    body = "<rss>明湖</rss>".encode("gb18030")
    ev = Evidence("a" * 64, "https://feed.example/rss", NOW, body, 200, "application/rss+xml", "gb18030", {"ETag": "x"})
    async with db.write() as conn:
        await store_evidence(conn, [ev, ev])
        await store_evidence(conn, [ev])
    async with db.read() as conn:
        assert await load_evidence(conn, "a" * 64) == body
        assert await load_evidence(conn, "b" * 64) is None


async def test_sources_add_list_remove(db):
    src = Source(name="明湖日报", url="https://news.minghu.example/rss", media_tier=MediaTier.CITY)
    async with db.write() as conn:
        ids = await add_sources(conn, [src], NOW)
        again = await add_sources(conn, [src], NOW)
    assert ids == again
    async with db.read() as conn:
        listed = await list_sources(conn)
    assert [(s.name, s.media_tier) for s in listed] == [("明湖日报", MediaTier.CITY)]
    async with db.write() as conn:
        assert await remove_source(conn, src.url) == 1
        assert await remove_source(conn, "999") == 0


async def test_incidents_and_append_only_timeline(db):
    new = [
        Incident(title="东港化工园区爆炸", detected_at=NOW, event_level=EventLevel.II),
        Incident(title="城东街道停水", detected_at=NOW + timedelta(minutes=5)),
    ]
    async with db.write() as conn:
        ids = await create_incidents(conn, new, NOW)
        await append_events(
            conn,
            [
                IncidentEvent(ids[0], EventKind.GRADED, NOW, "duty", {"event_level": "II"}),
                IncidentEvent(ids[0], EventKind.NOTE_ADDED, NOW, "duty", {"text": "已联系应急管理局"}),
                IncidentEvent(ids[1], EventKind.NOTE_ADDED, NOW, "duty", {}),
            ],
            NOW,
        )
    async with db.read() as conn:
        events = await list_events(conn, ids[0])
        loaded = await get_incident(conn, ids[0])
    assert [(e.seq, e.kind) for e in events] == [
        (1, EventKind.DETECTED),
        (2, EventKind.GRADED),
        (3, EventKind.NOTE_ADDED),
    ]
    assert events[2].payload == {"text": "已联系应急管理局"}
    assert loaded is not None and loaded.event_level == EventLevel.II and loaded.title == "东港化工园区爆炸"
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        async with db.write() as conn:
            await conn.execute(text("UPDATE incident_events SET actor = 'mallory'"))
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        async with db.write() as conn:
            await conn.execute(text("DELETE FROM incident_events"))


async def test_append_events_returns_ids_in_order_from_one_batched_insert(db):
    """Ids come back in the order given, from a batch (not one INSERT per event, as ordered
    RETURNING makes SQLite do)."""
    async with db.write() as conn:
        ids = await create_incidents(conn, [Incident(title=f"事件{i}", detected_at=NOW) for i in range(3)], NOW)
        events = [IncidentEvent(ids[i % 3], EventKind.NOTE_ADDED, NOW, "duty", {"n": i}) for i in range(600)]
        statements: list[str] = []
        listener = lambda *args, **kw: statements.append(args[2])  # noqa: E731
        event.listen(conn.sync_engine, "before_cursor_execute", listener)
        try:
            event_ids = await append_events(conn, events, NOW)
        finally:
            event.remove(conn.sync_engine, "before_cursor_execute", listener)
        rows = await conn.execute(
            select(incident_events.c.id, incident_events.c.payload).where(incident_events.c.id.in_(event_ids))
        )
        n_by_id = {r.id: r.payload["n"] for r in rows}
    assert [n_by_id[i] for i in event_ids] == list(range(600))
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert 1 <= len(inserts) <= 3, f"{len(inserts)} INSERT statements for 600 events"


async def test_incident_status_saved_and_open_listing(db):
    async with db.write() as conn:
        (iid,) = await create_incidents(conn, [Incident(title="某事件", detected_at=NOW)], NOW)
        stored = await insert_items(conn, [item_row(10)])
        await attach_items(conn, iid, [v[0] for v in stored.values()], NOW, {"why": "test"})
    async with db.write() as conn:
        inc = await get_incident(conn, iid, for_update=True)
        assert inc is not None
        await save_incident(conn, inc.transition(IncidentStatus.DISMISSED, NOW), NOW)
    async with db.read() as conn:
        assert await list_incidents(conn, open_only=True) == []
        assert [i.status for i in await list_incidents(conn, open_only=False)] == [IncidentStatus.DISMISSED]


async def test_an_item_belongs_to_one_incident(db):
    async with db.write() as conn:
        a, b = await create_incidents(
            conn, [Incident(title="a", detected_at=NOW), Incident(title="b", detected_at=NOW)], NOW
        )
        stored = await insert_items(conn, [item_row(11)])
        item_id = next(iter(stored.values()))[0]
        await attach_items(conn, a, [item_id], NOW, {})
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await attach_items(conn, b, [item_id], NOW, {})


async def test_failed_write_rolls_back(db):
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await insert_items(conn, [item_row(20)])
            raise RuntimeError("crash mid-write")
    async with db.read() as conn:
        assert (await conn.execute(select(items.c.id))).first() is None


async def test_migrations_match_schema_py(db):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from monitor.storage.schema import metadata

    def diff(sync_conn):
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(ctx, metadata)

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == [], f"schema.py and the migrations disagree; add a migration: {changes}"

"""The classify adapter: org → gazetteer, pending items → columns, incident 舆情 level, the pool."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from classifiers import Doc
from monitor.classify import (
    Classifier,
    ClassifierError,
    PipelineSpec,
    classify_pending,
    incident_opinion_level,
    incident_opinion_levels,
    org_mapping,
)
from monitor.classify.models import SHIPPED_MODELS_DIR, activate, is_shipped, resolve_models_dir
from monitor.classify.service import load_opinion_config
from monitor.clock import FakeClock
from monitor.collectors.encoding import repair_mojibake
from monitor.config import load_settings
from monitor.domain import (
    EventLevel,
    EventType,
    Incident,
    IncidentStatus,
    MediaTier,
    OpinionLevel,
    OrgDirectory,
    UnitKind,
)
from monitor.domain import Unit as OrgUnit
from monitor.storage.db import Database
from monitor.storage.repo.incidents import create_incidents
from monitor.storage.repo.items import insert_items
from monitor.storage.schema import incident_items, items

from .classify_support import demo_mapping, demo_org, item_classifier, item_row
from .conftest import START

EXPLOSION = (
    "东港化工园区一企业发生爆炸",
    "东港镇东港化工园区一化工厂今日发生爆炸，造成10人死亡、31人受伤，另有3人失联。",
)
PROPERTY = (
    "翠柳小区物业撤场两个月",
    "城西翠柳小区物业公司撤场两个月，电梯停运，垃圾无人清运，业主多次向住建局反映未果。",
)
SPORT = ("湖人队击败勇士队", "湖人队昨晚在主场以120比110击败勇士队，詹姆斯砍下35分。")


def test_org_mapping_files_departments_under_the_classifier_names() -> None:
    mapping = demo_mapping()
    assert mapping.department_units["应急管理局"] == "emergency"
    assert mapping.department_units["住房和城乡建设局"] == "housing"
    assert mapping.region_units["东港镇"] == "donggang"
    assert "东港" in mapping.gazetteer.regions["东港镇"] and "东港化工园区" in mapping.gazetteer.places["东港镇"]
    assert mapping.gazetteer.departments["税务局"].vertical_managed
    # the directory's own keywords and names join the shipped ones
    housing = mapping.gazetteer.departments["住房和城乡建设局"]
    assert "明湖住建" in housing.aliases and "停工楼盘" in housing.keywords and "房产局" in housing.aliases
    assert "government" not in mapping.department_units.values()


def test_a_department_named_differently_still_receives_its_routing() -> None:
    org = OrgDirectory.build(
        "测试市",
        [
            OrgUnit("gov", "测试市人民政府", "市人民政府", UnitKind.GOVERNMENT),
            OrgUnit("nr", "测试市规划和自然资源局", "规划和自然资源局", UnitKind.DEPARTMENT, parent="gov"),
            OrgUnit("town", "测试镇人民政府", "测试镇", UnitKind.TOWNSHIP, parent="gov", places=("石桥村",)),
        ],
        [],
    )
    mapping = org_mapping(org)
    assert mapping.department_units == {"自然资源和规划局": "nr"}
    assert "规划和自然资源局" in mapping.gazetteer.departments["自然资源和规划局"].aliases
    assert mapping.region_id("测试镇") == "town" and mapping.region_id("别处") is None


async def test_classify_pending_fills_the_contract_columns(db: Database) -> None:
    clock = FakeClock(START)
    rows = [
        item_row(1, *EXPLOSION, START, media_tier="central"),
        item_row(2, *PROPERTY, START, text_norm=f"{PROPERTY[0]}\n{PROPERTY[1]}"),
        item_row(3, *SPORT, START),
    ]
    async with db.write() as conn:
        await insert_items(conn, rows)
    classifier = item_classifier()
    clock.advance(timedelta(minutes=5))
    result = await classify_pending(db, clock, classifier, batch=2)
    assert (result.items, result.relevant, result.batches) == (3, 2, 2)
    async with db.read() as conn:
        stored = {r.url: r for r in await conn.execute(select(items).order_by(items.c.id))}
    explosion, housing, sport = stored.values()
    assert explosion.relevant and explosion.event_type == EventType.WORK_SAFETY.value
    assert (explosion.event_level, explosion.opinion_level) == (EventLevel.II.value, OpinionLevel.L1.value)
    assert (explosion.department, explosion.region) == ("emergency", "donggang")
    assert explosion.classification["unit_ids"] == {"department": "emergency", "region": "donggang"}
    assert explosion.classification["facts"]["deaths"] == 10
    assert explosion.classification["why"]["facts"]
    assert explosion.classified_at == clock.now() and explosion.model_version == classifier.version
    assert housing.department == "housing" and housing.region == "chengxi"
    assert housing.classification["text_basis"] == "text_norm"
    assert sport.relevant is False and sport.event_type == EventType.NOT_GOV.value and sport.department is None
    again = await classify_pending(db, clock, classifier)
    assert again.items == 0


async def test_one_update_round_trip_per_batch(sqlite_db: Database) -> None:
    async with sqlite_db.write() as conn:
        await insert_items(conn, [item_row(i, f"{PROPERTY[0]}{i}", PROPERTY[1], START) for i in range(7)])
    statements: list[tuple[str, bool]] = []

    def record(_conn, _cursor, statement, _params, _context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement.split()[0].upper(), executemany))

    event.listen(sqlite_db.engine.sync_engine, "before_cursor_execute", record)
    result = await classify_pending(sqlite_db, FakeClock(START), item_classifier(), batch=3)
    updates = [s for s in statements if s[0] == "UPDATE"]
    assert result.batches == 3 and len(updates) == 3 and all(many for _, many in updates[:2])


async def test_limit_bounds_one_call(sqlite_db: Database) -> None:
    async with sqlite_db.write() as conn:
        await insert_items(conn, [item_row(i, f"{SPORT[0]}{i}", SPORT[1], START) for i in range(5)])
    first = await classify_pending(sqlite_db, FakeClock(START), item_classifier(), limit=3, batch=2)
    rest = await classify_pending(sqlite_db, FakeClock(START), item_classifier(), limit=10, batch=2)
    assert (first.items, rest.items) == (3, 2)


def test_incident_level_rises_with_reach_and_never_below_the_event_grade() -> None:
    quiet = incident_opinion_level(None, [MediaTier.SELF_MEDIA], 1, 0.0)
    assert quiet.level == OpinionLevel.L4
    central = incident_opinion_level(None, [MediaTier.CITY, MediaTier.CENTRAL], 2, 0.0)
    assert central.level == OpinionLevel.L1 and any("中央级媒体" in w for w in central.why)
    assert incident_opinion_level(EventLevel.II, [], 1, 0.0).level == OpinionLevel.L1
    assert incident_opinion_level(None, [], 25, 0.0).level == OpinionLevel.L2
    assert incident_opinion_level(None, [], 1, 40.0).level == OpinionLevel.L2
    assert incident_opinion_level(None, [], 1, 0.0, {"mass_incident"}).level == OpinionLevel.L2
    strict = {"default_level": "L3", "source_count": [{"at_least": 2, "level": "L1"}]}
    assert incident_opinion_level(None, [], 2, 0.0, config=strict).level == OpinionLevel.L1


async def test_incident_levels_read_spread_velocity_and_flags(db: Database) -> None:
    now = START + timedelta(hours=3)
    incident = Incident(title="讨薪", detected_at=START, status=IncidentStatus.DETECTED, source_count=2)
    async with db.write() as conn:
        [incident_id] = await create_incidents(conn, [incident], now)
        ids = await insert_items(
            conn,
            [
                item_row(i, f"讨薪{i}", "工人聚集讨薪", START, published_at=now - timedelta(minutes=10 + i))
                for i in range(12)
            ]
            + [item_row(99, "旧闻", "旧闻", START, published_at=START)],
        )
        await conn.execute(
            incident_items.insert(),
            [{"incident_id": incident_id, "item_id": item_id, "attached_at": now} for item_id, _ in ids.values()],
        )
        await conn.execute(
            items.update().values(classification={"flags": ["mass_incident"]}).where(items.c.title == "讨薪0")
        )
        grades = await incident_opinion_levels(conn, [incident_id], now)
    grade = grades[incident_id]
    assert grade.level == OpinionLevel.L2
    assert any("每小时 12 条" in w for w in grade.why) and any("涉稳（群体性事件）" in w for w in grade.why)


async def test_process_pool_warms_up_and_classifies() -> None:
    spec = PipelineSpec(SHIPPED_MODELS_DIR, demo_mapping().gazetteer)
    classifier = await Classifier.start(spec, workers=1)
    try:
        [result] = await classifier.classify([Doc("1", *EXPLOSION)])
        assert result["event_type"] == "生产安全" and result["unit"]["region"] == "东港镇"
        assert classifier.version.startswith(classifier.meta["built"])
    finally:
        await classifier.close()
    with pytest.raises(ClassifierError, match="closed"):
        await classifier.classify([Doc("2", *SPORT)])


async def test_a_worker_survives_ctrl_c_sent_to_the_process_group() -> None:
    # Ctrl-C in a terminal reaches every process of the group; the parent owns shutdown
    spec = PipelineSpec(SHIPPED_MODELS_DIR, demo_mapping().gazetteer)
    classifier = await Classifier.start(spec, workers=1)
    try:
        pool = classifier._pool
        assert isinstance(pool, ProcessPoolExecutor)
        [worker] = list(pool._processes.values())  # the one spawned worker
        os.kill(worker.pid, signal.SIGINT)
        [result] = await classifier.classify([Doc("1", *EXPLOSION)])  # the same worker answers
        assert result["event_type"] == "生产安全" and worker.is_alive()
    finally:
        await classifier.close()


async def test_missing_models_fail_before_any_worker_starts(tmp_path: Path) -> None:
    spec = PipelineSpec(tmp_path / "nowhere", demo_org() and demo_mapping().gazetteer)
    with pytest.raises(ClassifierError, match=r"nowhere.*python -m classifiers.train"):
        await Classifier.start(spec, workers=2)


def test_models_dir_resolution_and_activation(tmp_path: Path) -> None:
    settings = load_settings(env={}, cli={"data_dir": str(tmp_path)}).settings
    assert resolve_models_dir(settings) == SHIPPED_MODELS_DIR
    version = tmp_path / "models" / "2026-11-22-abc"
    version.mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"no meta\.json"):
        activate(settings, version.name)
    (version / "meta.json").write_text("{}", encoding="utf-8")
    assert activate(settings, version.name) == version == resolve_models_dir(settings)
    pinned = load_settings(env={}, cli={"data_dir": str(tmp_path), "models_dir": "/srv/models"}).settings
    assert resolve_models_dir(pinned) == Path("/srv/models")
    assert activate(settings, None) == SHIPPED_MODELS_DIR == resolve_models_dir(settings)
    assert is_shipped(SHIPPED_MODELS_DIR / "x") and not is_shipped(version)


def test_opinion_thresholds_come_from_the_configured_file(tmp_path: Path) -> None:
    good = tmp_path / "levels.yaml"
    good.write_text("default_level: L3\nmedia_tier: {city: L2}\n", encoding="utf-8")
    settings = load_settings(env={}, cli={"opinion_levels_file": str(good)}).settings
    assert load_opinion_config(settings) == {"default_level": "L3", "media_tier": {"city": "L2"}}
    bad = tmp_path / "bad.yaml"
    bad.write_text("media_tier: {city: L9}\n", encoding="utf-8")
    with pytest.raises(ClassifierError, match=r"bad\.yaml.*media_tier\.city = 'L9'"):
        load_opinion_config(load_settings(env={}, cli={"opinion_levels_file": str(bad)}).settings)
    with pytest.raises(ClassifierError, match="cannot be read"):
        load_opinion_config(load_settings(env={}, cli={"opinion_levels_file": str(tmp_path / "none")}).settings)


class _Exploding:
    """Fault injection: the real classifier, except that it raises on any batch holding 💥."""

    def __init__(self) -> None:
        self.inner = item_classifier()
        self.version = self.inner.version

    async def classify(self, docs, text_basis=None):  # type: ignore[no-untyped-def]
        if any("💥" in d.full_text for d in docs):
            raise ValueError("unparseable input 💥")
        return await self.inner.classify(docs, text_basis)


async def test_an_item_the_classifier_fails_on_does_not_block_the_queue(sqlite_db: Database) -> None:
    rows = [item_row(1, *PROPERTY, START), item_row(2, "💥", "坏数据", START), item_row(3, *SPORT, START)]
    async with sqlite_db.write() as conn:
        await insert_items(conn, rows)
    result = await classify_pending(sqlite_db, FakeClock(START), _Exploding(), batch=10)  # type: ignore[arg-type]
    assert (result.items, result.failed, result.relevant) == (3, 1, 1)
    async with sqlite_db.read() as conn:
        stored = {r.title: r for r in await conn.execute(select(items))}
    assert stored["💥"].classified_at is not None and stored["💥"].relevant is None
    assert stored["💥"].classification == {"error": "ValueError: unparseable input 💥"}
    assert stored[PROPERTY[0]].department == "housing" and stored[SPORT[0]].relevant is False
    assert (await classify_pending(sqlite_db, FakeClock(START), _Exploding())).items == 0  # type: ignore[arg-type]


async def test_garbled_text_is_held_back_from_the_classifier_with_the_reason(sqlite_db: Database) -> None:
    # UTF-8 read as cp1252 with bytes lost: the collectors cannot repair it and flag it (the real function)
    garbled_title = PROPERTY[0].encode().decode("cp1252", errors="ignore")
    garbled_text = PROPERTY[1].encode().decode("cp1252", errors="ignore")
    _, warning = repair_mojibake(garbled_text)
    assert warning is not None and warning.startswith("mojibake:")
    async with sqlite_db.write() as conn:
        await insert_items(
            conn,
            [
                item_row(1, *EXPLOSION, START, warnings=[]),  # executemany: every row names the same columns
                item_row(2, garbled_title, garbled_text, START, warnings=[warning]),
                item_row(3, *SPORT, START, warnings=["mojibake repaired: UTF-8 text had been decoded as gb18030"]),
            ],
        )
    result = await classify_pending(sqlite_db, FakeClock(START), item_classifier())
    assert (result.items, result.relevant, result.failed) == (3, 1, 1)
    async with sqlite_db.read() as conn:
        explosion, garbled, sport = list(await conn.execute(select(items).order_by(items.c.id)))
    assert explosion.relevant and sport.relevant is False  # a repaired text is classified as usual
    assert garbled.relevant is None and garbled.classified_at is not None and garbled.event_type is None
    assert garbled.classification == {"error": f"not classified, text is garbled ({warning})"}

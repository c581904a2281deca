"""`monitor classify` (files and the pending queue) and `monitor retrain` (corrections → new version)."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from classifiers.corpora import CORPUS_FILES, default_data_dir
from monitor.classify.models import SHIPPED_MODELS_DIR, resolve_models_dir
from monitor.cli import main
from monitor.config import load_settings
from monitor.domain import Incident
from monitor.storage.db import Database
from monitor.storage.migrate import migrate
from monitor.storage.repo.incidents import create_incidents
from monitor.storage.repo.items import insert_items
from monitor.storage.schema import corrections, incident_items, items

from .classify_support import item_row
from .conftest import START

LINES = [
    json.dumps({"id": 7, "title": "化工厂爆炸", "text": "东港镇化工厂爆炸，致3人死亡、12人受伤。", "source": "日报"}),
    "{not json",
    "",
    json.dumps({"id": "n1", "title": "湖人队获胜", "text": "湖人队击败勇士队。", "published_at": "2026-09-24 08:00"}),
    json.dumps({"id": "x", "title": "无效时间", "text": "正文", "published_at": "yesterday"}),
    json.dumps(["a", "list"]),
    json.dumps({"title": "没有编号", "text": "正文"}),
    json.dumps({"id": "t", "title": "港澳", "text": "某市發生火災，３人死亡", "media_tier": "national"}),
]


def test_classify_file_keeps_going_past_bad_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(("\n".join(LINES) + "\n").encode() + b"\xff\xfe broken\n")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    code = main(["classify", "--input", str(source), "--output", str(out), "--rejects", str(rejects)])
    err = capsys.readouterr().err
    assert code == 1
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in results] == [7, "n1"]
    explosion, sport = results
    assert explosion["source"] == "日报" and explosion["relevant"] is True
    assert explosion["event_type"] == "生产安全" and explosion["facts"]["deaths"] == 3
    assert explosion["unit"] == {"department": "应急管理局", "region": "东港镇"}
    assert explosion["unit_ids"] == {"department": "emergency", "region": "donggang"}
    assert {"relevance_score", "event_level", "opinion_level", "co_units", "why"} <= set(explosion)
    assert sport["relevant"] is False and sport["unit"]["department"] is None
    for number, reason in [
        (2, "not valid JSON"),
        (5, "\"published_at\" 'yesterday'"),
        (6, "expected a JSON object"),
        (7, '"id" is missing'),
        (8, "\"media_tier\" 'national'"),
        (9, "not UTF-8 (byte 0xff at column 1)"),
    ]:
        assert f"in.jsonl:{number}: skipped: {reason}" in err
    assert "classified 2 of 8 lines" in err and "skipped 6" in err
    assert rejects.read_bytes().splitlines()[0] == b"{not json"
    assert rejects.read_bytes().splitlines()[-1] == b"\xff\xfe broken"


def test_classify_file_needs_both_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--input", "in.jsonl"]) == 2
    assert "give --input FILE and --output FILE" in capsys.readouterr().err


async def _database(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}"
    db = Database.open(url)
    try:
        await migrate(db)
        async with db.write() as conn:
            await insert_items(conn, [item_row(1, "小区物业乱收费", "物业公司乱收物业费，业主向住建局反映。", START)])
    finally:
        await db.close()
    return url


def test_classify_pending_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = asyncio.run(_database(tmp_path))
    assert main(["--database-url", url, "--set", "classify_workers=0", "classify", "--pending"]) == 0
    assert "classified 1 items (1 relevant)" in capsys.readouterr().out
    assert main(["--database-url", url, "classify", "--pending"]) == 0
    assert "classified 0 items" in capsys.readouterr().out


def test_classify_pending_reports_the_items_it_could_not_classify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}"

    async def seed() -> None:
        db = Database.open(url)
        try:
            await migrate(db)
            async with db.write() as conn:
                rows = [
                    item_row(1, "小区物业乱收费", "物业公司乱收物业费，业主向住建局反映。", START, warnings=[]),
                    item_row(2, "Ã¥Â°Â", "Ã¦ÂÂ", START, warnings=["mojibake: text looks like UTF-8 read as cp1252"]),
                ]
                await insert_items(conn, rows)
        finally:
            await db.close()

    asyncio.run(seed())
    assert main(["--database-url", url, "--set", "classify_workers=0", "classify", "--pending"]) == 1
    out = capsys.readouterr().out
    assert "classified 2 items (1 relevant)" in out
    assert "1 could not be classified" in out


# --- retrain ---------------------------------------------------------------------------------

SUBSET_ROWS = {"routing": 500, "responses": 250, "cec": 150, "duee": 700, "tnews": 400}


@pytest.fixture(scope="module")
def corpus_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every n-th row of each shared corpus (real text, small enough to train on in seconds)."""
    source = default_data_dir()
    if not (source / "routing").is_dir():
        pytest.skip(f"shared corpora not found at {source} (set CLASSIFIERS_DATA_DIR to run retrain tests)")
    target = tmp_path_factory.mktemp("corpora")
    for name, relative in CORPUS_FILES.items():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        with (source / relative).open(encoding="utf-8", newline="") as src:
            header, *rows = list(csv.reader(src))
        step = max(1, len(rows) // SUBSET_ROWS[name])
        with (target / relative).open("w", encoding="utf-8", newline="") as dst:
            csv.writer(dst).writerows([header, *rows[::step]])
    return target


async def _with_corrections(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}"
    db = Database.open(url)
    texts = [
        ("明湖马拉松报名", "2026明湖马拉松开始报名，全程赛道沿湖环城。"),
        ("小区门口夜市太吵", "南门夜市每晚吵到凌晨两点，住在楼上没法睡，城管管不管？"),
        ("东港河死鱼", "东港河又死了一大片鱼，是不是有人半夜偷排？"),
    ]
    try:
        await migrate(db)
        async with db.write() as conn:
            ids = await insert_items(conn, [item_row(i, t, x, START) for i, (t, x) in enumerate(texts)])
            item_ids = [ids[k][0] for k in sorted(ids, key=lambda k: ids[k][0])]
            [incident] = await create_incidents(conn, [Incident(title="死鱼", detected_at=START)], START)
            await conn.execute(
                insert(incident_items), [{"incident_id": incident, "item_id": item_ids[2], "attached_at": START}]
            )
            at = START + timedelta(hours=1)
            rows = [
                (item_ids[0], None, "relevant", "True", "False"),
                (item_ids[1], None, "department", "housing", "urban_management"),
                (None, incident, "event_type", "livelihood", "pollution"),  # a whole incident (engine style)
                (None, incident, "event_level", None, "IV"),
            ]
            await conn.execute(
                insert(corrections),
                [
                    {"item_id": i, "incident_id": n, "field": f, "old_value": o, "new_value": v}
                    | {"actor": "duty", "at": at}
                    for i, n, f, o, v in rows
                ],
            )
    finally:
        await db.close()
    return url


@pytest.mark.timeout(600)  # trains models twice: CPU-bound, it passed 120 s at load average 30
def test_retrain_folds_corrections_in_and_guards_the_active_model(
    tmp_path: Path, corpus_subset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = asyncio.run(_with_corrections(tmp_path))
    base = ["--database-url", url, "--set", f"data_dir={tmp_path}"]
    assert main([*base, "retrain", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "corrections: 3 folded into 3 training items" in out
    assert "1 'event_level' corrections are decided by rules" in out
    # a model trained on a few hundred rows is worse than the shipped one: written, not activated
    assert main([*base, "retrain", "--data", str(corpus_subset)]) == 1
    out = capsys.readouterr().out
    assert "NOT activated" in out and "| routing (unsegmented) (corpus test split) |" in out
    # the incident decision is compared on the hand-labelled test sample rows the subset holds
    assert "| incident vs not (hand-labelled) (corpus test split) |" in out
    settings = load_settings(env={}, cli={"data_dir": str(tmp_path)}).settings
    assert resolve_models_dir(settings) == SHIPPED_MODELS_DIR
    versions = [p for p in (tmp_path / "models").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(versions) == 1 and (versions[0] / "meta.json").is_file()
    meta = json.loads((versions[0] / "meta.json").read_text(encoding="utf-8"))
    assert meta["data"]["extra_rows"] == 3
    # --activate switches without training; 'shipped' rolls back
    assert main([*base, "retrain", "--activate", versions[0].name]) == 0
    assert resolve_models_dir(settings) == versions[0]
    assert main([*base, "retrain", "--activate", "shipped"]) == 0
    assert resolve_models_dir(settings) == SHIPPED_MODELS_DIR
    assert main([*base, "retrain", "--activate", "no-such-version"]) == 2
    asyncio.run(_assert_marked(url, versions[0].name))


async def _assert_marked(url: str, version: str) -> None:
    db = Database.open(url)
    try:
        async with db.read() as conn:
            used = dict((await conn.execute(select(corrections.c.field, corrections.c.used_in_model))).all())
            assert set(used) == {"relevant", "department", "event_type", "event_level"}
            assert used["relevant"] == used["department"] == used["event_type"] == version
            assert used["event_level"] is None
            assert (await conn.execute(select(items.c.id))).all()
    finally:
        await db.close()


def test_retrain_without_corpora_says_where_to_find_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retrain", "--data", str(tmp_path / "none")]) == 2
    assert "the shared corpora are not there" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--output", "--rejects"])
def test_writing_over_the_input_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    source = tmp_path / "in.jsonl"
    content = LINES[0] + "\n"
    source.write_text(content, encoding="utf-8")
    # The same file under another spelling of its path is still the same file.
    same = str(tmp_path / "." / "in.jsonl")
    args = ["classify", "--input", str(source), "--output", str(tmp_path / "out.jsonl"), flag, same]
    assert main(args) == 2
    assert "is the input file" in capsys.readouterr().err
    assert source.read_text(encoding="utf-8") == content  # not truncated


def test_rejects_and_output_must_be_different_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(LINES[0] + "\n", encoding="utf-8")
    assert main(["classify", "--input", str(source), "--output", str(out), "--rejects", str(out)]) == 2
    assert "--rejects and --output" in capsys.readouterr().err

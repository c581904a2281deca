"""Duty officers' corrections as extra training rows (phase 2 folds them in with --extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.train import read_extra_rows


def test_extra_rows_map_department_to_routing_class(tmp_path: Path) -> None:
    path = tmp_path / "extra.jsonl"
    path.write_text(
        '{"title": "学校乱收费", "text": "某小学收取补课费", "relevant": true, "department": "教育局"}\n'
        "\n"
        '{"title": "球赛", "text": "湖人胜", "relevant": false}\n'
        '{"title": "占道", "text": "摊贩占道", "department": "城市管理局", "event_type": "民生诉求"}\n',
        encoding="utf-8",
    )
    rows = read_extra_rows(path)
    assert [r.routing for r in rows] == ["教育文体", None, "城乡建设"]
    assert [r.relevant for r in rows] == [True, False, None]
    assert rows[2].event_type == "民生诉求"
    assert all(r.split == "train" and r.source == "extra" for r in rows)


def test_bad_extra_row_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "extra.jsonl"
    path.write_text('{"title": "ok", "text": "ok"}\n{not json\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"extra\.jsonl:2"):
        read_extra_rows(path)

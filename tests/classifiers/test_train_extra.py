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


@pytest.mark.parametrize(
    ("row", "message"),
    [
        # A string is not a label: "false" would become a third relevance class.
        ('{"title": "t", "text": "x", "relevant": "false"}', r'extra\.jsonl:1: "relevant" must be true, false'),
        ('{"title": "t", "text": "x", "relevant": 1}', r'extra\.jsonl:1: "relevant" must be true, false'),
        # An unknown type would become a class the pipeline cannot name (EventType("fire") raises).
        ('{"title": "t", "text": "x", "event_type": "fire"}', r'extra\.jsonl:1: "event_type" \'fire\'.*火灾'),
        ('{"title": "t", "text": "x", "department": ["教育局"]}', r'extra\.jsonl:1: "department" must be a string'),
        ('{"title": 3, "text": "x"}', r'extra\.jsonl:1: "title" must be a string'),
    ],
)
def test_an_extra_row_with_a_wrong_label_names_the_line_and_the_fix(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "extra.jsonl"
    path.write_text(row + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=message):
        read_extra_rows(path)


def test_a_null_title_is_empty_not_the_word_none(tmp_path: Path) -> None:
    path = tmp_path / "extra.jsonl"
    path.write_text('{"title": null, "text": "城东垃圾无人清运", "relevant": true, "event_type": null}\n', "utf-8")
    [row] = read_extra_rows(path)
    assert row.text == "城东垃圾无人清运" and row.event_type is None


def test_an_unreadable_extra_file_is_reported_before_training(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SystemExit, match=r"nope\.jsonl: cannot be read"):
        read_extra_rows(missing)
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes('{"title": "火灾", "text": "某县民房起火"}\n'.encode("gbk"))
    with pytest.raises(SystemExit, match=r"gbk\.jsonl: not UTF-8"):
        read_extra_rows(gbk)

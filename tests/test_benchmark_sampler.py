"""The web-sentence sampler never draws from pages or sentences of earlier casualty sets."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import sample_facts_web  # noqa: E402


def _earlier_page() -> str:
    with (BENCHMARKS / "facts_gold_fifteenth.csv").open(encoding="utf-8", newline="") as handle:
        return next(row["url"] for row in csv.DictReader(handle) if row["url"])


def test_pages_of_earlier_sets_and_other_draws_are_never_drawn(tmp_path: Path) -> None:
    old_page = _earlier_page()
    other_draw = tmp_path / "other.tsv"
    other_draw.write_text(
        "id\treader\turl\tsentence_sha1\tsentence\nX001\tX\thttp://other.example/a\tabc\t事故造成2人死亡。\n",
        encoding="utf-8",
    )
    lines = [
        {"reader": "Z", "query": "q", "url": old_page, "sentence": "事故造成3人死亡5人受伤。"},
        {"reader": "Z", "query": "q", "url": "http://other.example/a", "sentence": "大火致4人遇难。"},
        {"reader": "Z", "query": "q", "url": "http://new.example/b", "sentence": "车祸造成1人死亡2人受伤。"},
        {"reader": "Z", "query": "q", "url": "http://new.example/b", "sentence": "今天天气晴朗，气温26度。"},
    ]
    transcripts = tmp_path / "in.jsonl"
    transcripts.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.tsv"

    sample_facts_web.main([str(transcripts), "--out", str(out), "--prefix", "Z", "--exclude-drawn", str(other_draw)])

    with out.open(encoding="utf-8", newline="") as handle:
        drawn = list(csv.DictReader(handle, delimiter="\t"))
    assert [row["url"] for row in drawn] == ["http://new.example/b"]
    assert drawn[0]["id"] == "Z001"
    assert drawn[0]["sentence"] == "车祸造成1人死亡2人受伤。"
    assert drawn[0]["sentence_sha1"] == sample_facts_web.sha1("车祸造成1人死亡2人受伤。")

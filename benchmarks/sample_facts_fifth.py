"""Draw the fifth casualty-sentence set (phase 6) from news pages, before the extractor runs on them.

The corpora's test split holds no unseen sentence that states a casualty number any more (note 3
of ``benchmarks/README.md``), so the fifth set comes from other text: public news and government
pages found with a fixed list of queries (traditional-script pages included). The pages' text is
third-party material and is not copied into the repository: the readers transcribe, per page,
every sentence that has a casualty word and any numeral (or 无/没有/未) into a JSONL file kept
*outside* the repository, one object per sentence::

    {"reader": "A", "query": "…", "url": "https://…", "sentence": "…"}

``python benchmarks/sample_facts_fifth.py IN.jsonl [IN2.jsonl …] --out OUT.tsv`` then keeps the
sentences with a numeral (or 无人/没有人员/未造成人员) within a few characters of a casualty word —
the rule of the fourth set (the sixth set adds 殒命/丧命/毙命/不治/身故 to its casualty
words), applied to the OpenCC simplified form so traditional pages match too —
drops repeats (same simplified text), draws at most ``--max`` of them at random (fixed seed), and
writes ``OUT.tsv`` (id, reader, url, sha1 of the sentence as transcribed, sentence) for labelling.
``--exclude`` takes earlier draws' ``OUT.tsv`` files: their sentences are never drawn again (the
sixth set, drawn after the fifth was scored and its misses read, excludes the fifth's). The
extractor is never run here. ``benchmarks/facts_gold_fifth.csv`` keeps the ids, addresses,
sha1 and labels, not the text.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import sys
from pathlib import Path

import opencc

SEED = 20261123
CAS = "死|亡|伤|失踪|失联|遇难|丧生|罹难|遇害|溺|遗体|尸体|殒命|丧命|毙命|不治|身故"
DIGIT = "[0-9０-９一二两三四五六七八九十百千万几数]"
NEAR = re.compile(
    rf"(?:{DIGIT}|无人|没有人员|未造成人员)[^。！？，；\n]{{0,8}}(?:{CAS})|(?:{CAS})[^。！？，；\n]{{0,6}}{DIGIT}"
)


def sha1(sentence: str) -> str:
    return hashlib.sha1(sentence.encode("utf-8")).hexdigest()


def read_transcripts(paths: list[Path]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    rows.append({k: str(row[k]).strip() for k in ("reader", "query", "url", "sentence")})
                except (ValueError, KeyError) as error:
                    sys.exit(f"{path}:{number}: not a transcript line ({error}); fix the line and run again")
    return rows


def drawn_before(paths: list[Path]) -> set[str]:
    """Simplified text of the sentences earlier draws took (their ``OUT.tsv`` files)."""
    t2s = opencc.OpenCC("t2s")
    seen: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            seen.update(t2s.convert(row["sentence"]) for row in csv.DictReader(handle, delimiter="\t"))
    return seen


def draw(rows: list[dict[str, str]], limit: int, exclude: set[str] | None = None) -> list[dict[str, str]]:
    t2s = opencc.OpenCC("t2s")
    seen: set[str] = set(exclude or ())
    kept: list[dict[str, str]] = []
    for row in rows:
        simplified = t2s.convert(row["sentence"])
        if not row["sentence"] or simplified in seen or not NEAR.search(simplified):
            continue
        seen.add(simplified)
        kept.append(row)
    if len(kept) > limit:
        chosen = set(random.Random(SEED).sample(range(len(kept)), limit))
        kept = [row for i, row in enumerate(kept) if i in chosen]
    return kept


def write_drawn(path: Path, prefix: str, kept: list[dict[str, str]]) -> None:
    """``OUT.tsv``: id (prefix + number), reader, url, sha1 of the sentence as transcribed, sentence."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["id", "reader", "url", "sentence_sha1", "sentence"])
        for i, row in enumerate(kept, 1):
            writer.writerow([f"{prefix}{i:03d}", row["reader"], row["url"], sha1(row["sentence"]), row["sentence"]])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("transcripts", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max", type=int, default=150)
    parser.add_argument("--prefix", default="w", help="id prefix, e.g. the reader's letter")
    parser.add_argument("--exclude", type=Path, nargs="*", default=[], help="earlier draws' OUT.tsv files")
    args = parser.parse_args(argv)
    rows = read_transcripts(args.transcripts)
    kept = draw(rows, args.max, drawn_before(args.exclude))
    write_drawn(args.out, args.prefix, kept)
    print(f"{len(rows)} transcribed sentences, {len(kept)} drawn -> {args.out}")


if __name__ == "__main__":
    main()

"""Score the extractor on the fifth casualty-sentence set (news pages; text kept outside the repo).

``python benchmarks/score_facts_fifth.py DRAWN.tsv [DRAWN2.tsv …] [--misses]`` reads the drawn
sentences written by ``sample_facts_fifth.py`` (their text), checks each against the sha1 that
``benchmarks/facts_gold_fifth.csv`` records, and prints, per kind, how many sentences the extractor
gets exactly right (deaths, injured and missing all as labelled; blank = no figure) with a Wilson
95 % interval. ``--misses`` lists the wrong ones with what the extractor found.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import Counter
from pathlib import Path

from classifiers.evaluate import sentence_right
from classifiers.facts import extract_facts

GOLD = Path(__file__).resolve().parent / "facts_gold_fifth.csv"
FIELDS = ("deaths", "injured", "missing")


def wilson(right: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 0.0)
    p = right / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def load_text(paths: list[Path]) -> dict[str, tuple[str, str]]:
    text: dict[str, tuple[str, str]] = {}
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                text[row["id"]] = (row["sentence_sha1"], row["sentence"])
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("drawn", nargs="+", type=Path)
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args(argv)
    text = load_text(args.drawn)
    total, right = Counter[str](), Counter[str]()
    misses = []
    with args.gold.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            sha, sentence = text.get(row["id"], ("", ""))
            if sha != row["sentence_sha1"]:
                sys.exit(f"{row['id']}: no drawn sentence with sha1 {row['sentence_sha1']}; pass the drawn TSVs")
            labels = {f: row[f] for f in FIELDS}
            total[row["kind"]] += 1
            if sentence_right(sentence, labels):
                right[row["kind"]] += 1
            else:
                facts = extract_facts(sentence)
                found = {f: facts.value(f) for f in FIELDS}
                misses.append((row["id"], row["kind"], labels, found, sentence))
    for kind in ("explicit", "implicit", "none"):
        low, high = wilson(right[kind], total[kind])
        share = right[kind] / total[kind] if total[kind] else 0.0
        print(f"{kind:9} {right[kind]:4} / {total[kind]:4} = {share:.3f}  (Wilson 95% {low:.3f}-{high:.3f})")
    print(f"all       {sum(right.values()):4} / {sum(total.values()):4}")
    if args.misses:
        for ident, kind, labels, found, sentence in misses:
            print(f"\n{ident} [{kind}] gold {labels} found {found}\n  {sentence}")


if __name__ == "__main__":
    main()

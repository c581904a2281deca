"""Draw casualty sentences from news pages for the learned-extractor study (phase 12).

Same recipe as ``sample_facts_fifth.py`` (its transcript format, casualty-word proximity rule,
de-duplication and seed), plus: sentences from pages that any earlier web set used
(``benchmarks/facts_gold_{fifth,…,eleventh}.csv`` and the labels of later rounds,
``benchmarks/facts_labels_*.csv``, by address) or whose sha1 an earlier set
recorded are never drawn, so the new sentences are unseen by every rule phase. The text stays
outside the repository::

    python benchmarks/sample_facts_web.py IN.jsonl --out OUT.tsv --prefix P --max 150 \
        [--exclude-drawn OTHER.tsv …]

``--exclude-drawn`` also keeps out the pages and sentences of other draws (a later round excludes
the earlier round's ``OUT.tsv`` files, whose labels are in ``facts_labels_twelfth.csv``).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample_facts_fifth import draw, read_transcripts, sha1, write_drawn

HERE = Path(__file__).resolve().parent
EARLIER = sorted([*HERE.glob("facts_gold_*th.csv"), *HERE.glob("facts_labels_*.csv")])


def earlier_pages_and_sentences() -> tuple[set[str], set[str]]:
    pages: set[str] = set()
    sentences: set[str] = set()
    for path in EARLIER:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("url"):
                    pages.add(row["url"])
                sentences.add(row["sentence_sha1"])
    return pages, sentences


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("transcripts", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max", type=int, default=150)
    parser.add_argument("--prefix", required=True, help="id prefix: the reader's letter")
    parser.add_argument(
        "--exclude-drawn", type=Path, nargs="*", default=[], help="other draws' OUT.tsv: their pages and sentences"
    )
    args = parser.parse_args(argv)
    pages, sentences = earlier_pages_and_sentences()
    for path in args.exclude_drawn:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                pages.add(row["url"])
                sentences.add(row["sentence_sha1"])
    rows = read_transcripts(args.transcripts)
    fresh = [r for r in rows if r["url"] not in pages and sha1(r["sentence"]) not in sentences]
    kept = draw(fresh, args.max)
    write_drawn(args.out, args.prefix, kept)
    print(
        f"{len(rows)} transcribed sentences, {len(rows) - len(fresh)} from earlier sets' pages, "
        f"{len(kept)} drawn -> {args.out}"
    )


if __name__ == "__main__":
    main()

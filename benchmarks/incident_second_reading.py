"""Second, blind reading of the incident test sample (``benchmarks/incident_gold.csv``).

``print`` shows the texts of the sample in a fixed shuffled order, numbered, with nothing else: not
the first reading's label, not the stratum, not the corpus's own label, no model output. The reader
writes one line ``<number> <0|1>`` per text into a file of their own (outside the repository), and
``store`` copies those labels into the column ``incident_second`` of the gold file (ids + sha1 only,
never text)::

    python benchmarks/incident_second_reading.py print --start 0 --stop 60
    python benchmarks/incident_second_reading.py store /tmp/second_labels.txt
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import sys
from pathlib import Path

from classifiers.corpora import default_data_dir, load_examples

GOLD = Path(__file__).resolve().parent / "incident_gold.csv"
SEED = 20261122


def shuffled_rows(gold: Path = GOLD) -> list[tuple[str, str, str]]:
    """(source, doc_id, text) of every labelled row, text sha1 checked, in the reading order."""
    with gold.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    wanted = {(r["source"], r["doc_id"]): r["text_sha1"] for r in rows}
    texts: dict[tuple[str, str], str] = {}
    for example in load_examples(default_data_dir()):
        key = (example.source, example.id)
        if key in wanted and example.split == "test" and not example.id.endswith("#title"):
            if hashlib.sha1(example.text.encode("utf-8")).hexdigest() != wanted[key]:
                raise ValueError(f"{key}: the corpus text changed")
            texts[key] = example.text
    missing = set(wanted) - set(texts)
    if missing:
        raise ValueError(f"{len(missing)} labelled rows not found in the test split")
    order = sorted(wanted)
    random.Random(SEED).shuffle(order)
    return [(source, doc_id, texts[(source, doc_id)]) for source, doc_id in order]


def print_texts(start: int, stop: int) -> None:
    for number, (_, _, text) in enumerate(shuffled_rows()):
        if start <= number < stop:
            print(f"[{number}] {' '.join(text.split())}")


def store(labels_path: Path, gold: Path = GOLD, column: str = "incident_second") -> None:
    """Copy ``<number> <0|1>`` lines into ``column`` of the gold file; every row must be labelled."""
    labels: dict[int, str] = {}
    for line in labels_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            number, label = line.split()[:2]
            if label not in ("0", "1"):
                raise ValueError(f"{line!r}: label must be 0 or 1")
            labels[int(number)] = label
    order = shuffled_rows(gold)
    if sorted(labels) != list(range(len(order))):
        raise ValueError(f"{len(order)} rows to label, got {len(labels)} labels")
    by_key = {(source, doc_id): labels[n] for n, (source, doc_id, _) in enumerate(order)}
    with gold.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    if column not in fields:
        fields.append(column)
    for row in rows:
        row[column] = by_key[(row["source"], row["doc_id"])]
    with gold.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("print", help="print numbered texts in the reading order")
    show.add_argument("--start", type=int, default=0)
    show.add_argument("--stop", type=int, default=10**9)
    keep = sub.add_parser("store", help="store '<number> <0|1>' lines as column incident_second")
    keep.add_argument("labels", type=Path)
    args = parser.parse_args(argv)
    if args.command == "print":
        print_texts(args.start, args.stop)
    else:
        store(args.labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Draw the fourth hand-labelled casualty-sentence set (phase 4) from the test split.

Run once, before any phase-4 rule change: ``python benchmarks/sample_facts_fourth.py OUT.tsv``
writes the drawn sentences (text included, for labelling; keep OUT outside the repository) and
prints the CSV skeleton (ids and sha1 only) that ``benchmarks/facts_gold_fourth.csv`` was
labelled from. The extractor is never run here.

Pool ``number``: every test-split sentence of CEC, DuEE, the responses corpus and TNEWS with a
number (or 无人/没有人员) within a few characters of a casualty word that is not a sentence of
sets 1-3; CEC and DuEE alone no longer hold ~70 such sentences in documents unused by sets 1-3
(12), so sentences of documents used by the earlier sets are included and marked.
Pool ``word``: one random casualty-word sentence from each CEC or DuEE test document not used
by sets 1-3 nor by the number pool, plus 22 such sentences of random responses-corpus messages
(citizen messages: real input, mostly 死活 / 伤心 with nothing to count).
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
import sys
from pathlib import Path

from classifiers.corpora import Example, default_data_dir, load_examples

SEED = 20261122
RESPONSES_WORD = 22  # random casualty-word sentences of citizen messages (one per message)
BENCH = Path(__file__).resolve().parent
END = re.compile(r"(?<=[。！？\n])")
CAS = "死|亡|伤|失踪|失联|遇难|丧生|罹难|遇害|溺|遗体|尸体"
DIGIT = "[0-9０-９一二两三四五六七八九十百千万几数]"
WORD = re.compile(CAS)
NEAR = re.compile(rf"(?:{DIGIT}|无人|没有人员)[^。！？，；\n]{{0,8}}(?:{CAS})|(?:{CAS})[^。！？，；\n]{{0,6}}{DIGIT}")


Row = tuple[str, str, str, str, str]  # pool, source, doc id, doc used by sets 1-3 (0/1), sentence


def _sha1(sentence: str) -> str:
    return hashlib.sha1(sentence.encode("utf-8")).hexdigest()


def _earlier_sets() -> tuple[set[tuple[str, str]], set[str]]:
    used, seen_sha = set(), set()
    for name in ("facts_gold.csv", "facts_gold_heldout.csv", "facts_gold_third.csv"):
        with (BENCH / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                used.add((row["source"], row["doc_id"]))
                seen_sha.add(row["sentence_sha1"])
    return used, seen_sha


def _word_sentence(e: Example, taken_sha: set[str], rng: random.Random) -> str | None:
    candidates = [s.strip() for s in END.split(e.text) if WORD.search(s)]
    candidates = [s for s in candidates if _sha1(s) not in taken_sha]
    return rng.choice(candidates) if candidates else None


def draw() -> list[Row]:
    used, taken_sha = _earlier_sets()
    test = sorted((e for e in load_examples(default_data_dir()) if e.split == "test"), key=lambda e: (e.source, e.id))
    rng = random.Random(SEED)
    drawn: list[Row] = []
    taken_docs = set()
    for e in (e for e in test if e.source in ("cec", "duee", "responses", "tnews")):
        for s in (x.strip() for x in END.split(e.text)):
            if s and NEAR.search(s) and _sha1(s) not in taken_sha:
                taken_sha.add(_sha1(s))
                taken_docs.add((e.source, e.id))
                drawn.append(("number", e.source, e.id, str(int((e.source, e.id) in used)), s))
    for e in test:
        if e.source in ("cec", "duee") and (e.source, e.id) not in used | taken_docs:
            chosen = _word_sentence(e, taken_sha, rng)
            if chosen:
                taken_sha.add(_sha1(chosen))
                drawn.append(("word", e.source, e.id, "0", chosen))
    citizen = []
    for e in test:
        if e.source == "responses" and (e.source, e.id) not in taken_docs:
            chosen = _word_sentence(e, taken_sha, rng)
            if chosen:
                citizen.append(("word", e.source, e.id, "0", chosen))
    drawn += rng.sample(citizen, min(RESPONSES_WORD, len(citizen)))
    rng.shuffle(drawn)
    return drawn


def main(out: Path) -> None:
    drawn = draw()
    with out.open("w", encoding="utf-8") as handle:
        for i, (pool, source, doc_id, earlier, s) in enumerate(drawn):
            handle.write(f"{i}\t{pool}\t{source}\t{doc_id}\t{earlier}\t{s}\n")
    writer = csv.writer(sys.stdout)
    writer.writerow(["source", "doc_id", "sentence_sha1", "pool", "doc_in_earlier_set"])
    for pool, source, doc_id, earlier, s in drawn:
        writer.writerow([source, doc_id, _sha1(s), pool, earlier])


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""Study: a learned re-ranker over the casualty extractor's answers (phase 12).

For each sentence and each field (deaths, injured, missing) the candidates are the rule
extractor's value, "no figure", zero where a zero statement is made, and the value of every
numeral in the sentence. A logistic regression scores candidates from their context (characters
around the numeral, the nearest casualty words of each field and their distance, whether the rules
read the numeral as this field or another, sentence cues) and the highest-scoring candidate wins.
The model is conjoined with the field, so it learns field-specific contexts.

Evaluated by grouped cross-validation over the readers of the web sentences drawn by
``sample_facts_web.py`` (each reader drew from their own queries and topic): the model never sees
the reader it is scored on. Prints the rules' and the re-ranker's exact-sentence accuracy per
reader and pooled, explicit sentences and all, with a paired count of flips::

    python benchmarks/facts_rerank.py /work/scratch/web12 [--C 1.0]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from classifiers.facts import Facts, extract_facts
from classifiers.normalize import normalize
from classifiers.numerals import parse_number

FIELDS = ("deaths", "injured", "missing")
WORDS = {
    "deaths": re.compile(r"死|亡|遇难|罹难|丧生|遗体|尸体|殒命|丧命|毙命|不治|身故|牺牲|殉职|遇害"),
    "injured": re.compile(r"伤|中毒|送医|送院|住院|救治|治疗|不适|昏迷|烧伤|就医"),
    "missing": re.compile(r"失踪|失联|下落不明"),
}
NUMERAL = re.compile(r"(?:\d+(?:,\d{3})*(?:\.\d+)?|[零〇一二两三四五六七八九十百千万廿卅]+)(?:余|多)?")
ZERO = re.compile(r"无人|没有人|未造成|无伤亡|未有人|没有造成|无.{0,3}伤亡|未发现人员")
CUES = re.compile(r"其中|共|累计|总计|另有|又有|年以来|同比|全国|每年|以上|以下|如果|分别|上升至|增至|至少|仍有|已有")
WINDOW = 6


@dataclass
class Row:
    ident: str
    group: str
    sentence: str
    gold: dict[str, float | None]
    kind: str


def load_web(root: Path) -> list[Row]:
    rows: list[Row] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        drawn, labels = folder / "drawn.tsv", folder / "labels.tsv"
        if not (drawn.exists() and labels.exists()):
            continue
        with drawn.open(encoding="utf-8", newline="") as handle:
            text = {r["id"]: r["sentence"] for r in csv.DictReader(handle, delimiter="\t")}
        with labels.open(encoding="utf-8", newline="") as handle:
            for r in csv.DictReader(handle, delimiter="\t"):
                sentence = text.get(r["id"])
                if sentence is None or hashlib.sha1(sentence.encode()).hexdigest() != r["sentence_sha1"]:
                    print(f"skip {r['id']}: text/sha1 mismatch", file=sys.stderr)
                    continue
                gold = {f: (float(r[f]) if r[f].strip() else None) for f in FIELDS}
                rows.append(Row(r["id"], folder.name, sentence, gold, r["kind"].strip()))
    return rows


def load_corpora_sets() -> list[Row]:
    """Sets 1-4 (hand-labelled corpora sentences; the text comes from the shared corpora)."""
    from classifiers.corpora import default_data_dir, load_examples
    from classifiers.evaluate import FACT_SETS

    examples = load_examples(default_data_dir())
    gold: dict[tuple[str, str, str], dict[str, str]] = {}
    for path, _kind in FACT_SETS:
        with path.open(encoding="utf-8") as handle:
            for r in csv.DictReader(handle):
                gold[(r["source"], r["doc_id"], r["sentence_sha1"])] = r
    docs = {(s, d) for s, d, _ in gold}
    rows: list[Row] = []
    seen: set[str] = set()
    for example in examples:
        if (example.source, example.id) not in docs:
            continue
        for sentence in (s.strip() for s in re.split(r"(?<=[。！？\n])", example.text)):
            sha = hashlib.sha1(sentence.encode("utf-8")).hexdigest()
            r = gold.get((example.source, example.id, sha))
            if r is None or sha in seen:
                continue
            seen.add(sha)
            g = {f: (float(r[f]) if r[f].strip() else None) for f in FIELDS}
            rows.append(
                Row(
                    f"{example.source}:{example.id}:{sha[:8]}",
                    "corpora" + "ab"[int(sha, 16) % 2],
                    sentence,
                    g,
                    r.get("kind") or "explicit",
                )
            )
    return rows


def corpora_sentences(limit: int = 4000) -> list[str]:
    """Train/validation sentences of the corpora with a numeral near a casualty word."""
    from classifiers.corpora import default_data_dir, load_examples

    near = re.compile(r"[0-9一二两三四五六七八九十百千万几数][^。！？，；\n]{0,8}(?:死|亡|伤|失踪|失联|遇难|丧生|罹难)")
    seen: set[str] = set()
    out: list[str] = []
    for example in load_examples(default_data_dir()):
        if example.split == "test":
            continue
        for sentence in (s.strip() for s in re.split(r"(?<=[。！？\n])", example.text)):
            if sentence and sentence not in seen and near.search(normalize(sentence)):
                seen.add(sentence)
                out.append(sentence)
    return out[:limit]


def _distance_bucket(d: int | None) -> str:
    if d is None:
        return "none"
    return str(d) if d <= 3 else ("4-8" if d <= 8 else "far")


def _nearest(norm: str, start: int, end: int, pattern: re.Pattern[str]) -> tuple[int | None, int | None]:
    right = pattern.search(norm, end)
    left = None
    for m in pattern.finditer(norm, 0, start):
        left = start - m.end()
    return left, (None if right is None else right.start() - end)


class _Candidates:
    """Candidate values of one field; features of repeated values are merged (max)."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.values: dict[float | None, dict[str, float]] = defaultdict(dict)

    def add(self, value: float | None, feats: dict[str, float]) -> None:
        target = self.values[value]
        for k, v in feats.items():
            target[f"{self.field}|{k}"] = max(target.get(f"{self.field}|{k}", 0.0), v)
            target[k] = max(target.get(k, 0.0), v)


def _numeral_features(
    norm: str,
    m: re.Match[str],
    value: float,
    field: str,
    spans: dict[str, list[tuple[int, int, float]]],
    rule: dict[str, float | None],
    cues: set[str],
) -> dict[str, float]:
    left, right = norm[max(0, m.start() - WINDOW) : m.start()], norm[m.end() : m.end() + WINDOW + 2]
    feats: dict[str, float] = {"numeral": 1.0}
    feats[f"l1={left[-1:]}"] = 1.0
    feats[f"l2={left[-2:]}"] = 1.0
    feats[f"r1={right[:1]}"] = 1.0
    feats[f"r2={right[:2]}"] = 1.0
    feats[f"r3={right[:3]}"] = 1.0
    for ch in set(left):
        feats[f"lw:{ch}"] = 1.0
    for ch in set(right):
        feats[f"rw:{ch}"] = 1.0
    if m.group(0).endswith(("余", "多")):
        feats["approx"] = 1.0
    feats[f"mag:{len(str(int(value)))}"] = 1.0
    for name, pattern in WORDS.items():
        lft, rgt = _nearest(norm, m.start(), m.end(), pattern)
        rel = "same" if name == field else "other"
        feats[f"{rel}:L{_distance_bucket(lft)}"] = 1.0
        feats[f"{rel}:R{_distance_bucket(rgt)}"] = 1.0
    for f2, items in spans.items():
        if any(s <= m.start() < e for s, e, _v in items):
            feats["in_span_same" if f2 == field else "in_span_other"] = 1.0
    if value == rule[field]:
        feats["equals_rule"] = 1.0
    for c in cues:
        feats[f"num&{c}"] = 1.0
    return feats


def candidates(sentence: str, facts: Facts) -> dict[str, list[tuple[float | None, dict[str, float]]]]:
    """Per field: (value, features) for every candidate value (merged when values repeat)."""
    norm = normalize(sentence)
    cues = {f"cue:{m.group(0)}" for m in CUES.finditer(norm)}
    rule = {f: facts.value(f) for f in FIELDS}
    spans: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for m in facts.mentions:
        name = "injured" if m.field == "serious_injured" else m.field
        if name in FIELDS:
            spans[name].append((m.start, m.end, m.value))
    numerals = [(m, parse_number(m.group(0).rstrip("余多"))) for m in NUMERAL.finditer(norm)]
    zero = ZERO.search(norm) is not None
    out: dict[str, list[tuple[float | None, dict[str, float]]]] = {}
    for field in FIELDS:
        cands = _Candidates(field)
        cands.add(None, {"is_none": 1.0, **{f"none&{c}": 1.0 for c in cues}})
        if rule[field] is not None:
            cands.add(rule[field], {"is_rule": 1.0})
        else:
            cands.add(None, {"none_is_rule": 1.0})
        for other in FIELDS:
            if other != field and rule[other] is not None:
                cands.add(rule[other], {"other_rule": 1.0})
        if zero:
            cands.add(0.0, {"zero_cue": 1.0})
        for m, value in numerals:
            if value is None or value <= 0 or value > 1e6:
                continue
            cands.add(value, _numeral_features(norm, m, value, field, spans, rule, cues))
        out[field] = list(cands.values.items())
    return out


Item = tuple[Row, dict[str, list[tuple[float | None, dict[str, float]]]], Facts]


def featurize(rows: list[Row]) -> list[Item]:
    out = []
    for row in rows:
        facts = extract_facts(row.sentence)
        out.append((row, candidates(row.sentence, facts), facts))
    return out


def fit(items: list[Item], C: float) -> tuple[DictVectorizer, LogisticRegression]:
    feats, labels = [], []
    for row, cands, _facts in items:
        for field in FIELDS:
            for value, f in cands[field]:
                feats.append(f)
                labels.append(int(value == row.gold[field]))
    vec = DictVectorizer()
    x = vec.fit_transform(feats)
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    model.fit(x, np.array(labels))
    return vec, model


def predict(
    vec: DictVectorizer, model: LogisticRegression, cands: dict[str, list[tuple[float | None, dict[str, float]]]]
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for field in FIELDS:
        options = cands[field]
        scores = model.decision_function(vec.transform([f for _v, f in options]))
        out[field] = options[int(np.argmax(scores))][0]
    return out


Flip = tuple[str, str, dict[str, float | None], dict[str, float | None], dict[str, float | None]]


def cross_validate(items: list[Item], C: float) -> tuple[Counter[tuple[str, str, str]], list[Flip]]:
    """Leave one reader out: fit on the others, score the held-out reader's sentences."""
    tally: Counter[tuple[str, str, str]] = Counter()
    flips: list[Flip] = []
    for held in sorted({row.group for row, _c, _f in items}):
        vec, model = fit([i for i in items if i[0].group != held], C)
        for row, cands, facts in (i for i in items if i[0].group == held):
            rule = {f: facts.value(f) for f in FIELDS}
            pred = predict(vec, model, cands)
            rule_ok, new_ok = rule == row.gold, pred == row.gold
            for scope in (row.kind, "all"):
                tally[(held, scope, "n")] += 1
                tally[(held, scope, "rules")] += rule_ok
                tally[(held, scope, "rerank")] += new_ok
            if rule_ok != new_ok:
                flips.append((row.ident, "better" if new_ok else "worse", row.gold, pred, rule))
    return tally, flips


def corpora_diff(items: list[Item], C: float, show: bool) -> None:
    vec, model = fit(items, C)
    changed = []
    pool = corpora_sentences()
    for sentence in pool:
        facts = extract_facts(sentence)
        pred = predict(vec, model, candidates(sentence, facts))
        rule = {f: facts.value(f) for f in FIELDS}
        if pred != rule:
            changed.append((sentence, rule, pred))
    print(f"corpora train/validation sentences changed by the re-ranker: {len(changed)} / {len(pool)}")
    if show:
        for c in changed:
            print(c)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--corpora", action="store_true", help="add sets 1-4 as one more group")
    parser.add_argument(
        "--corpora-diff", action="store_true", help="fit on all rows, count changes on corpora sentences"
    )
    parser.add_argument("--show", action="store_true", help="print the flips (reads the text)")
    args = parser.parse_args(argv)
    items = featurize(load_web(args.root) + (load_corpora_sets() if args.corpora else []))
    groups = sorted({row.group for row, _c, _f in items})
    print(Counter(row.group for row, _c, _f in items))
    tally, flips = cross_validate(items, args.C)
    for scope in ("explicit", "all"):
        for held in [*groups, "pooled"]:
            keys = groups if held == "pooled" else [held]
            n = sum(tally[(g, scope, "n")] for g in keys)
            r = sum(tally[(g, scope, "rules")] for g in keys)
            k = sum(tally[(g, scope, "rerank")] for g in keys)
            print(f"{scope:8} {held:7} n={n:4}  rules {r / max(n, 1):.3f}  rerank {k / max(n, 1):.3f}")
    if args.corpora_diff:
        corpora_diff(items, args.C, args.show)
    better = sum(1 for f in flips if f[1] == "better")
    print(f"flips: {better} better, {len(flips) - better} worse")
    if args.show:
        for flip in flips:
            print(flip)


if __name__ == "__main__":
    main()

"""Held-out metrics of the shipped models on the shared corpora (skipped without them).

The floors sit a little under the figures recorded in benchmarks/README.md so that a
regression fails here; they are not the issue's targets (see the README for those).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers import Pipeline
from classifiers.corpora import Example, load_examples
from classifiers.evaluate import (
    HELD_OUT_SENTENCES,
    THIRD_SENTENCES,
    evaluate_fact_sentences,
    evaluate_facts,
    evaluate_heads,
    evaluate_incident_decisions,
)


@pytest.fixture(scope="module")
def examples(data_dir: Path) -> list[Example]:
    return load_examples(data_dir)


@pytest.fixture(scope="module")
def head_rows(pipeline: Pipeline, examples: list[Example]) -> dict[str, dict[str, float]]:
    return {row["task"]: row for row in evaluate_heads(pipeline, examples)}


def test_split_is_leak_free(examples: list[Example]) -> None:
    test_texts = {e.text for e in examples if e.split == "test"}
    train_texts = {e.text for e in examples if e.split != "test"}
    assert not test_texts & train_texts


def test_routing_on_unsegmented_text(head_rows: dict[str, dict[str, float]]) -> None:
    assert head_rows["routing (unsegmented)"]["macro_f1"] >= 0.90


def test_relevance(head_rows: dict[str, dict[str, float]]) -> None:
    assert head_rows["relevance"]["f1"] >= 0.97
    assert head_rows["relevance (titles only)"]["f1"] >= 0.97


def test_incident_vs_not(head_rows: dict[str, dict[str, float]]) -> None:
    # DuEE's own label is noisy; the head is trained on hand labels and on it corrected
    # (classifiers.incident), so it disagrees with DuEE where DuEE is wrong.
    assert head_rows["incident vs not"]["f1"] >= 0.75
    assert head_rows["incident vs not (curated)"]["f1"] >= 0.88


def test_incident_decision_on_the_hand_labelled_sample(pipeline: Pipeline, examples: list[Example]) -> None:
    alone, decision = evaluate_incident_decisions(pipeline, examples)
    assert alone["n"] == decision["n"] == 440
    assert decision["f1"] >= 0.88  # 0.909 against the adjudicated labels (2026-11-22)
    assert decision["recall"] >= alone["recall"]  # stated casualties only add incidents


def test_casualty_sentences(examples: list[Example]) -> None:
    assert evaluate_fact_sentences(examples)["accuracy"] >= 0.93
    assert evaluate_fact_sentences(examples, HELD_OUT_SENTENCES, "explicit")["accuracy"] >= 0.88
    assert evaluate_fact_sentences(examples, THIRD_SENTENCES, "explicit")["accuracy"] >= 0.78
    assert evaluate_fact_sentences(examples, THIRD_SENTENCES, "implicit")["accuracy"] >= 0.40
    assert evaluate_fact_sentences(examples, THIRD_SENTENCES, "none")["accuracy"] >= 0.95


def test_casualty_extraction_on_cec(data_dir: Path, examples: list[Example]) -> None:
    rows = {row["task"]: row for row in evaluate_facts(data_dir, examples)}
    assert rows["facts: deaths exact"]["accuracy"] >= 0.85

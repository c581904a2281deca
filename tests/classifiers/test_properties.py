"""Property tests: normalisation keeps offsets; extraction never fails and its spans are real."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers import extract_facts, normalize

CHINESE = st.text(
    alphabet=st.sampled_from(
        list(
            "0123456789０１２３零一二两三四五六七八九十百千万亿约近余多人名死亡伤失踪受重轻，。、至增上升元损失直接經濟發生火災"
        )
    ),
    max_size=80,
)


@given(st.text(max_size=200))
def test_normalize_preserves_length(text: str) -> None:
    assert len(normalize(text)) == len(text)


@settings(max_examples=300)
@given(CHINESE)
def test_extract_facts_spans_index_the_input(text: str) -> None:
    facts = extract_facts(text)
    for fact in facts.mentions:
        assert text[fact.start : fact.end] == fact.text
        assert fact.value >= 0

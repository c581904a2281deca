"""The literal gate in front of the keyword rules never changes a search result."""

from __future__ import annotations

import re

import pytest

from classifiers.rules import (
    ACCIDENT_CUES,
    COLLECTIVE_UNIT,
    DEBUNKED,
    FLAG_PATTERNS,
    OUTBREAK,
    TITLE_RUMOR,
    TYPE_RULES,
    Searched,
    _gate,
    required_literals,
)

PATTERNS = [
    TITLE_RUMOR,
    DEBUNKED,
    OUTBREAK,
    *(rule.pattern for rule in TYPE_RULES),
    *FLAG_PATTERNS.values(),
    COLLECTIVE_UNIT,
    *ACCIDENT_CUES.values(),
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("ab|cd", {"ab", "cd"}),
        ("x.{0,3}(?:abc|de)", {"abc", "de"}),  # "x" is less selective than the group
        ("(?:ab)?cd", {"cd"}),  # an optional part requires nothing
        ("a(?:bc)+", {"bc"}),
        ("ab(?<!xab)c", {"ab"}),  # a lookaround breaks the run
        ("[ab]c|d", {"c", "d"}),
        ("[ab]|d", None),  # one branch requires nothing
        ("a[xy]cd|b[xy]cd", {"cd"}),  # a set every branch requires
        ("(?i)ab", None),  # literals of an ignore-case pattern do not gate
        ("(?i:ab)cd", {"cd"}),
        (".*", None),
    ],
)
def test_required_literals(pattern: str, expected: set[str] | None) -> None:
    found = required_literals(re.compile(pattern))
    assert (None if found is None else set(found)) == expected


def test_every_rule_pattern_is_gated() -> None:
    assert set(_gate().literals) == set(PATTERNS)


def test_gated_search_equals_plain_search() -> None:
    samples = [
        "网传某地发布新规系谣言\n正文",
        "纯属捏造的消息",
        "网传化工厂爆炸死亡50人不实，实际死亡12人",
        "经核实，该消息系谣言",
        "山西某煤矿发生透水事故",
        "某地发现1例输入性霍乱病例",
        "某小学食堂午餐后多名学生呕吐腹泻，疑似食物中毒",
        "两百多工人聚集在公司门口讨薪，拉横幅",
        "省委要求相关部门尽快调查并回应",
        "网友误解了政策，官方答疑",
        "并未有这一规定",
        "没有相关的规定",
        "男子扇了老人一记耳光",
        "村民聚集地附近",
        "普通的天气预报，没有任何事件",
        "",
    ]
    for literal in sorted(set().union(*_gate().literals.values())):
        samples += [literal, f"前文{literal}后文", f"{literal}，{literal}。"]
    for text in samples:
        searched = Searched(text)
        for pattern in PATTERNS:
            assert searched.has(pattern) == (pattern.search(text) is not None), (pattern.pattern, text)

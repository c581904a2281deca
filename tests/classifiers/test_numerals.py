import pytest

from classifiers.numerals import parse_adjacent_range, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("1,200", 1200),
        ("1.5", 1.5),
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十三", 23),
        ("一百零五", 105),
        ("两千", 2000),
        ("三千万", 30_000_000),
        ("一亿二千万", 120_000_000),
        ("1.2万", 12_000),
        ("3千", 3000),
        ("3.5亿", 350_000_000),
        ("一万零五百", 10_500),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_not_a_number() -> None:
    assert parse_number("数") is None
    assert parse_number("") is None


def test_adjacent_chinese_digits_are_a_range() -> None:
    assert parse_adjacent_range("三四") == (3, 4)
    assert parse_adjacent_range("三五") is None

"""Reading one `monitor classify` input line: what is accepted, and what the error says."""

from __future__ import annotations

import pytest

from monitor.classify.jsonl import LineError, parse_line


def test_a_json_error_names_the_column_on_the_line_itself() -> None:
    # A line read from a file ends with its newline; the error is at the end of the line, not
    # "column 1" of a line after it.
    raw = b'{"id": "bad", "title": "x", "text": "abc"\n'
    with pytest.raises(LineError, match=r"at column 42\)"):
        parse_line(raw)
    with pytest.raises(LineError, match=r"at column 42\)"):
        parse_line(raw.replace(b"\n", b"\r\n"))


def test_a_null_title_or_text_reads_as_empty() -> None:
    # Exports from a database write NULL columns as null: a post without a title is readable.
    doc, obj = parse_line('{"id": "w1", "title": null, "text": "城东街道垃圾无人清运"}')
    assert (doc.title, doc.text) == ("", "城东街道垃圾无人清运")
    assert obj["title"] is None  # echoed unchanged
    doc, _ = parse_line('{"id": "w2", "title": "济南一居民楼燃气爆炸致2死5伤", "text": null}')
    assert (doc.title, doc.text) == ("济南一居民楼燃气爆炸致2死5伤", "")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "title": ["x"], "text": "y"}', '"title" must be a string, got an array'),
        ('{"id": "a", "title": "x", "text": 3.5}', '"text" must be a string, got a number'),
        ('{"id": "a", "title": "x", "text": {"p": 1}}', '"text" must be a string, got an object'),
        ('{"id": "a", "title": true, "text": "y"}', '"title" must be a string, got a boolean'),
        ('{"id": "a", "title": "x", "text": 0}', '"text" must be a string, got a number'),
        ('{"id": "a", "title": false, "text": "y"}', '"title" must be a string, got a boolean'),
        ('{"id": 1.5, "title": "x", "text": "y"}', '"id" must be a string or a whole number, got 1.5'),
        ('{"id": true, "title": "x", "text": "y"}', '"id" must be a string or a whole number, got true'),
        ('{"title": "x", "text": "y"}', '"id" is missing'),
        ('{"id": null, "title": "x", "text": "y"}', '"id" is missing'),
        ('{"id": "", "title": "x", "text": "y"}', '"id" is missing'),
    ],
)
def test_wrong_types_are_named_in_json_terms(line: str, message: str) -> None:
    with pytest.raises(LineError) as raised:
        parse_line(line)
    assert str(raised.value).startswith(message)


def test_a_gbk_line_says_which_encoding_it_looks_like_and_how_to_convert() -> None:
    raw = '{"id": "g1", "title": "某县火灾", "text": "某县一民房起火"}\n'.encode("gbk")
    with pytest.raises(LineError, match=r"not UTF-8 \(byte 0x.. at column \d+\); it looks like GB18030/GBK") as raised:
        parse_line(raw)
    assert "iconv -f GB18030 -t UTF-8" in str(raised.value)


def test_utf16_lines_say_utf16() -> None:
    encoded = '{"id": "u1", "title": "某县火灾", "text": "起火"}\n{"id": "u2", "title": "t", "text": "x"}\n'.encode(
        "utf-16"
    )
    lines = encoded.split(b"\n")[:2]  # what the command reads: bytes split at b"\n"
    for raw in lines:
        with pytest.raises(LineError, match=r"looks like UTF-16.*save the file as UTF-8"):
            parse_line(raw)

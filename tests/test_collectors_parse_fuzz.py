"""`monitor parse` never crashes: truncated, damaged and hostile files, run through the real command.

Output goes to strict UTF-8 streams (as on a terminal or a pipe), so a string that cannot be
printed — a lone surrogate from a JSON Feed's "\\ud800" escape, say — fails the test as it would
fail a user.
"""

from __future__ import annotations

import io
import json
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.cli import main

from .feedplay import rss

DATA = Path(__file__).parent / "data" / "collectors"
ITEMS = [
    {"title": "明湖市住建局回应加装电梯", "link": "https://a.example/1", "text": "<p>正文&amp;说明</p>"},
    {"title": "臺灣颱風過境", "link": "https://a.example/2", "text": "繁體內容"},
]
CORPUS = [
    *(path.read_bytes() for path in sorted(DATA.iterdir()) if path.suffix in (".xml", ".json", ".html")),
    rss(ITEMS, encoding="gb18030", declared="gb2312"),
    rss(ITEMS[1:], encoding="big5"),
    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A</title><link href="https://a.example/3"/>'
    b"<updated>2026-09-24T09:00:00+08:00</updated></entry></feed>",
]
FIELDS = {"file", "title", "link", "published", "text", "warnings"}


def run_parse(body: bytes, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    out, err = io.BytesIO(), io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input"
        path.write_bytes(body)
        stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict", write_through=True)
        stderr = io.TextIOWrapper(err, encoding="utf-8", errors="strict", write_through=True)
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = main(["parse", *extra, str(path)])
    records = [json.loads(line) for line in out.getvalue().decode("utf-8").splitlines()]
    return code, records, err.getvalue().decode("utf-8")


def check(code: int, records: list[dict[str, object]], err: str) -> None:
    assert code in (0, 1)
    assert all(set(r) == FIELDS and isinstance(r["title"], str) and isinstance(r["text"], str) for r in records)
    if code == 1:
        assert "1 of 1 file(s) could not be parsed" in err


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A real feed or page, cut short anywhere and with a few bytes overwritten."""
    body = bytearray(draw(st.sampled_from(CORPUS)))
    del body[draw(st.integers(0, len(body))) :]
    for _ in range(draw(st.integers(0, 4))):
        if body:
            body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    return bytes(body)


@st.composite
def hostile_json_feed(draw: st.DrawFn) -> bytes:
    """A JSON Feed whose strings are arbitrary \\uXXXX escapes (NUL, lone surrogates, controls)."""

    def escaped() -> str:
        return "".join(f"\\u{c:04x}" for c in draw(st.lists(st.integers(0, 0xFFFF), max_size=12)))

    item = f'{{"id": "{escaped()}", "url": "https://a.example/{escaped()}", "title": "{escaped()}",'
    item += f' "content_html": "{escaped()}", "date_published": "{escaped()}"}}'
    return f'{{"version": "https://jsonfeed.org/version/1.1", "items": [{item}]}}'.encode()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(damaged(), hostile_json_feed()))
def test_monitor_parse_survives_truncated_damaged_and_hostile_files(body):
    check(*run_parse(body))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_monitor_parse_survives_any_file_read_as_a_list_page(body):
    selectors = json.dumps({"item": "ul.news li", "date": "span", "next": 'a:contains("下一页")'})
    check(*run_parse(body, "--selectors", selectors))


def test_the_hostile_json_feed_that_crashed_it_once():
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1",'
        b' "url": "https://a.example/\\ud800", "title": "bad \\udc80 \\u0000 title", "content_text": "x"}]}'
    )
    code, (record,), _ = run_parse(body)
    assert code == 0 and record["title"] == "bad \ufffd \ufffd title"
    assert record["warnings"] == ["NUL characters or lone surrogates replaced by U+FFFD"]

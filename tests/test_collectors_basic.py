import pytest

from monitor.collectors.feeds import html_to_text, parse_feed
from monitor.collectors.urls import canonical_url, dedup_key


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://News.Example.com/a/1.html?utm_source=wx&id=3#comments", "https://news.example.com/a/1.html?id=3"),
        ("https://m.news.example.com/a/1.html", "https://www.news.example.com/a/1.html"),
        ("http://news.example.com:80/a?b=2&a=1", "http://news.example.com/a?a=1&b=2"),
        ("https://news.example.com", "https://news.example.com/"),
    ],
)
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_dedup_key_prefers_canonical_url_then_guid():
    assert dedup_key("https://a/1", "g", "t") != dedup_key(None, "g", "t")
    assert dedup_key(None, "g", "t") == dedup_key(None, "g", "other title")
    assert len(dedup_key(None, None, "t")) == 64


def test_malformed_feed_gives_warnings_not_exceptions():
    parsed = parse_feed(b"<rss><channel><item><title>\xff\xfe broken")
    assert parsed.warnings
    assert parse_feed(b"").warnings
    assert parse_feed(b"not a feed at all").entries == []


def test_html_to_text():
    assert html_to_text("<p>明湖&amp;市</p><p>第二段<br/>换行</p>") == "明湖&市\n第二段\n换行"


def test_feedparser_never_reads_a_local_file_a_response_names(tmp_path):
    """feedparser opens its input as a path when it can; a hostile site must not make it read ours."""
    from monitor.collectors.feeds import parse_feed

    local = tmp_path / "local-secret.xml"
    local.write_text(
        '<rss version="2.0"><channel><item><title>本机文件的内容</title><link>https://x.example/1</link>'
        "</item></channel></rss>",
        encoding="utf-8",
    )
    for body in (str(local).encode(), f"file://{local}".encode()):
        parsed = parse_feed(body, url="https://evil.example/feed")
        assert parsed.entries == [] and parsed.format is None


def test_lxml_parsers_and_selectors_are_not_shared_between_threads():
    """The loop parses small bodies while the collector's thread parses a big one; lxml lets one
    parser or XPath object serve one caller at a time, so sharing one would make the loop wait."""
    from concurrent.futures import ThreadPoolExecutor

    from monitor.collectors import fastfeed, html

    def objects() -> tuple[object, object]:
        return fastfeed._parser(), html._selector("ul.news li")

    here = objects()
    with ThreadPoolExecutor(max_workers=1) as pool:
        there = pool.submit(objects).result()
    assert all(a is b for a, b in zip(objects(), here, strict=True))  # one per thread, kept
    assert there[0] is not here[0] and there[1] is not here[1]

"""Pure parts of the collectors: encodings, dates, feed formats, normalisation, health, dedup."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from datasketch import MinHash

from monitor.collectors.dates import parse_date
from monitor.collectors.dedup import DedupConfig, NearDupIndex, declared_origin, shingle_text, title_hash
from monitor.collectors.encoding import decode, repair_mojibake
from monitor.collectors.feeds import parse_feed
from monitor.collectors.fetch import parse_retry_after
from monitor.collectors.health import HealthPolicy, Outcome, SourceState, backoff, decide, silent_after
from monitor.collectors.normalize import normalize_text
from monitor.domain import SourceHealth

NOW = datetime(2026, 9, 24, 1, 0, tzinfo=UTC)


# --- encodings ---------------------------------------------------------------------


def test_bom_wins_over_everything():
    body = "\ufeff明湖".encode("utf-8")
    assert decode(body, "text/xml; charset=gbk").text == "明湖"
    assert decode("明湖".encode("utf-16"), None).text == "明湖"


def test_gb2312_label_is_read_as_gb18030_and_big5_as_hkscs():
    text = "镕基㐀"  # 镕 is GBK-only, 㐀 GB18030-only
    assert decode(text.encode("gb18030"), "text/html; charset=GB2312").text == text
    assert decode("臺灣颱風".encode("big5"), "text/html; charset=big5").text == "臺灣颱風"


def test_header_and_declaration_conflict_is_reconciled_and_reported():
    body = b'<?xml version="1.0" encoding="gbk"?><a>' + "明湖".encode("gbk") + b"</a>"
    decoded = decode(body, "application/xml; charset=utf-8")
    assert "明湖" in decoded.text and decoded.encoding == "gb18030"
    assert any("charset conflict" in w for w in decoded.warnings)


def test_unknown_labels_and_undecodable_bytes_are_warnings():
    decoded = decode("明湖".encode("gbk"), "text/html; charset=x-klingon")
    assert decoded.text == "明湖" and any("unknown charset" in w for w in decoded.warnings)
    assert any("U+FFFD" in w for w in decode(b"abc \x80\xff" * 3, "text/plain; charset=ascii").warnings)


def test_a_guess_after_a_wrong_declaration_does_not_claim_nothing_was_declared():
    body = ("<p>" + "明湖市政府发布台风警报，请市民注意防范。" * 10 + "</p>").encode("gbk")
    declared_wrong = decode(body, "text/html; charset=utf-8")
    assert declared_wrong.encoding == "gb18030"
    assert not any("no charset declared" in w for w in declared_wrong.warnings)
    assert any("no declared charset fits the bytes; guessed gb18030" in w for w in declared_wrong.warnings)
    assert any("no charset declared; guessed gb18030" in w for w in decode(body, "text/html").warnings)


def test_mojibake_is_repaired_or_flagged_never_silent():
    original = "明湖市应急管理局发布预警"
    assert repair_mojibake(original.encode().decode("gb18030")) == (
        original,
        "mojibake repaired: UTF-8 text had been decoded as gb18030",
    )
    _, warning = repair_mojibake(original.encode().decode("cp1252", errors="ignore"))  # bytes lost: flagged only
    assert warning and "mojibake" in warning
    assert repair_mojibake("明湖市应急管理局发布预警，请市民注意安全。") == (
        "明湖市应急管理局发布预警，请市民注意安全。",
        None,
    )
    assert repair_mojibake("Café déjà vu")[1] is None


# --- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thu, 24 Sep 2026 09:00:00 +0800", "2026-09-24T01:00:00+00:00"),
        ("Thu, 24 Sep 2026 09:00:00 GMT", "2026-09-24T09:00:00+00:00"),
        ("Thu, 24 Sep 2026 09:00:00 -0000", "2026-09-24T01:00:00+00:00"),  # unknown zone: local (Shanghai)
        ("2026-09-24T09:00:00Z", "2026-09-24T09:00:00+00:00"),
        ("2026-09-24 09:00", "2026-09-24T01:00:00+00:00"),
        ("2026年9月24日 09:30", "2026-09-24T01:30:00+00:00"),
        ("发布时间：2026/9/24", "2026-09-23T16:00:00+00:00"),
    ],
)
def test_dates_as_sites_write_them(text, expected):
    assert parse_date(text).isoformat() == expected


def test_unreadable_dates_are_none():
    assert parse_date("昨天") is None and parse_date("2026-13-45") is None and parse_date("") is None


# --- feed formats --------------------------------------------------------------------

RSS1 = """<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel rdf:about="https://a.example/"><title>t</title></channel>
 <item rdf:about="https://a.example/1"><title>RSS 1.0 条目</title><link>https://a.example/1</link>
 <description>正文</description><dc:date>2026-09-24T09:00:00+08:00</dc:date><dc:creator>记者</dc:creator></item>
</rdf:RDF>""".encode()
ATOM = """<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
 <entry><title type="html">&lt;b&gt;Atom&lt;/b&gt; 条目</title><link rel="alternate" href="https://a.example/2"/>
 <id>tag:a,2026:2</id><updated>2026-09-24T09:00:00+08:00</updated>
 <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>第一段</p><p>第二段</p></div></content>
 <author><name>编辑</name></author></entry></feed>""".encode()
RSS09 = """<rss version="0.91"><channel><title>t</title><item><title>0.91 条目</title>
 <link>https://a.example/3</link><description>&lt;p&gt;摘要&lt;/p&gt;</description></item></channel></rss>""".encode()


@pytest.mark.parametrize(("body", "fmt"), [(RSS1, "rss10"), (ATOM, "atom"), (RSS09, "rss20")])
def test_fast_path_agrees_with_feedparser(body, fmt):
    fast, slow = parse_feed(body), parse_feed(body, fast=False)
    assert fast.format == fmt and slow.format.startswith("feedparser:")
    assert fast.entries == slow.entries and len(fast.entries) == 1
    entry = fast.entries[0]
    assert entry.title and entry.link.startswith("https://a.example/")


def test_atom_xhtml_and_authors():
    (entry,) = parse_feed(ATOM).entries
    assert entry.title == "Atom 条目" and entry.text == "第一段\n第二段" and entry.author == "编辑"
    assert entry.published == datetime(2026, 9, 24, 1, 0, tzinfo=UTC)


def test_relative_links_fall_back_to_feedparser():
    body = b'<rss version="2.0"><channel><item><title>x</title><link>/a/1.html</link></item></channel></rss>'
    parsed = parse_feed(body)
    assert parsed.format == "feedparser:rss20" and parsed.entries[0].link == "/a/1.html"


def test_relative_links_are_resolved_against_the_feed_url():
    """A relative link kept as is would be unclickable, and its dedup key ("http:///a/1.html") would
    collide with every other site's /a/1.html, so their items would be dropped as already known."""
    rss_body = (
        b'<rss version="2.0"><channel><item><title>x</title><link>/a/1.html</link></item>'
        b"<item><title>y</title><link>2.html</link></item></channel></rss>"
    )
    links = [e.link for e in parse_feed(rss_body, url="https://news.example.gov.cn/feeds/rss.xml").entries]
    assert links == ["https://news.example.gov.cn/a/1.html", "https://news.example.gov.cn/feeds/2.html"]
    json_body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "url": "/n/1.html"}]}'
    (entry,) = parse_feed(json_body, url="https://j.example/feed.json").entries
    assert entry.link == "https://j.example/n/1.html"


def test_a_json_feed_with_a_byte_order_mark_is_read():
    body = b'\xef\xbb\xbf{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "title": "BOM"}]}'
    parsed = parse_feed(body)
    assert parsed.format == "jsonfeed" and [e.title for e in parsed.entries] == ["BOM"]


def test_json_feed():
    body = (
        b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "1", "url": "https://a.example/j",'
        b' "title": "JSON", "content_html": "<p>\xe6\x98\x8e\xe6\xb9\x96</p>", "date_published": "bad date",'
        b' "author": {"name": "A"}}, "junk"]}'
    )
    parsed = parse_feed(body)
    (entry,) = parsed.entries
    assert (parsed.format, entry.text, entry.author) == ("jsonfeed", "明湖", "A")
    assert entry.warnings == ("unreadable date 'bad date'",)
    assert parse_feed(b'{"no": "version"}').warnings


# --- normalisation -------------------------------------------------------------------


def test_normalisation_simplified_half_width_original_kept():
    original = "臺灣颱風過境，市政府發佈通知ＡＢＣ１２３　（測試）"
    assert normalize_text(original) == "台湾台风过境,市政府发布通知ABC123 (测试)"
    assert original == "臺灣颱風過境，市政府發佈通知ＡＢＣ１２３　（測試）"


# --- health and schedule -------------------------------------------------------------


def state(**kw) -> SourceState:
    base = {
        "health": SourceHealth.OK,
        "consecutive_failures": 0,
        "poll_min": timedelta(minutes=5),
        "poll_max": timedelta(hours=1),
        "expected_per_day": None,
        "last_new_item_at": None,
        "created_at": NOW - timedelta(days=1),
    }
    base.update(kw)
    return SourceState(**base)


POLICY = HealthPolicy(failing_after=3)


@pytest.mark.parametrize(
    ("before", "failures", "outcome", "after", "after_failures", "validators"),
    [
        (SourceHealth.OK, 0, Outcome.OK, SourceHealth.OK, 0, True),
        (SourceHealth.OK, 0, Outcome.NOT_MODIFIED, SourceHealth.OK, 0, False),
        (SourceHealth.OK, 0, Outcome.HTTP_ERROR, SourceHealth.DEGRADED, 1, False),
        (SourceHealth.DEGRADED, 2, Outcome.TIMEOUT, SourceHealth.FAILING, 3, False),
        (SourceHealth.DEGRADED, 2, Outcome.NOT_MODIFIED, SourceHealth.DEGRADED, 2, False),  # not a recovery
        (SourceHealth.FAILING, 9, Outcome.OK, SourceHealth.OK, 0, True),
        (SourceHealth.OK, 0, Outcome.UNPARSEABLE, SourceHealth.DEGRADED, 1, False),
    ],
)
def test_health_transitions(before, failures, outcome, after, after_failures, validators):
    decision = decide(state(health=before, consecutive_failures=failures), outcome, NOW, random.Random(1), POLICY)
    assert (decision.health, decision.consecutive_failures, decision.update_validators) == (
        after,
        after_failures,
        validators,
    )


def test_backoff_is_exponential_jittered_and_capped():
    rng = random.Random(3)
    base = timedelta(minutes=5)
    ceilings = [backoff(n, base, random.Random(0), POLICY) for n in range(1, 20)]
    assert all(base <= c <= POLICY.backoff_cap for c in ceilings)
    samples = {backoff(4, base, rng, POLICY) for _ in range(20)}
    assert len(samples) > 10 and max(samples) <= base * 16  # full jitter below the 2**n ceiling


def test_retry_after_is_clamped_and_parsed():
    d = decide(state(), Outcome.RATE_LIMITED, NOW, random.Random(1), POLICY, retry_after=timedelta(days=9))
    assert d.next_poll_at == NOW + POLICY.retry_after_cap
    d = decide(state(), Outcome.RATE_LIMITED, NOW, random.Random(1), POLICY, retry_after=timedelta(seconds=5))
    assert d.next_poll_at == NOW + timedelta(minutes=5)  # never sooner than poll_min
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Thu, 24 Sep 2026 02:00:00 GMT", NOW) == timedelta(hours=1)
    assert parse_retry_after("soon", NOW) is None


def test_adaptive_interval_with_jitter_stays_in_bounds():
    rng = random.Random(5)
    s = state(current_interval=timedelta(minutes=40))
    quiet = decide(s, Outcome.OK, NOW, rng, POLICY)
    busy = decide(s, Outcome.OK, NOW, rng, POLICY, new_items=3)
    assert quiet.interval == timedelta(hours=1) and busy.interval == timedelta(minutes=20)
    assert timedelta(minutes=18) <= busy.next_poll_at - NOW <= timedelta(minutes=22)


def test_silent_after_expected_volume():
    assert silent_after(None, POLICY) is None
    assert silent_after(24, POLICY) == timedelta(hours=6)
    assert silent_after(0.5, POLICY) == timedelta(days=6)
    quiet = state(expected_per_day=24, last_new_item_at=NOW - timedelta(hours=7))
    assert decide(quiet, Outcome.NOT_MODIFIED, NOW, random.Random(1), POLICY).health == SourceHealth.SILENT


# --- dedup ---------------------------------------------------------------------------

STORY = "明湖市东港化工园区一企业今晨发生爆炸，已造成3人受伤，市应急管理局正在组织救援，事故原因正在调查。"


def test_signature_equals_datasketch_affine32():
    index = NearDupIndex()
    text = shingle_text("东港爆炸", STORY)
    mine = index.signer.signature(text)
    reference = MinHash(num_perm=64, seed=1, hashfunc=int, scheme="affine32")
    reference.update_batch(index.signer.shingle_hashes(text).tolist())
    assert np.array_equal(mine, reference.hashvalues)


def test_reposts_match_unrelated_texts_do_not():
    index = NearDupIndex()
    index.add(1, index.signer.signature(shingle_text("东港爆炸", STORY)), NOW)
    repost = normalize_text("【转载】\n来源：明湖日报\n" + STORY + "\n责任编辑：李明")
    assert index.find(index.signer.signature(shingle_text("东港爆炸", repost)))[0] == 1
    other = "北湖镇多名居民反映老旧小区改造工程拖延半年，住建局回应称将于下月复工并公开进度。"
    assert index.find(index.signer.signature(shingle_text("北湖改造", other))) is None
    assert index.signer.signature("太短") is None


def test_index_is_bounded_by_window_and_cap():
    index = NearDupIndex(DedupConfig(max_entries=3, window=timedelta(hours=1)))
    for n in range(5):
        index.add(n, index.signer.signature(shingle_text(f"第{n}条", STORY * (n + 1) + str(n))), NOW)
    assert len(index) == 3
    assert index.evict(NOW + timedelta(hours=2)) == 3 and len(index) == 0


def test_title_hash_and_declared_origin():
    assert title_hash(normalize_text("【突发】东港化工园区爆炸！")) == title_hash("突发 东港化工园区爆炸")
    assert title_hash("短标题") is None
    assert declared_origin("本报讯 来源：新华社 记者 王五") == "新华社"
    assert declared_origin("没有来源行的正文") is None


def test_no_false_mojibake_alarms_on_real_chinese_text():
    from monitor.demo.corpus import load_corpus

    for item in load_corpus().items:
        assert repair_mojibake(item.title)[1] is None, item.title
        assert repair_mojibake(item.text)[1] is None, item.text[:40]

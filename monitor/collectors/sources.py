"""Source definitions: validation, OPML import/export and credentials references.

OPML is the exchange format of feed readers. Our fields travel as extra outline attributes
(`kind`, `mediaTier`, `mediaType`, `regionHint`, `pollMin`, `pollMax`, `expectedPerDay`, `credentialsRef`,
`options` as JSON), so an export re-imports losslessly and a plain reader's OPML still imports
(with the tier given on the command line).

A credentials reference is the NAME of an environment variable (or of one whose `_FILE`
variant names a file) holding the secret — never the secret itself.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from lxml import etree

from monitor.collectors.html import SELECTOR_OPTIONS, SelectorConfigError, check_selectors
from monitor.domain import MediaTier, MediaType, Source, SourceKind
from monitor.domain.enums import media_type_choices

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,99}$")
_TIER_WORDS = {t.label: t for t in MediaTier} | {"中央级": MediaTier.CENTRAL, "省级": MediaTier.PROVINCIAL}
_TIER_WORDS |= {"市级": MediaTier.CITY, "县级": MediaTier.COUNTY}


# How the web form labels each field (errors for people name the field as they see it).
FIELD_LABELS = {
    "name": "名称",
    "url": "地址",
    "kind": "类型",
    "media_tier": "媒体层级",
    "media_type": "媒体类型",
    "region_hint": "属地",
    "poll_min_s": "最短轮询间隔",
    "poll_max_s": "最长轮询间隔",
    "expected_per_day": "每日预期条数",
    "credentials_ref": "凭据变量名",
    "options": "选项",
}
OPTION_KEYS = (*SELECTOR_OPTIONS, "max_pages", "fetch_articles", "robots_permission")
# Option names that smell of a secret: credentials belong in an environment variable, by reference.
_SECRET_WORDS = ("password", "passwd", "secret", "token", "cookie", "authorization", "apikey", "api_key")


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """One thing wrong with a source definition."""

    field: str  # the Source attribute (and web form field) at fault
    message: str  # English, for the CLI and logs: what is wrong and how to fix it
    message_zh: str  # zh-CN for the web form, naming the field as the form labels it


class SourceError(ValueError):
    """A source definition is invalid; the message names the field and the fix."""

    def __init__(self, message: str, problems: Sequence[SourceProblem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


def parse_tier(value: str) -> MediaTier:
    text = value.strip()
    if text in _TIER_WORDS:
        return _TIER_WORDS[text]
    try:
        return MediaTier(text.lower())
    except ValueError:
        choices = ", ".join(f"{t.value} ({t.label})" for t in MediaTier)
        raise SourceError(f"unknown media tier {value!r}; use one of {choices}") from None


def parse_media_type(value: str) -> MediaType:
    """A media type from its value or zh-CN label (网站, weibo, App …); SourceError naming the allowed values."""
    try:
        return MediaType.from_text(value)
    except ValueError:
        raise SourceError(
            f"unknown media type {value!r}; use one of {media_type_choices()}, or leave it empty to infer it "
            "from the source's address and name"
        ) from None


MEDIA_TYPE_HELP_ZH = "「媒体类型」应为以下之一：" + "、".join(m.label for m in MediaType) + "；留空则按地址和名称推断"


def check_credentials_ref(ref: str | None) -> None:
    problem = _credentials_problem(ref)
    if problem is not None:
        raise SourceError(problem.message, [problem])


def _credentials_problem(ref: str | None) -> SourceProblem | None:
    if ref is None or _ENV_NAME.match(ref):
        return None
    return SourceProblem(
        "credentials_ref",
        f"credentials reference {ref!r} must be the NAME of an environment variable such as "
        "MINGHU_BBS_TOKEN (upper case, digits, underscores); put the secret itself in that variable "
        "or in a file named by MINGHU_BBS_TOKEN_FILE, never in the source definition",
        "「凭据变量名」应为环境变量名（大写字母、数字和下划线，例如 MINGHU_BBS_TOKEN），"
        "不要填写密钥本身；密钥放在该环境变量或 MINGHU_BBS_TOKEN_FILE 指向的文件中",
    )


def check_source(
    values: Mapping[str, Any], *, regions: Collection[str] | None = None
) -> tuple[Source | None, list[SourceProblem]]:
    """The one set of rules for a source, for the CLI, OPML import and the web form alike.

    `values` holds Source fields as typed (CLI, OPML) or as form text (numbers and the options
    JSON as strings). `regions`, when given, are the region hints allowed (the org directory's
    townships). Returns the Source, or None and every problem found.
    """
    clean: dict[str, Any] = {}
    problems: list[SourceProblem] = []
    checks = (_check_name, _check_url, _check_kind_and_tier, _check_media_type, _check_poll, _check_expected)
    for check in (*checks, _check_options):
        problems += check(values, clean)
    ref = _text(values.get("credentials_ref")) or None
    problems += [p for p in (_credentials_problem(ref),) if p is not None]
    clean["credentials_ref"] = ref
    region = _text(values.get("region_hint")) or None
    if region is not None and regions is not None and region not in regions:
        problems.append(
            SourceProblem(
                "region_hint",
                f"region hint {region!r} is not a township/subdistrict of the org directory; leave it empty or "
                "use a unit id from it",
                "「属地」应从列表中选择（镇/街道），或留空",
            )
        )
    clean["region_hint"] = region
    if problems:
        return None, problems
    return Source(**clean, enabled=bool(values.get("enabled", True))), []


def build_source(values: Mapping[str, Any], *, regions: Collection[str] | None = None) -> Source:
    """A valid Source from field values; raises SourceError naming every problem."""
    source, problems = check_source(values, regions=regions)
    if source is None:
        raise SourceError("; ".join(p.message for p in problems), problems)
    return source


def validate(source: Source, *, regions: Collection[str] | None = None) -> Source:
    """Raise SourceError naming what is wrong with a source definition."""
    values = {name: getattr(source, name) for name in (*FIELD_LABELS, "enabled")}
    build_source(values, regions=regions)
    return source


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _check_name(values: Mapping[str, Any], clean: dict[str, Any]) -> list[SourceProblem]:
    clean["name"] = name = _text(values.get("name"))
    if name and len(name) <= 200:
        return []
    return [
        SourceProblem(
            "name", "a source needs a name of at most 200 characters", "「名称」为必填项，且不能超过 200 个字符"
        )
    ]


def _check_url(values: Mapping[str, Any], clean: dict[str, Any]) -> list[SourceProblem]:
    clean["url"] = url = _text(values.get("url"))
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.hostname and not any(c.isspace() for c in url):
        return []
    return [
        SourceProblem(
            "url",
            f"source URL {url!r} must be a full address starting with http:// or https://",
            "「地址」应为以 http:// 或 https:// 开头的完整网址",
        )
    ]


def _check_kind_and_tier(values: Mapping[str, Any], clean: dict[str, Any]) -> list[SourceProblem]:
    problems = []
    try:
        clean["kind"] = SourceKind(_text(values.get("kind")) or SourceKind.FEED)
    except ValueError:
        kinds = ", ".join(k.value for k in SourceKind)
        problems.append(
            SourceProblem("kind", f"unknown kind {values.get('kind')!r}; use {kinds}", "「类型」应从列表中选择")
        )
    tier = values.get("media_tier")
    try:
        clean["media_tier"] = tier if isinstance(tier, MediaTier) else parse_tier(_text(tier) or "city")
    except SourceError as exc:
        problems.append(SourceProblem("media_tier", str(exc), "「媒体层级」应从列表中选择（中央/省/市/县/自媒体）"))
    return problems


def _check_media_type(values: Mapping[str, Any], clean: dict[str, Any]) -> list[SourceProblem]:
    """Optional: empty means "infer it" (the source then says its type is inferred, and why)."""
    raw = values.get("media_type")
    clean["media_type"] = None
    if isinstance(raw, MediaType) or not _text(raw):
        clean["media_type"] = raw or None
        return []
    try:
        clean["media_type"] = parse_media_type(_text(raw))
    except SourceError as exc:
        return [SourceProblem("media_type", str(exc), MEDIA_TYPE_HELP_ZH)]
    return []


def _whole_seconds(value: Any, default: int) -> int | None:
    if value is None:  # not given at all (a form always sends the field, so an empty one is an error)
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value).strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _check_poll(values: Mapping[str, Any], clean: dict[str, Any]) -> list[SourceProblem]:
    problems = []
    for key, default in (("poll_min_s", 300), ("poll_max_s", 3600)):
        seconds = _whole_seconds(values.get(key), default)
        if seconds is None:
            what = "shortest" if key == "poll_min_s" else "longest"
            problems.append(
                SourceProblem(
                    key,
                    f"the {what} poll interval must be a whole number of seconds above 0, got {values.get(key)!r}",
                    f"「{FIELD_LABELS[key]}」应为正整数（秒），例如 300",
                )
            )
        clean[key] = seconds
    if not problems and clean["poll_max_s"] < clean["poll_min_s"]:
        problems.append(
            SourceProblem(
                "poll_max_s",
                f"poll interval bounds must satisfy min <= max, got min={clean['poll_min_s']}s "
                f"max={clean['poll_max_s']}s",
                "「最长轮询间隔」不能小于「最短轮询间隔」",
            )
        )
    return problems


def _check_expected(values: Mapping[str, Any], clean: dict[str, Any]) -> list[SourceProblem]:
    raw = values.get("expected_per_day")
    clean["expected_per_day"] = None
    if raw is None or raw == "":
        return []
    try:
        number = float(raw) if not isinstance(raw, bool) else -1.0
    except (TypeError, ValueError):
        number = -1.0
    if math.isfinite(number) and number >= 0:
        clean["expected_per_day"] = number
        return []
    return [
        SourceProblem(
            "expected_per_day",
            f"expected items per day must be a number of at least 0, got {raw!r}",
            "「每日预期条数」应为非负数字，或留空",
        )
    ]


def _check_options(values: Mapping[str, Any], clean: dict[str, Any]) -> list[SourceProblem]:
    options, problem = _options_object(values.get("options"))
    clean["options"] = options
    if problem is None:
        problem = _options_keys(options)
    if problem is None and clean.get("kind") == SourceKind.HTML_LIST:
        try:
            check_selectors(options)
        except SelectorConfigError as exc:
            problem = SourceProblem("options", str(exc), exc.message_zh)
    return [problem] if problem is not None else []


def _options_object(raw: Any) -> tuple[dict[str, Any], SourceProblem | None]:
    if raw is None or raw == "":
        return {}, None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            return {}, SourceProblem(
                "options",
                f"options are not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
                f"「选项」不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}",
            )
    if not isinstance(raw, dict):
        return {}, SourceProblem(
            "options",
            'options must be a JSON object such as {"item": "ul.news li"}',
            '「选项」应为 JSON 对象，例如 {"item": "ul.news li"}',
        )
    return raw, None


def _options_keys(options: Mapping[str, Any]) -> SourceProblem | None:
    for key in options:
        if any(word in key.lower().replace("-", "_") for word in _SECRET_WORDS):
            return SourceProblem(
                "options",
                f"option {key!r} looks like a secret; secrets never go into a source definition: put it in an "
                "environment variable and give that variable's NAME as the credentials reference",
                f"「选项」中的 {key} 像是密钥：密钥不能写在信息源配置里，"
                "请放入环境变量，并在「凭据变量名」中填写该变量名",
            )
        if key not in OPTION_KEYS:
            return SourceProblem(
                "options",
                f"unknown option {key!r}; the options are {', '.join(OPTION_KEYS)}",
                f"「选项」中的 {key} 无法识别；可用的选项：{'、'.join(OPTION_KEYS)}",
            )
    fetch = options.get("fetch_articles")
    if fetch is not None and not isinstance(fetch, bool):
        return SourceProblem(
            "options",
            f"option 'fetch_articles' must be true or false, got {fetch!r}",
            f"「选项」中的 fetch_articles 应为 true 或 false，现为 {fetch!r}",
        )
    return _robots_permission_problem(options.get("robots_permission"))


def _robots_permission_problem(value: Any) -> SourceProblem | None:
    """The robots.txt override is a record: who permitted reading the channel, and when (never a bare `true`)."""
    if value is None or (isinstance(value, str) and 4 <= len(value.strip()) <= 500):
        return None
    return SourceProblem(
        "options",
        "option 'robots_permission' overrides the site's robots.txt for this source and must record the "
        "permission as text of 4 to 500 characters (who granted it, when, the document), e.g. "
        f'"robots_permission": "市政府办公室 2026-03-01 书面同意（明政办函〔2026〕12号）"; got {value!r}',
        "「选项」中的 robots_permission 用于对本信息源不执行网站的 robots.txt 限制，须写明授权依据"
        "（4 到 500 个字：谁于何时以何文件同意采集），例如 "
        '"robots_permission": "市政府办公室 2026-03-01 书面同意（明政办函〔2026〕12号）"',
    )


def auth_header(ref: str | None, env: Mapping[str, str]) -> dict[str, str]:
    """The Authorization header for a credentials reference ("user:password" -> Basic, else Bearer)."""
    if not ref:
        return {}
    secret = env.get(ref)
    if secret is None and env.get(f"{ref}_FILE"):
        try:
            secret = Path(env[f"{ref}_FILE"]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SourceError(f"{ref}_FILE names a file that cannot be read: {exc.strerror}") from exc
    if not secret:
        raise SourceError(f"credentials {ref} are not set; export {ref} or {ref}_FILE for the collector")
    if ":" in secret:
        return {"Authorization": "Basic " + base64.b64encode(secret.encode("utf-8")).decode("ascii")}
    return {"Authorization": f"Bearer {secret}"}


def read_opml(data: bytes, *, default_tier: MediaTier, default_poll_min: int = 300, file: str = "OPML") -> list[Source]:
    """Sources from OPML outlines with an xmlUrl (or htmlUrl + kind=html_list). Raises SourceError
    naming `file` and the line of the outline at fault."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"not valid OPML/XML: {exc}") from exc
    found = []
    for outline in root.iter("outline"):
        attrs = dict(outline.attrib)
        url = attrs.get("xmlUrl") or (attrs.get("htmlUrl") if attrs.get("kind") == "html_list" else None)
        if url:
            found.append(_outline_source(attrs, url, default_tier, default_poll_min, (file, outline.sourceline)))
    if not found:
        raise SourceError("the OPML file has no <outline> with an xmlUrl attribute")
    return found


def _outline_source(
    attrs: dict[str, str], url: str, tier: MediaTier, poll_min: int, where: tuple[str, int | None]
) -> Source:
    minimum = attrs.get("pollMin", poll_min)
    values = {
        "name": attrs.get("title") or attrs.get("text") or url[:200],
        "url": url,
        "kind": attrs.get("kind", "feed"),
        "media_tier": attrs.get("mediaTier") or tier,
        "media_type": attrs.get("mediaType"),
        "region_hint": attrs.get("regionHint"),
        "poll_min_s": minimum,
        "poll_max_s": attrs.get("pollMax", max(_whole_seconds(minimum, poll_min) or poll_min, 3600)),
        "expected_per_day": attrs.get("expectedPerDay"),
        "credentials_ref": attrs.get("credentialsRef"),
        "options": attrs.get("options"),
    }
    try:
        return build_source(values)
    except SourceError as exc:
        raise SourceError(f"{where[0]} line {where[1]} ({url}): {exc}", exc.problems) from exc


def write_opml(sources: Iterable[Source], title: str = "政务舆情监测信息源") -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{title}</title></head>",
        "  <body>",
    ]
    for s in sources:
        attrs: dict[str, Any] = {
            "text": s.name,
            "title": s.name,
            "type": "rss" if s.kind == SourceKind.FEED else "link",
            "xmlUrl" if s.kind == SourceKind.FEED else "htmlUrl": s.url,
            "kind": s.kind.value,
            "mediaTier": s.media_tier.value,
            "mediaType": s.media_type.value if s.media_type else None,  # unset stays unset: inferred again
            "regionHint": s.region_hint,
            "pollMin": s.poll_min_s,
            "pollMax": s.poll_max_s,
            "expectedPerDay": s.expected_per_day,
            "credentialsRef": s.credentials_ref,
            "options": json.dumps(s.options, ensure_ascii=False) if s.options else None,
        }
        rendered = " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None)
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"

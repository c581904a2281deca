"""Source definitions: validation, OPML import/export and credentials references.

OPML is the exchange format of feed readers. Our fields travel as extra outline attributes
(`kind`, `mediaTier`, `regionHint`, `pollMin`, `pollMax`, `expectedPerDay`, `credentialsRef`,
`options` as JSON), so an export re-imports losslessly and a plain reader's OPML still imports
(with the tier given on the command line).

A credentials reference is the NAME of an environment variable (or of one whose `_FILE`
variant names a file) holding the secret — never the secret itself.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from lxml import etree

from monitor.collectors.html import SelectorConfigError, check_selectors
from monitor.domain import MediaTier, Source, SourceKind

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,99}$")
_TIER_WORDS = {t.label: t for t in MediaTier} | {"中央级": MediaTier.CENTRAL, "省级": MediaTier.PROVINCIAL}
_TIER_WORDS |= {"市级": MediaTier.CITY, "县级": MediaTier.COUNTY}


class SourceError(ValueError):
    """A source definition is invalid; the message names the field and the fix."""


def parse_tier(value: str) -> MediaTier:
    text = value.strip()
    if text in _TIER_WORDS:
        return _TIER_WORDS[text]
    try:
        return MediaTier(text.lower())
    except ValueError:
        choices = ", ".join(f"{t.value} ({t.label})" for t in MediaTier)
        raise SourceError(f"unknown media tier {value!r}; use one of {choices}") from None


def check_credentials_ref(ref: str | None) -> None:
    if ref is None:
        return
    if not _ENV_NAME.match(ref):
        raise SourceError(
            f"credentials reference {ref!r} must be the NAME of an environment variable such as "
            "MINGHU_BBS_TOKEN (upper case, digits, underscores); put the secret itself in that variable "
            "or in a file named by MINGHU_BBS_TOKEN_FILE, never in the source definition"
        )


def validate(source: Source) -> Source:
    """Raise SourceError naming what is wrong with a source definition."""
    if not source.url.lower().startswith(("http://", "https://")):
        raise SourceError(f"source URL {source.url!r} must start with http:// or https://")
    check_credentials_ref(source.credentials_ref)
    if source.kind == SourceKind.HTML_LIST:
        try:
            check_selectors(source.options)
        except SelectorConfigError as exc:
            raise SourceError(str(exc)) from exc
    return source


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


def read_opml(data: bytes, *, default_tier: MediaTier, default_poll_min: int = 300) -> list[Source]:
    """Sources from OPML outlines with an xmlUrl (or htmlUrl + kind=html_list). Raises SourceError."""
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
            found.append(_outline_source(attrs, url, default_tier, default_poll_min, outline.sourceline))
    if not found:
        raise SourceError("the OPML file has no <outline> with an xmlUrl attribute")
    return found


def _outline_source(attrs: dict[str, str], url: str, tier: MediaTier, poll_min: int, line: int | None) -> Source:
    where = f"OPML line {line}"
    try:
        options = json.loads(attrs.get("options", "{}"))
        minimum = int(attrs.get("pollMin", poll_min))
        source = Source(
            name=attrs.get("title") or attrs.get("text") or url,
            url=url,
            kind=SourceKind(attrs.get("kind", "feed")),
            media_tier=parse_tier(attrs["mediaTier"]) if attrs.get("mediaTier") else tier,
            region_hint=attrs.get("regionHint") or None,
            poll_min_s=minimum,
            poll_max_s=int(attrs.get("pollMax", max(minimum, 3600))),
            expected_per_day=float(attrs["expectedPerDay"]) if attrs.get("expectedPerDay") else None,
            credentials_ref=attrs.get("credentialsRef") or None,
            options=options if isinstance(options, dict) else {},
        )
        return validate(source)
    except (ValueError, TypeError) as exc:
        raise SourceError(f"{where} ({url}): {exc}") from exc


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

"""Publication dates as sites write them: RFC 822, ISO 8601 and Chinese forms.

A date without an offset is read in Asia/Shanghai: the sources this service reads are Chinese
sites, which write local time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime

from monitor.clock import SHANGHAI

_CHINESE = re.compile(
    r"(?P<y>\d{4})\s*[年/.\-]\s*(?P<m>\d{1,2})\s*[月/.\-]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_ISO_Z = re.compile(r"[Zz]$")


def parse_date(text: str | None, default_tz: tzinfo = SHANGHAI) -> datetime | None:
    """An aware UTC datetime, or None when `text` holds no date we can read."""
    if not text:
        return None
    text = text.strip()
    value = _rfc822(text) or _iso(text) or _chinese(text, default_tz)
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _rfc822(text: str) -> datetime | None:
    if not text[:1].isalpha() and "," not in text[:6] and not re.match(r"\d{1,2} [A-Za-z]{3} ", text):
        return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is not None and value.utcoffset() == timedelta(0) and text.rstrip().endswith("-0000"):
        return value.replace(tzinfo=None)  # RFC 2822: -0000 means "local time unknown"
    return value


def _iso(text: str) -> datetime | None:
    candidate = _ISO_Z.sub("+00:00", text.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", text) else text)
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _chinese(text: str, tz: tzinfo = SHANGHAI) -> datetime | None:
    match = _CHINESE.search(text)
    if not match:
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    try:
        return datetime(
            parts["y"], parts["m"], parts["d"], parts.get("H", 0), parts.get("M", 0), parts.get("S", 0), tzinfo=tz
        )
    except ValueError:
        return None

"""Canonical URLs and dedup keys."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PREFIXES = ("utm_", "spm", "from", "share", "wfr", "scene", "clicktime", "enterid", "isappinstalled")
MOBILE_HOST_PREFIXES = ("m.", "wap.", "3g.", "mobile.")


def canonical_url(url: str) -> str:
    """Lower-case scheme/host, no fragment, no tracking parameters, mobile hosts mapped to www."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    for prefix in MOBILE_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = "www." + host[len(prefix) :]
            break
    if (
        parts.port
        and not (parts.scheme == "http" and parts.port == 80)
        and not (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    query = (
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith(TRACKING_PREFIXES)
        ]
        if parts.query
        else []
    )
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower() or "http", host, path, urlencode(sorted(query)), ""))


def dedup_key(canonical: str | None, guid: str | None, fallback: str) -> str:
    """sha256 of the canonical URL (or GUID when there is no usable link)."""
    basis = canonical or (f"guid:{guid}" if guid else f"text:{fallback}")
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()

"""Sources and the items collected from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.domain.enums import MediaTier, MediaType, SourceHealth, SourceKind
from monitor.domain.media import MediaTypeGuess, media_type_of


@dataclass(frozen=True, slots=True)
class Source:
    """Somewhere items are read from (a feed, a news list page, an official channel)."""

    name: str
    url: str
    kind: SourceKind = SourceKind.FEED
    media_tier: MediaTier = MediaTier.CITY
    region_hint: str | None = None
    poll_min_s: int = 300
    poll_max_s: int = 3600
    expected_per_day: float | None = None
    credentials_ref: str | None = None  # the NAME of an env var / secret file, never the secret
    enabled: bool = True
    health: SourceHealth = SourceHealth.OK
    options: dict[str, object] = field(default_factory=dict)  # e.g. CSS selectors for html_list
    id: int | None = None
    media_type: MediaType | None = None  # 媒体类型 as set; None: inferred from the URL and name

    @property
    def media_type_guess(self) -> MediaTypeGuess:
        """The media type its items carry: as set, else inferred (and saying so)."""
        return media_type_of(self.media_type, self.kind, self.url, self.name)

    def __post_init__(self) -> None:
        if self.poll_min_s <= 0 or self.poll_max_s < self.poll_min_s:
            raise ValueError(
                f"source {self.name!r}: poll interval bounds must satisfy 0 < min <= max, "
                f"got min={self.poll_min_s}s max={self.poll_max_s}s"
            )


@dataclass(frozen=True, slots=True)
class Item:
    """One published piece of text (article, post, message) with its evidence."""

    source_id: int | None
    url: str
    title: str
    text: str
    fetched_at: datetime
    published_at: datetime | None = None
    guid: str | None = None
    canonical_url: str | None = None
    author: str | None = None
    raw_sha256: str | None = None  # sha256 of the fetched bytes the item was parsed from
    media_tier: MediaTier | None = None
    region_hint: str | None = None
    media_type: MediaType | None = None  # the source's (set or inferred) when the item was collected
    duplicate_of: int | None = None
    id: int | None = None

    @property
    def best_time(self) -> datetime:
        """Publication time when known, else when we fetched it."""
        return self.published_at or self.fetched_at

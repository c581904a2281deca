"""Source health and polling schedule: pure decisions from one fetch outcome (no I/O, no clock).

States (sources.health):
  ok        fetches succeed and, when a volume is expected, items keep arriving
  degraded  1..failing_after-1 consecutive failures
  failing   failing_after or more consecutive failures (still polled, with backoff: never disabled)
  silent    fetches succeed but nothing new has arrived for far longer than the expected volume implies

Rules the duty office relies on:
- validators (ETag / Last-Modified) change only on a 200;
- a 304 proves the server answered, not that the feed is healthy: after failures it keeps the
  health and the failure count as they are (it is not a recovery), though the next poll is normal;
- 429 and 503 honour Retry-After (clamped to [poll_min, retry_after_cap]);
- other failures back off exponentially with full jitter, capped (default 6 h);
- successful polls adapt between poll_min and poll_max: new items pull the interval down,
  empty polls push it up; every interval gets ±10 % jitter so sources do not synchronise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from monitor.domain import SourceHealth


class Outcome(StrEnum):
    """What one fetch came to (stored in fetches.outcome)."""

    OK = "ok"  # 200, parsed
    NOT_MODIFIED = "not_modified"  # 304
    RATE_LIMITED = "rate_limited"  # 429 / 503 with or without Retry-After
    HTTP_ERROR = "http_error"  # other 4xx/5xx
    TIMEOUT = "timeout"  # connect/read/total timeout
    TOO_LARGE = "too_large"  # body over the size limit
    NETWORK = "network"  # DNS, refused, TLS, redirect loop …
    UNPARSEABLE = "unparseable"  # 200 but no feed/page could be read from it
    STORE_FAILED = "store_failed"  # fetched and parsed, but the database refused its items (logged as an error)
    DISALLOWED = "disallowed"  # not requested: robots.txt forbids it, or could not be read (5xx/429/no answer)

    @property
    def is_failure(self) -> bool:
        return self not in (Outcome.OK, Outcome.NOT_MODIFIED)


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    failing_after: int = 3  # consecutive failures that make a source FAILING
    backoff_cap: timedelta = timedelta(hours=6)
    retry_after_cap: timedelta = timedelta(hours=24)
    silent_factor: float = 3.0  # SILENT after this many expected gaps without a new item …
    silent_min: timedelta = timedelta(hours=6)  # … but never sooner than this
    jitter: float = 0.1


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the decision needs to know about a source before the fetch."""

    health: SourceHealth
    consecutive_failures: int
    poll_min: timedelta
    poll_max: timedelta
    expected_per_day: float | None
    last_new_item_at: datetime | None
    created_at: datetime
    current_interval: timedelta | None = None  # interval used for the previous successful poll


@dataclass(frozen=True, slots=True)
class Decision:
    health: SourceHealth
    consecutive_failures: int
    next_poll_at: datetime
    interval: timedelta
    update_validators: bool
    counts_as_success: bool


def decide(
    state: SourceState,
    outcome: Outcome,
    now: datetime,
    rng: random.Random,
    policy: HealthPolicy,
    *,
    new_items: int = 0,
    retry_after: timedelta | None = None,
) -> Decision:
    """Health, failure count and next poll after one fetch."""
    if outcome.is_failure:
        return _after_failure(state, outcome, now, rng, policy, retry_after)
    if outcome is Outcome.NOT_MODIFIED and state.consecutive_failures:
        interval = _jittered(state.poll_min, rng, policy)
        return Decision(state.health, state.consecutive_failures, now + interval, interval, False, False)
    last_new = now if new_items else state.last_new_item_at
    health = SourceHealth.SILENT if _is_silent(state, last_new, now, policy) else SourceHealth.OK
    interval = _adapted(state, new_items > 0)
    jittered = _jittered(interval, rng, policy)
    return Decision(health, 0, now + jittered, interval, outcome is Outcome.OK, True)


def _after_failure(
    state: SourceState,
    outcome: Outcome,
    now: datetime,
    rng: random.Random,
    policy: HealthPolicy,
    retry_after: timedelta | None,
) -> Decision:
    failures = state.consecutive_failures + 1
    health = SourceHealth.FAILING if failures >= policy.failing_after else SourceHealth.DEGRADED
    if outcome is Outcome.RATE_LIMITED and retry_after is not None:
        wait = min(max(retry_after, state.poll_min), policy.retry_after_cap)
    else:
        wait = backoff(failures, state.poll_min, rng, policy)
    return Decision(health, failures, now + wait, state.current_interval or state.poll_min, False, False)


def backoff(failures: int, base: timedelta, rng: random.Random, policy: HealthPolicy) -> timedelta:
    """Exponential backoff with full jitter in [base, min(cap, base * 2**failures)]."""
    ceiling = min(policy.backoff_cap, base * (2 ** min(failures, 30)))
    if ceiling <= base:
        return ceiling
    return base + (ceiling - base) * rng.random()


def _adapted(state: SourceState, got_new: bool) -> timedelta:
    current = state.current_interval or state.poll_min
    target = current / 2 if got_new else current * 1.5
    return min(max(target, state.poll_min), state.poll_max)


def _jittered(interval: timedelta, rng: random.Random, policy: HealthPolicy) -> timedelta:
    return interval * (1 + policy.jitter * (2 * rng.random() - 1))


def silent_after(expected_per_day: float | None, policy: HealthPolicy) -> timedelta | None:
    """How long without a new item makes a source SILENT (None: no volume expected)."""
    if not expected_per_day or expected_per_day <= 0:
        return None
    gap = timedelta(days=1) / expected_per_day
    return max(policy.silent_min, gap * policy.silent_factor)


def _is_silent(state: SourceState, last_new: datetime | None, now: datetime, policy: HealthPolicy) -> bool:
    limit = silent_after(state.expected_per_day, policy)
    if limit is None:
        return False
    return now - (last_new or state.created_at) > limit

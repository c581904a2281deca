"""What a scale-out run must show: every notification delivered exactly once, every source fetched
once per interval — each rule with the one exception a killed worker legitimately causes."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from monitor.storage.repo.ops import DeliveryRecord

SOURCE_LEASE = timedelta(minutes=10)  # monitor.collectors.polling.LEASE


def delivery_problems(sink: Mapping[str, Sequence[str]], records: Sequence[DeliveryRecord]) -> list[str]:
    """Each outbox row delivered under exactly one Idempotency-Key; repeats only of rows left in doubt.

    A receiver that remembers Idempotency-Keys (the webhook contract) therefore processed every
    notification exactly once. `sink`: notification key -> the Idempotency-Key of each request
    that carried it.
    """
    problems: list[str] = []
    rows = {r.idempotency_key: r for r in records if r.status != "fanned_out"}  # split into one row per person
    for key, row in rows.items():
        got = sink.get(key, [])
        if row.status != "sent":
            problems.append(f"{key}: status {row.status}, not sent")
        if not got:
            problems.append(f"{key}: never delivered")
        elif len(set(got)) > 1:
            problems.append(f"{key}: delivered under {len(set(got))} different Idempotency-Keys")
        elif len(got) > 1 and not row.in_doubt:
            problems.append(f"{key}: delivered {len(got)} times without a crash to explain it")
    problems += [f"{key}: delivered but not in the outbox" for key in sink if key not in rows]
    return problems


def fetch_problems(
    requests: Mapping[int, Sequence[datetime]],
    sources: int,
    interval: timedelta,
    span: tuple[datetime, datetime],
    kills: Sequence[datetime],
    latency: timedelta = timedelta(seconds=150),
) -> list[str]:
    """Each source fetched once per interval (±10 % jitter, + `latency`) over `span`.

    `requests`: when each fetch started, by the collectors' clock (the fetch log).

    A gap may be shorter only when a collector was killed inside it (its fetch was lost with it and
    the source was fetched again when the lease ran out), and longer by at most the lease then.
    """
    start, end = span
    shortest, longest = interval * 0.9 - timedelta(seconds=1), interval * 1.1 + latency
    problems: list[str] = []
    for n in range(sources):
        times = sorted(t for t in requests.get(n, []) if start <= t <= end)
        if len(times) < (end - start) / longest - 1:
            problems.append(f"source {n}: {len(times)} fetches in {end - start}, expected one per {interval}")
        for before, after in itertools.pairwise(times):
            crash = any(before <= k <= after for k in kills)
            gap = after - before
            if gap < shortest and not crash:
                problems.append(f"source {n}: fetched twice within {gap} at {before:%H:%M:%S}")
            if gap > (longest + SOURCE_LEASE if crash else longest):
                problems.append(f"source {n}: not fetched for {gap} after {before:%H:%M:%S}")
    return problems


def lost_fetch_problems(
    served: Mapping[int, Sequence[datetime]], recorded: Mapping[int, Sequence[datetime]], collector_killed: bool
) -> list[str]:
    """Every request the feed server answered is in the fetch log, except (at most one per source)
    a fetch in flight in a collector that was killed: nothing was fetched behind the log's back."""
    problems = []
    for n in sorted(set(served) | set(recorded)):
        lost = len(served.get(n, [])) - len(recorded.get(n, []))
        if lost < 0 or lost > int(collector_killed):
            problems.append(f"source {n}: {len(served.get(n, []))} requests served, {len(recorded.get(n, []))} logged")
    return problems

"""Per-address login rate limit (the per-account lock-out lives on the users row)."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta

from monitor.clock import Clock

MAX_TRACKED_ADDRESSES = 10_000


class LoginLimiter:
    """At most `attempts` login attempts per client address within `window` (sliding)."""

    def __init__(self, clock: Clock, attempts: int, window: timedelta) -> None:
        self.clock, self.attempts, self.window = clock, attempts, window
        self._seen: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, address: str) -> deque[datetime]:
        times = self._seen.get(address)
        if times is None:
            times = self._seen[address] = deque()
        self._seen.move_to_end(address)
        cutoff = self.clock.now() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def retry_after(self, address: str) -> timedelta | None:
        """None when another attempt is allowed now, else how long to wait."""
        times = self._recent(address)
        if len(times) < self.attempts:
            return None
        return times[0] + self.window - self.clock.now()

    def record(self, address: str) -> None:
        self._recent(address).append(self.clock.now())
        while len(self._seen) > MAX_TRACKED_ADDRESSES:
            self._seen.popitem(last=False)

"""A sliding-window rate limit per key (a client address), kept in this process."""

from __future__ import annotations

import time
from collections import defaultdict, deque


class RateLimiter:
    """At most ``limit`` calls per key in a sliding window (in this process)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._calls: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        calls = self._calls[key]
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= self.limit:
            return False
        calls.append(now)
        return True

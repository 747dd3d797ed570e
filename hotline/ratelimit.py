"""A small in-memory rate limiter (per process): login attempts, portal submissions.

Per process is enough for its purpose (slowing down guessing and floods from one
client); it is not a quota system.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(self._hits) > 100_000:  # bounded memory under a spray of keys
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
            self._hits[key] = hits
        return hits

    def blocked(self, key: str) -> bool:
        return len(self._recent(key)) >= self.limit

    def failed(self, key: str) -> None:
        self._recent(key).append(self.clock())

    def allow(self, key: str) -> bool:
        """Count one use; False when over the limit."""
        hits = self._recent(key)
        if len(hits) >= self.limit:
            return False
        hits.append(self.clock())
        return True

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)

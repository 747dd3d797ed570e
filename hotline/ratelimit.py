"""Rate limits: a small in-memory sliding-window limiter (per process: portal submissions
and lookups), and `Attempts`, counted atomically in a fixed window — in Redis when there
is one, so every web node shares the count (login attempts per address and per account).
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from redis.asyncio import Redis


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


# ---------------------------------------------------------------- attempts, counted atomically

class Attempts:
    """Attempts per key in a fixed window, counted *before* the attempt is evaluated, so
    60 parallel guesses are 60 counts, not 60 evaluations. In-process by default."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._counts: dict[str, tuple[float, int]] = {}

    async def add(self, key: str, window_seconds: int) -> int:
        """Count one attempt; the number in the current window, this one included."""
        now = self.clock()
        until, n = self._counts.get(key, (0.0, 0))
        if until <= now:
            until, n = now + window_seconds, 0
            if len(self._counts) > 100_000:  # bounded memory under a spray of keys
                self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
        self._counts[key] = (until, n + 1)
        return n + 1

    async def take_back(self, key: str) -> None:
        """One attempt that should not count (it succeeded, or was never evaluated)."""
        hit = self._counts.get(key)
        if hit is not None and hit[1] > 0:
            self._counts[key] = (hit[0], hit[1] - 1)

    async def clear(self, key: str) -> None:
        self._counts.pop(key, None)


# INCR and, on the first attempt of a window, its expiry: one atomic step on the server.
_INCR_WINDOW = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"


class RedisAttempts(Attempts):
    """The same counts in Redis, shared by every web node."""

    def __init__(self, redis: Redis, prefix: str = "hotline:attempts") -> None:
        super().__init__()
        self._redis = redis
        self.prefix = prefix

    async def add(self, key: str, window_seconds: int) -> int:
        return int(await self._redis.eval(_INCR_WINDOW, 1, f"{self.prefix}:{key}", window_seconds))

    async def take_back(self, key: str) -> None:
        # Never below zero, and never a key without expiry: only decrement what exists.
        await self._redis.eval("if (tonumber(redis.call('GET', KEYS[1]) or '0')) > 0 then "
                               "redis.call('DECR', KEYS[1]) end return 0", 1, f"{self.prefix}:{key}")

    async def clear(self, key: str) -> None:
        await self._redis.delete(f"{self.prefix}:{key}")

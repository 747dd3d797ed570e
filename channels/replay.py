"""Remembering signed nonces, so a vendor signature works for one request body only.

WeChat signs `timestamp` and `nonce` (not the body), and both travel in the query string,
which every proxy access log keeps. Without memory, anyone who read a log line could post
their own XML under that signature while the timestamp is fresh. A nonce is therefore
bound to the digest of the first body that used it: WeChat's retries of the same message
(same body) pass, any other body under that nonce is a replay.

With Redis the memory is shared by every web node (`SET NX EX`); without, it is per process,
which is what a single embedded node needs.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from redis.asyncio import Redis

_MAX_LOCAL = 200_000  # nonces kept in-process before the expired ones are swept


class NonceBook:
    def __init__(self, redis: Redis | None, *, ttl_seconds: int, prefix: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis
        self.ttl = ttl_seconds
        self.prefix = prefix
        self._clock = clock
        self._seen: dict[str, tuple[float, str]] = {}

    async def admit(self, timestamp: str, nonce: str, body: bytes) -> bool:
        """True for the first use of (timestamp, nonce) and for the same body again (a retry)."""
        digest = hashlib.sha256(body).hexdigest()
        key = f"{self.prefix}:{timestamp}:{nonce}"
        if self._redis is not None:
            if await self._redis.set(key, digest, nx=True, ex=self.ttl):
                return True
            first = await self._redis.get(key)
            return (first.decode() if isinstance(first, bytes) else first) == digest
        now = self._clock()
        hit = self._seen.get(key)
        if hit is not None and hit[0] > now:
            return hit[1] == digest
        if len(self._seen) >= _MAX_LOCAL:
            self._seen = {k: v for k, v in self._seen.items() if v[0] > now}
        self._seen[key] = (now + self.ttl, digest)
        return True

"""Live events for the dashboards (calls, queues, agents, work orders).

In-process fan-out by default; with Redis, events go through one pub/sub channel so
every web node's WebSocket clients see every event, whichever node produced it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from redis.asyncio import Redis

log = logging.getLogger(__name__)
CHANNEL = "hotline:live"
_QUEUE_SIZE = 1000


class LiveBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self._fan_out({"topic": topic, **payload})

    def _fan_out(self, message: dict[str, Any]) -> None:
        for q in list(self._subscribers):
            if q.full():  # a slow client loses its oldest events, never blocks the hotline
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
            q.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(_QUEUE_SIZE)
        self._subscribers.add(q)
        try:
            yield q
        finally:
            self._subscribers.discard(q)

    async def run(self) -> None:
        """Nothing to relay in-process; the Redis bus overrides this."""
        await asyncio.Event().wait()


class RedisLiveBus(LiveBus):
    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self._redis = redis

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        await self._redis.publish(CHANNEL, json.dumps({"topic": topic, **payload}, ensure_ascii=False,
                                                      default=str))

    async def run(self) -> None:
        """Relay the shared channel to this node's subscribers until cancelled."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                async for item in pubsub.listen():
                    if item.get("type") != "message":
                        continue
                    try:
                        self._fan_out(json.loads(item["data"]))
                    except (ValueError, TypeError):
                        log.warning("live: skipped a malformed message on %s", CHANNEL)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: say so, wait, resubscribe
                log.exception("live: Redis subscription lost; retrying in 1 s")
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

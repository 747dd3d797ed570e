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


class LiveMessage(dict[str, Any]):
    """One live event, the same object in every subscriber's queue, with its JSON text made
    once: a node with 500 pages open sends that one text 500 times (serialising it per page
    was the fan-out's largest cost). Subscribers read it and never change it."""

    __slots__ = ("_text",)

    def __init__(self, data: dict[str, Any], text: str | None = None) -> None:
        super().__init__(data)
        self._text = text

    @property
    def text(self) -> str:
        """The JSON text: as it came from Redis, or made on first use."""
        if self._text is None:
            self._text = json.dumps(self, ensure_ascii=False, default=str)
        return self._text


def live_text(message: dict[str, Any]) -> str:
    """What a socket sends for a queued message."""
    if isinstance(message, LiveMessage):
        return message.text
    return json.dumps(message, ensure_ascii=False, default=str)


class LiveBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    async def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self._fan_out(LiveMessage({"topic": topic, **payload}))

    def _fan_out(self, message: LiveMessage) -> None:
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
                    raw = item["data"]
                    try:
                        text = raw.decode() if isinstance(raw, bytes) else str(raw)
                        data = json.loads(text)
                        if not isinstance(data, dict):
                            raise TypeError("not an object")
                    except (ValueError, TypeError):
                        log.warning("live: skipped a malformed message on %s", CHANNEL)
                        continue
                    self._fan_out(LiveMessage(data, text))  # relayed as published, not serialised again
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: say so, wait, resubscribe
                log.exception("live: Redis subscription lost; retrying in 1 s")
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

"""Group commit: writes that arrive together share one statement and one commit.

Intake is the hot path: at a peak dozens of contacts are waiting for the database at
the same moment, and each paying its own round trip, statement and commit costs more
than the work itself. A `GroupCommit` lets them queue while a write is in flight; the
next writer to get its turn takes everything queued (up to `max_size`) and writes it as
one group. Nobody waits for a timer: alone, a write goes at once; under load, groups
grow by themselves. Each member is answered only when the group's write has returned,
i.e. after its commit (principle 1).

A failed group write is retried member by member, so a member that cannot be stored
(a constraint, an effect that raises) gets its own error and the others their results.
A write that is interrupted (the process is stopping: the writer's task is cancelled)
answers every member with `WriteInterrupted`: nobody is acknowledged, whatever the
database kept, and a sender's retry is answered idempotently.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from hotline.errors import Unavailable

T = TypeVar("T")
R = TypeVar("R")

# One result per item, in order: a value, or the exception that item alone failed with.
Write = Callable[[Sequence[T]], Awaitable[Sequence["R | Exception"]]]


class WriteInterrupted(Unavailable):
    """The group this contact was in was cut short before its commit was confirmed."""

    code = "write_interrupted"


class GroupCommit(Generic[T, R]):
    def __init__(self, write: Write[T, R], *, max_size: int = 100, concurrency: int = 1) -> None:
        self._write = write
        self.max_size = max_size
        self._turns = asyncio.Semaphore(concurrency)  # how many groups may be in flight at once
        self._queue: deque[tuple[T, asyncio.Future[R]]] = deque()
        self.groups = 0  # groups written (a count for tests and metrics, never a timing)

    async def submit(self, item: T) -> R:
        """Write `item` with whatever else is queued; its result once committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        entry = (item, future)
        self._queue.append(entry)
        try:
            while not future.done():
                async with self._turns:
                    if future.done():  # written by the group before ours
                        break
                    # One turn of the event loop: requests already parsed and on their
                    # way to intake join this group instead of waiting for the next.
                    await asyncio.sleep(0)
                    await self._run(self._take())
        except asyncio.CancelledError:
            if entry in self._queue:  # not taken yet: nobody will write it now
                self._queue.remove(entry)
            raise
        return future.result()

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        group: list[tuple[T, asyncio.Future[R]]] = []
        while self._queue and len(group) < self.max_size:
            group.append(self._queue.popleft())
        return group

    async def _run(self, group: list[tuple[T, asyncio.Future[R]]]) -> None:
        if not group:
            return
        items = [item for item, _ in group]
        try:
            results = await self._written(items)
        except BaseException:
            for _, future in group:
                if not future.done():
                    future.set_exception(WriteInterrupted("写入被中断，未确认；请重试"))
                    future.exception()  # a member that is gone too must not be reported as unread
            raise
        for (_, future), result in zip(group, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
                future.exception()
            else:
                future.set_result(result)

    async def _written(self, items: list[T]) -> Sequence[R | Exception]:
        self.groups += 1
        try:
            return await self._write(items)
        except Exception as exc:
            if len(items) == 1:
                return [exc]
        # Nothing of a failed group was kept (one statement, or one transaction): each
        # member alone now, so that only the one that cannot be stored fails.
        out: list[R | Exception] = []
        for item in items:
            self.groups += 1
            try:
                out.extend(await self._write([item]))
            except Exception as exc:
                out.append(exc)
        return out

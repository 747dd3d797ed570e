"""Outbox delivery on rq: the pump that claims messages, and the jobs that send them.

The database row is the truth; an rq job is only "send message 42, lease 3 (attempt)".

    pump (in every `hotline worker`)           rq job (any `hotline worker`)
    ------------------------------------       ---------------------------------------
    claim due rows, FOR UPDATE SKIP LOCKED  →  deliver(42, 3): still leased as attempt 3?
    (a lease: the row is ours for a while)     send, record delivered / retry / dead

Whatever dies, nothing is lost: a pump killed after claiming, a job lost in Redis, a
worker killed mid-send all leave a lease that runs out, and the next claim sends the
row again with the same delivery id. Back-off between attempts is the row's
(`next_attempt_at`, exponential with jitter); rq's own `Retry` only covers the job
failing outright (e.g. the database unreachable while recording), and its failure
callback gives the lease back early.

Job functions are importable and take ids; they run on the worker's event loop (see
`dispatch.worker`): the worker shell works its queue inside `jobs_run_on(runtime)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from rq import Callback, Queue, Retry

from hotline.tasks import RoundLog

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Sequence

    from redis import Redis
    from redis.asyncio import Redis as AsyncRedis

    from hotline.outbox import Outbox
    from hotline.ports import Hotline

log = logging.getLogger(__name__)
NUDGE_KEY = "hotline:outbox:nudge"
T = TypeVar("T")


def redis_nudger(redis: AsyncRedis) -> Callable[[], Awaitable[None]]:
    """Wake one idle pump at once (they also poll, so a lost nudge costs one interval)."""
    async def nudge() -> None:
        pipe = redis.pipeline()
        pipe.lpush(NUDGE_KEY, 1)
        pipe.ltrim(NUDGE_KEY, 0, 15)
        await pipe.execute()
    return nudge


# ---------------------------------------------------------------- the jobs' side

class Runtime(Protocol):
    """What a job needs: run a coroutine on the worker's hotline and wait for it."""

    def call(self, fn: Callable[[Hotline], Awaitable[T]], timeout: float | None = None) -> T: ...


# rq calls jobs by name, so a job finds its worker's runtime here: set for the time a
# worker (or a test) works the queue, by `jobs_run_on`, and unset again after it.
_RUNTIME: ContextVar[Runtime] = ContextVar("hotline_outbox_runtime")


@contextlib.contextmanager
def jobs_run_on(runtime: Runtime) -> Iterator[None]:
    """Outbox jobs run in this block (the worker shell's `work`) use `runtime`."""
    token = _RUNTIME.set(runtime)
    try:
        yield
    finally:
        _RUNTIME.reset(token)


def _current() -> Runtime:
    try:
        return _RUNTIME.get()
    except LookupError:
        raise RuntimeError("outbox jobs run inside `hotline worker` (dispatch.delivery.jobs_run_on)") from None


def deliver(leases: list[tuple[int, int]]) -> list[str]:
    """rq job: send leased outbox messages, given as (message id, attempt) pairs, side by
    side. A job carries a batch because rq's own cost per job (a score of Redis round
    trips) would otherwise dwarf a webhook POST. Returns delivered/retry/dead/stale each."""
    return _current().call(lambda h: h.outbox.deliver_leased([(int(i), int(a)) for i, a in leases]))


def delivery_failed(job: Any, connection: Any, exc_type: type[BaseException] | None = None,
                    exc_value: BaseException | None = None, tb: Any = None) -> None:
    """rq failure callback: the job itself broke (not the receiver); give the lease back.

    rq calls it after every failed run, also one it is about to retry; only the last gives
    the lease back (before that, the retry still holds it)."""
    if getattr(job, "retries_left", None):
        return
    (leases,) = job.args
    reason = f"delivery job failed: {exc_type.__name__ if exc_type else 'error'}: {exc_value}"
    log.error("outbox: %s (messages %s)", reason, ", ".join(str(i) for i, _ in leases))

    async def release_all(h: Hotline) -> None:
        for message_id, attempts in leases:  # those already recorded are left as they are
            await h.outbox.release(int(message_id), int(attempts), reason)

    try:
        _current().call(release_all, timeout=30)
    except Exception:  # the leases will run out on their own
        log.exception("outbox: could not release messages of a failed job")


# ---------------------------------------------------------------- the pump

class Pump:
    """Claims due outbox messages and hands each to an rq job, keeping the queue short:
    a message waiting in Redis longer than its lease would be claimed (and sent) twice."""

    def __init__(self, outbox: Outbox, queue: Queue, *, redis: AsyncRedis, max_queued: int, batch: int,
                 poll_seconds: float, job_timeout: float) -> None:
        self.outbox = outbox
        self.queue = queue
        self.redis = redis  # asyncio client, for the nudges
        self.max_queued = max_queued  # jobs waiting in Redis, at most
        self.batch = batch  # messages per job
        self.poll_seconds = poll_seconds
        self.job_timeout = job_timeout

    def _enqueue(self, leases: Sequence[tuple[int, int]]) -> None:
        chunks = [list(leases[i:i + self.batch]) for i in range(0, len(leases), self.batch)]
        jobs = [Queue.prepare_data(deliver, args=(chunk,),
                                   job_id=f"outbox-{chunk[0][0]}-{chunk[0][1]}-{len(chunk)}",
                                   timeout=int(self.job_timeout) + 1, result_ttl=0, failure_ttl=7 * 86400,
                                   retry=Retry(max=3), on_failure=Callback(delivery_failed),
                                   description=f"{len(chunk)} outbox message(s), first {chunk[0][0]}")
                for chunk in chunks]
        self.queue.enqueue_many(jobs)

    async def pump_once(self) -> int:
        """Claim and enqueue what fits; the number of messages, or -1 when the queue is full."""
        room = self.max_queued - await asyncio.to_thread(lambda: self.queue.count)
        if room <= 0:
            return -1
        claimed = await self.outbox.claim_leases(min(room * self.batch, 1000))
        if claimed:
            await asyncio.to_thread(self._enqueue, claimed)
        return len(claimed)

    async def run(self) -> None:
        rounds = RoundLog("outbox pump", log)
        while True:
            try:
                n = await self.pump_once()
                rounds.succeeded()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                rounds.failed(exc)
                n = 0
                await asyncio.sleep(self.poll_seconds)
                continue
            if n > 0:
                continue
            if n < 0:  # the workers are busy: look again soon, the queue drains quickly
                await asyncio.sleep(min(0.05, self.poll_seconds))
                continue
            try:  # idle: wait for a nudge from a web process, or the poll interval
                await self.redis.blpop([NUDGE_KEY], timeout=self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(self.poll_seconds)


def make_queue(redis: Redis, name: str) -> Queue:
    """The rq queue on the root's synchronous client (rq's connection is synchronous)."""
    return Queue(name, connection=redis)

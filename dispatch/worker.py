"""`hotline worker`: an rq worker for outbox deliveries, plus the pump and the SLA timers.

rq runs jobs synchronously in the main thread (SimpleWorker: no fork, so the database
pool and HTTP connections are reused from job to job). The hotline itself (engine,
senders, the pump and the timer loop) lives on an asyncio loop in a second thread that
this module starts, owns and stops; jobs hand their coroutine to that loop and wait.
Run as many workers, on as many machines, as the load needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING, TypeVar

from redis.exceptions import RedisError

from dispatch import delivery
from dispatch.service import DispatchService
from hotline.cli_support import Fail
from hotline.tasks import supervised

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from prometheus_client import CollectorRegistry
    from rq import Queue

    from hotline.module import OpenHotline, Running
    from hotline.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerRuntime:
    def __init__(self, settings: Settings, open_hotline: OpenHotline, *, pump: bool = True,
                 timers: bool = True) -> None:
        self.settings = settings
        self.open_hotline = open_hotline
        self.pump = pump
        self.timers = timers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hotline: Running | None = None
        self.pumper: delivery.Pump | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="hotline-worker-loop", daemon=True)

    # ------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 60) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the worker's hotline did not start in time")
        if self._error is not None:
            raise self._error

    def stop(self, timeout: float = 30) -> None:
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(), which raises it in the main thread
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self.open_hotline(self.settings) as h:
            self._hotline = h
            assert h.redis is not None and h.redis_sync is not None, "the worker needs HOTLINE_REDIS_URL"
            try:
                await asyncio.to_thread(h.redis_sync.ping)
            except RedisError as exc:
                raise unreachable(self.settings.redis.url or "", exc) from None
            svc = h.module(DispatchService)
            loops: dict[str, Callable[[], Awaitable[None]]] = {}
            d = svc.config.delivery
            self.pumper = delivery.Pump(h.outbox, delivery.make_queue(h.redis_sync, d.queue),
                                        redis=h.redis, max_queued=d.max_queued, batch=d.batch,
                                        poll_seconds=d.poll_seconds, job_timeout=d.lease_seconds)
            if self.pump:
                loops["pump"] = self.pumper.run
            if self.timers:
                loops["timers"] = svc.escalation.run
            tasks = [asyncio.create_task(supervised(name, fn), name=f"worker:{name}") for name, fn in loops.items()]
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------ for jobs
    def call(self, fn: Callable[[Running], Awaitable[T]], timeout: float | None = None) -> T:
        if self._loop is None or self._hotline is None:
            raise RuntimeError("worker runtime not started")
        h = self._hotline

        async def run() -> T:
            return await fn(h)

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()  # e.g. rq's job timeout interrupted the wait: stop the coroutine too
            raise

    def pump_once(self) -> int:
        pumper = self.pumper
        assert pumper is not None
        return self.call(lambda h: pumper.pump_once())


def run_worker(settings: Settings, open_hotline: OpenHotline, *, burst: bool = False, name: str | None = None,
               timers: bool = True, metrics_port: int | None = None) -> bool:
    """The worker shell: start the runtime, bind the jobs to it, work the queue, stop."""
    from rq import SimpleWorker

    runtime = WorkerRuntime(settings, open_hotline, timers=timers and not burst, pump=not burst)
    runtime.start()
    try:
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, registry=runtime.call(_registry))
        queue = runtime.call(_queue)
        worker = SimpleWorker([queue], connection=queue.connection, name=name)
        log.info("worker %s: queue %s, timers %s", worker.name, queue.name, "on" if timers else "off")
        with delivery.jobs_run_on(runtime):
            if not burst:
                return bool(worker.work(logging_level="WARNING"))
            # --burst: deliver what is due now, then exit (cron jobs, tests).
            worked = False
            while runtime.pump_once() != 0:  # some claimed, or the queue full: work it, then look again
                worked |= bool(worker.work(burst=True, logging_level="WARNING"))
            return worked
    finally:
        with contextlib.suppress(Exception):
            runtime.stop()


async def _registry(h: Running) -> CollectorRegistry:
    return h.metrics.registry


async def _queue(h: Running) -> Queue:
    """The rq queue, on the root's synchronous Redis client (shared with the pump's thread)."""
    assert h.redis_sync is not None
    return delivery.make_queue(h.redis_sync, h.module(DispatchService).config.delivery.queue)


def unreachable(url: str, exc: BaseException) -> Fail:
    return Fail(f"cannot reach Redis at {url.rsplit('@', maxsplit=1)[-1]}: {exc} (check HOTLINE_REDIS_URL)")

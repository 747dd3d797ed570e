"""The rq side on a real Redis: the pump hands leased messages to jobs, a SimpleWorker runs
them (burst), the failure callback gives a lease back; and `hotline worker` as a command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest
from redis import Redis
from rq import Callback, Queue, Retry, SimpleWorker
from sqlalchemy import select

from dispatch import delivery
from dispatch.worker import WorkerRuntime
from hotline.outbox import DELIVERED, PENDING, enqueue
from hotline.root import open_hotline
from hotline.storage.models import OutboxMessage
from tests.integration.dispatch_support import FAST, Receiver, dispatch_settings

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.redis


def _settings(tmp_path: Path, redis_url: str, receiver_port: int, queue: str):  # type: ignore[no-untyped-def]
    hooks = {c: f"http://127.0.0.1:{receiver_port}/hook/{c}" for c in ("scjgj", "dcs")}
    extra = {"delivery": {**FAST["delivery"], "queue": queue}}
    return dispatch_settings(tmp_path, "sqlite", None, hooks, extra, env={"HOTLINE_REDIS_URL": redis_url})


async def _migrate(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.storage.directory import sync_departments
    async with open_hotline(settings, modules=()) as h:
        await h.schema.upgrade(h.engine)
        async with h.sessions() as session, session.begin():
            await sync_departments(session, settings)


async def _add_messages(h, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    async with h.sessions() as session, session.begin():
        msgs = [enqueue(session, kind="webhook", target="scjgj", event="workorder.reminder",
                        payload={"n": i, "workorder": {"number": f"2026112600000{i}"}}, now=h.clock(),
                        ordering_key=f"test:{i % 2}") for i in range(n)]
        await session.flush()
        return [m.id for m in msgs]


async def _statuses(h) -> dict[int, str]:  # type: ignore[no-untyped-def]
    async with h.sessions() as session:
        return dict((await session.execute(select(OutboxMessage.id, OutboxMessage.status))).all())


def test_pump_jobs_and_failure_callback_on_real_redis(tmp_path, redis_url):
    queue = f"hotline-test-{uuid.uuid4().hex[:8]}"
    receiver = Receiver()
    settings = _settings(tmp_path, redis_url, receiver.bind(), queue)
    asyncio.run(_migrate(settings))
    runtime = WorkerRuntime(settings, open_hotline, pump=False, timers=False)
    runtime.start()
    try:
        runtime.call(lambda h: receiver.start())
        runtime.call(lambda h: _add_messages(h, 6))
        q = delivery.make_queue(Redis.from_url(redis_url), queue)
        # Per ordering key one at a time: two keys, so two messages per round, in one job.
        rounds = 0
        while runtime.pump_once():
            rounds += 1
            assert q.count == 1
            with delivery.jobs_run_on(runtime):
                SimpleWorker([q], connection=q.connection).work(burst=True)
        assert rounds == 3
        assert set(runtime.call(_statuses).values()) == {DELIVERED}
        got = receiver.accepted()
        assert sorted(r.doc["n"] for r in got) == list(range(6)) and all(r.valid for r in got)
        for key in (0, 1):  # in order within each key
            assert [r.doc["n"] for r in got if r.doc["n"] % 2 == key] == list(range(key, 6, 2))

        # A job that fails outright (not the receiver: e.g. the database) is retried by rq,
        # then its failure callback gives the lease back for a prompt new attempt.
        (extra,) = runtime.call(lambda h: _add_messages(h, 1))
        (claimed,) = runtime.call(lambda h: h.outbox.claim())
        assert claimed.id == extra
        failing = Queue(queue, connection=q.connection)
        job = failing.enqueue(_explode, [(claimed.id, claimed.attempts)], retry=Retry(max=1),
                              on_failure=Callback(delivery.delivery_failed))
        with delivery.jobs_run_on(runtime):
            SimpleWorker([failing], connection=q.connection).work(burst=True)
        job.refresh()
        assert job.get_status() == "failed" and job.retries_left == 0  # run twice: once more by Retry
        row = runtime.call(lambda h: _row(h, extra))
        assert row.status == PENDING and "delivery job failed: RuntimeError" in (row.last_error or "")
        # a callback for a lease that is no longer current changes nothing
        with delivery.jobs_run_on(runtime):
            delivery.delivery_failed(SimpleNamespace(args=([(extra, claimed.attempts + 5)],), retries_left=0), None,
                                     RuntimeError, RuntimeError("late"), None)
        assert "late" not in (runtime.call(lambda h: _row(h, extra)).last_error or "")
        runtime.call(lambda h: receiver.stop())
    finally:
        runtime.stop()


def _explode(leases: list[tuple[int, int]]) -> None:
    raise RuntimeError("database unreachable")


async def _row(h, message_id: int) -> OutboxMessage:  # type: ignore[no-untyped-def]
    async with h.sessions() as session:
        row = await session.get(OutboxMessage, message_id)
        assert row is not None
        return row


def _hotline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hotline", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def test_worker_command_burst(tmp_path, redis_url):
    receiver = Receiver()
    await receiver.start()
    try:
        queue = f"hotline-test-{uuid.uuid4().hex[:8]}"
        settings = _settings(tmp_path, redis_url, receiver.port, queue)
        await _migrate(settings)
        async with open_hotline(settings) as h:
            await _add_messages(h, 4)
        env = {**os.environ, **_env(tmp_path, redis_url)}
        out = await asyncio.to_thread(_hotline, "worker", "--burst", env=env)
        assert out.returncode == 0, out.stderr
        assert len(receiver.accepted()) == 4
    finally:
        await receiver.stop()


def _env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    return {"HOTLINE_CONFIG": str(tmp_path / "extra.yaml"), "HOTLINE_DATA_DIR": str(tmp_path / "var"),
            "HOTLINE_SECRET_KEY": "test-secret-key-0123456789", "HOTLINE_REDIS_URL": redis_url}


def test_dispatch_commands_answer_in_one_line(tmp_path, redis_url, monkeypatch, capsys):
    from hotline.cli import main

    queue = f"hotline-test-{uuid.uuid4().hex[:8]}"
    settings = _settings(tmp_path, redis_url, 9, queue)
    asyncio.run(_migrate(settings))
    for k, v in _env(tmp_path, redis_url).items():
        monkeypatch.setenv(k, v)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    monkeypatch.delenv("HOTLINE_REDIS_URL")
    code, _, err = run("worker")
    assert code == 1 and err.count("\n") == 1 and "HOTLINE_REDIS_URL is not set" in err
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://127.0.0.1:1/0")
    code, _, err = run("worker")
    assert code == 1 and err.startswith("hotline: cannot reach Redis") and "Traceback" not in err
    code, _, err = run("worker", "--metrics-port", "70000")
    assert code == 1 and "--metrics-port 70000 is not a port number" in err
    code, out, _ = run("outbox", "status")
    assert code == 0 and out.strip() == "outbox empty"
    code, _, err = run("outbox", "retry", "--id", "1")
    assert code == 1 and "is not a dead letter" in err
    code, out, _ = run("route", "家里停电了")
    assert code == 0 and out.startswith("派单规则第") and "关键词「停电」" in out
    code, _, err = run("route", "x", "--area", "nowhere")
    assert code == 1 and "--area 'nowhere' is not a town or village code" in err

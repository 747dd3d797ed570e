"""The hotline against the real Asterisk 22 running the project's own `dialplans/`.

Calls are Originates of `Local/<line>@from-pstn` (tests/asterisk_support.py); agents are
queue members `Local/80NN@hotline-test-agents/n` that answer and wait. Each test prints a
`figures:` line (calls made, answered, orders, overflowed, abandoned, reconnect time).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from channels.module import Channels
from hotline.domain.vocabulary import UserRole
from hotline.storage.models import Attachment, WorkOrder
from hotline.telephony.link import Backoff
from hotline.telephony.models import CallbackTask, CallRecord
from hotline.telephony.recordings import Recordings
from hotline.telephony.service import Telephony
from tests.asterisk_support import SECRET, Caller, until
from tests.conftest import login_as


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # the PBX is what is under test here; PostgreSQL runs the simulator tests


async def agents(hotline, *extensions: str) -> dict[str, int]:
    ids = {}
    async with hotline.sessions() as session, session.begin():
        for ext in extensions:
            user = await hotline.auth.add_user(session, username=f"agent{ext}", password="password-123",
                                               role=UserRole.AGENT, now=hotline.clock(), extension=ext)
            ids[ext] = user.id
    return ids


@contextlib.asynccontextmanager
async def telephony_on(hotline, pbx, *, wait: bool = True):
    tel = hotline.module(Telephony)
    task = asyncio.create_task(tel._serve("127.0.0.1", pbx.ami_port, "hotline", SECRET))
    try:
        if wait:
            await until(lambda: tel.leading and tel.consumer.resyncs > 0, limit=30)
        yield tel
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def rows(hotline, model):
    async with hotline.sessions() as session:
        return (await session.execute(select(model))).scalars().all()


def calls_total(hotline, outcome: str) -> float:
    return hotline.metrics.calls.labels(outcome)._value.get()


async def test_calls_connected_before_login_open_their_draft(hotline, real_asterisk):
    """Item 1: calls answered while the hotline was away get their draft at resync, with the
    caller, the line, the legacy line (a channel variable) and the agent; once only."""
    pbx = real_asterisk(agents=("8001", "8002", "8003"))
    pbx.start()
    ids = await agents(hotline, "8001", "8002", "8003")
    async with Caller(pbx) as caller:
        await caller.call("13800138001")
        await caller.call("13800138002", line="12331")
        await caller.call("13800138003", line="12315")
        await until(lambda: _bridged(caller, 6), limit=20)
        async with telephony_on(hotline, pbx) as tel:
            await tel.consumer.drained()
            orders = await rows(hotline, WorkOrder)
            assert len(orders) == 3
            # A second resync (a reconnect) opens nothing new: idempotent on the Linkedid.
            await tel.consumer.resync()
            await tel.consumer.drained()
            assert len(await rows(hotline, WorkOrder)) == 3
            await caller.hangup_all()
            await until(lambda: not tel.tracker.calls, limit=20)
            await tel.consumer.drained()
    records = {r.caller: r for r in await rows(hotline, CallRecord)}
    orders = {o.id: o for o in await rows(hotline, WorkOrder)}
    assert set(records) == {"13800138001", "13800138002", "13800138003"}
    for r in records.values():
        assert r.outcome == "answered" and r.work_order_id is not None, r
        order = orders[r.work_order_id]
        assert (order.status, order.call_id, order.contact_phone) == ("draft", r.linkedid, r.caller)
        assert r.agent_extension in ids and r.agent_id == ids[r.agent_extension]
        assert order.legacy_line == r.legacy_line
    assert (records["13800138002"].legacy_line, records["13800138003"].legacy_line) == ("12331", "12315")
    assert records["13800138001"].legacy_line is None
    assert {r.line for r in records.values()} == {"12345", "12331", "12315"}
    print(f"figures: item 1: calls 3, answered {len(records)}, orders {len(orders)}")


async def _bridged(caller: Caller, n: int) -> bool:
    return sum(1 for c in await caller.channels() if c.get("BridgeId")) >= n


async def test_login_during_asterisk_start_waits_for_fully_booted(hotline, real_asterisk, tmp_path):
    """Item 2: the hotline logs in while Asterisk still loads modules (QueueStatus unknown yet):
    it waits for FullyBooted / retries, the link counts as up, a call killed with the old
    Asterisk is no phantom."""
    pbx = real_asterisk(autoload=True)
    pbx.start()
    async with Caller(pbx) as caller:
        await caller.call("13900139001")
        async with telephony_on(hotline, pbx) as tel:
            tel.consumer.link.backoff = Backoff(first=0.02, cap=0.05)  # log in the moment AMI answers
            await until(lambda: tel.tracker.calls and next(iter(tel.tracker.calls.values())).answered_at)
            os.kill(pbx.run.pid, signal.SIGKILL)  # gone without a Shutdown: the call dies with it
            await until(lambda: hotline.metrics.ami_connected._value.get() == 0, limit=20)
            assert tel.tracker.calls  # nothing said the call ended
            began = time.monotonic()
            # In a thread: the loop (and the link's reconnects) runs while Asterisk loads modules.
            starting = asyncio.create_task(asyncio.to_thread(pbx.start))
            await until(lambda: hotline.metrics.ami_connected._value.get() == 1, limit=30)
            reconnect = time.monotonic() - began
            assert not tel.tracker.calls  # no phantom
            await starting
            await tel.consumer.drained()
            resyncs = tel.consumer.resyncs
    records = await rows(hotline, CallRecord)
    assert [(r.caller, r.outcome, r.data["unseen_end"]) for r in records] == [("13900139001", "answered", True)]
    print(f"figures: item 2: reconnect {reconnect:.2f} s after the restart began, resyncs {resyncs}")


async def test_overflow_and_abandon_are_told_apart(hotline, real_asterisk):
    """Item 3: Asterisk 22 sends QueueCallerAbandon on a queue timeout too; HOTLINE_OVERFLOW
    tells them apart; both counted, each with the right callback reason."""
    pbx = real_asterisk(queue_timeout=1, overflow_timeout=1)
    pbx.start()
    async with Caller(pbx) as caller, telephony_on(hotline, pbx) as tel:
        for a in ("8001", "8002"):
            await caller.pause(a)
        await caller.call("13700137001", patience=30)  # waits: the queue and the overflow queue time out
        await caller.call("13700137002", patience=1)  # hangs up while waiting
        await until(lambda: calls_total(hotline, "overflowed") + calls_total(hotline, "abandoned") >= 2, limit=30)
        await tel.consumer.drained()
    records = {r.caller: r for r in await rows(hotline, CallRecord)}
    tasks = {t.phone: t for t in await rows(hotline, CallbackTask)}
    assert records["13700137001"].outcome == "overflowed"
    assert records["13700137002"].outcome == "abandoned"
    assert tasks["13700137001"].reason == "overflowed" and tasks["13700137002"].reason == "abandoned"
    assert (calls_total(hotline, "overflowed"), calls_total(hotline, "abandoned")) == (1, 1)
    print("figures: item 3: calls 2, answered 0, overflowed 1, abandoned 1")


def fax_tiff(path) -> None:
    page = Image.new("1", (1728, 1100), 1)  # a fax page: 1728 dots wide, standard resolution
    ImageDraw.Draw(page).text((200, 200), "QINGSHAN 12345 FAX", fill=0)
    page.save(path, "TIFF", compression="group4", dpi=(204, 98))


async def test_a_fax_call_is_a_fax_not_a_missed_call(hotline, real_asterisk, tmp_path):
    """Item 4: a real SendFAX → the dialplan's ReceiveFAX: the spool folder is created, the
    sidecar names the sender, the hotline takes the file only once the call has ended (even
    with a short orphan_after_seconds, while spandsp has written only the TIFF header), the
    call is recorded as a fax with no callback task."""
    pbx = real_asterisk()
    assert not pbx.fax_spool.exists()
    pbx.start()
    fax = hotline.module(Channels).fax
    fax.spool = pbx.fax_spool
    fax.cfg = fax.cfg.model_copy(update={"orphan_after_seconds": 1})
    fax.clock = lambda: datetime.now(UTC)  # the files' mtimes are real time
    fax_tiff(tmp_path / "send.tif")
    async with Caller(pbx) as caller, telephony_on(hotline, pbx) as tel:
        await caller.call("057188001234", line="123458", app="SendFAX", data=str(tmp_path / "send.tif"))
        await until(lambda: list(pbx.fax_spool.glob("*.tif")), limit=30)
        tif = next(pbx.fax_spool.glob("*.tif"))
        scans = taken = 0
        while tif.exists() and not tif.with_suffix(".json").exists():  # on the line: scan as the loop would
            await asyncio.sleep(0.5)
            with contextlib.suppress(FileNotFoundError):
                if time.time() - tif.stat().st_mtime > 1 and not tif.with_suffix(".json").exists():
                    taken += await fax.scan_spool()
                    scans += 1
        await until(lambda: _no_channels(caller), limit=30)
        taken += await fax.scan_spool()
        assert taken == 1
        await until(lambda: calls_total(hotline, "fax") == 1, limit=10)
        await tel.consumer.drained()
    assert scans > 0  # the scan did run mid-reception
    assert not list((hotline.settings.data_dir / "fax-quarantine").glob("*"))  # nothing half-written taken
    assert not list(pbx.fax_spool.iterdir())
    orders = await rows(hotline, WorkOrder)
    assert [(o.channel, o.title) for o in orders] == [("fax", "传真来件（1 页）")]
    assert "88001234" in (orders[0].contact_phone or "")
    records = await rows(hotline, CallRecord)
    assert [(r.caller, r.outcome, r.callback_task_id) for r in records] == [("057188001234", "fax", None)]
    assert await rows(hotline, CallbackTask) == []
    assert calls_total(hotline, "abandoned") == 0
    print(f"figures: item 4: fax calls 1, fax orders {len(orders)}, abandoned 0, callbacks 0, mid-call scans {scans}")


async def _no_channels(caller: Caller) -> bool:
    return not await caller.channels()


async def test_recordings_are_copied_with_their_size_and_served_with_ranges(hotline, real_asterisk, client):
    """Item 6: MixMonitor's file from the real Asterisk is copied into the hotline's storage when
    the call ends; the order gets it with its real size (no 0-byte placeholder at draft time);
    agents and supervisors play it with range requests."""
    pbx = real_asterisk(agent_talk=2)
    pbx.start()
    agent = await login_as(hotline, client, "agent")
    async with Caller(pbx) as caller, telephony_on(hotline, pbx) as tel:
        tel.desk.recordings = Recordings(tel.config.recordings, str(pbx.recordings), hotline.settings.data_dir)
        await caller.call("13300133001", patience=4)
        await until(lambda: tel.tracker.calls and next(iter(tel.tracker.calls.values())).answered_at, limit=20)
        await tel.consumer.drained()
        assert [a.size for a in await rows(hotline, Attachment)] == []  # nothing attached before the end
        await until(lambda: not tel.tracker.calls, limit=30)
        await tel.consumer.drained()
    (record,) = await rows(hotline, CallRecord)
    (att,) = await rows(hotline, Attachment)
    original = pbx.recordings / record.recording.rsplit("/", 1)[-1]
    assert record.recording == str(original) and att.work_order_id == record.work_order_id
    assert att.kind == "recording" and att.size == original.stat().st_size > 1000
    stored = hotline.settings.data_dir / att.location
    assert stored.read_bytes() == original.read_bytes()
    assert record.data["recording_file"]["size"] == att.size
    url = f"/api/v1/telephony/calls/{record.linkedid}/recording"
    async with client.get(url, headers={**agent.headers, "Range": "bytes=0-3"}) as r:
        assert (r.status, await r.read()) == (206, b"RIFF")
        assert r.headers["Content-Range"] == f"bytes 0-3/{att.size}"
    async with client.get(url, headers=agent.headers) as r:
        assert r.status == 200 and int(r.headers["Content-Length"]) == att.size
    client.session.cookie_jar.clear()  # the login's session cookie
    async with client.get(url) as r:
        assert r.status == 401
    status, body = await agent.get("/api/v1/telephony/calls/1.2/recording")
    assert status == 404 and body["code"] == "recording_not_found"


async def test_the_ivr_survey_on_the_real_asterisk_rates_the_order_of_that_call(hotline, real_asterisk,
                                                                                  prompts_dir, client, clock):
    """Issue 12: the agent hangs up, the caller is in the project's `[survey]` (Read of one
    digit), presses 4 (DTMF received on the dialplan half of the caller's Local channel), the
    dialplan raises `UserEvent HotlineSurvey` with `Rating: 4`: the call's record has it, and
    the call's order, answered directly by the agent, is rated 4 by the citizen through the IVR.
    The agent's wrap-up after the call (the desk's wrap-up pause) is on the record too."""
    pbx = real_asterisk(agents=("8001",), agent_talk=2, sounds=prompts_dir)
    pbx.start()
    await agents(hotline, "8001")
    async with Caller(pbx) as caller, telephony_on(hotline, pbx) as tel:
        await caller.call("13500135001", patience=60)

        async def in_survey() -> str | None:
            for c in await caller.channels():
                if c.get("Context") == "survey" and c.get("Application") == "Read":
                    return str(c["Channel"])
            return None

        await until(in_survey, limit=30)
        await caller.key(await in_survey() or "", "4")
        await until(lambda: not tel.tracker.calls, limit=30)
        await until(_survey_recorded(hotline), limit=20)
        # 话后处理 as the desk does it: paused with the wrap-up reason after the call, then ready
        # again; the tracker tells it from Asterisk's QueueMemberPause events, onto the record.
        await caller.pause("8001", True, "话后处理")
        await until(lambda: tel.tracker.agents["8001"].wrap_seen, limit=10)
        clock.advance(seconds=25)  # the hotline's clock: 25 s of wrap-up after the hang-up
        await caller.pause("8001", False)
        await until(_wrapped_up(hotline), limit=30)
        await tel.consumer.drained()
    (record,) = await rows(hotline, CallRecord)
    assert (record.caller, record.outcome, record.rating) == ("13500135001", "answered", 4)
    assert record.data["wrapup_seconds"] == 25
    order = next(o for o in await rows(hotline, WorkOrder) if o.id == record.work_order_id)
    assert order.status == "draft" and order.rating is None  # still being taken: the rating waits on the record
    agent = await login_as(hotline, client, "agent")
    status, out = await agent.post(f"/api/v1/workorders/{order.number}/update", json={"category": "inquiry"})
    assert status == 200, out
    status, out = await agent.post(f"/api/v1/workorders/{order.number}/resolve", json={"answer": "已告知"})
    assert status == 200, out
    status, detail = await agent.get(f"/api/v1/workorders/{order.number}")
    rated = [e for e in detail["events"] if e["kind"] == "rated"]
    assert [(e["data"]["level"], e["data"]["source"], e["actor_kind"]) for e in rated] == [(4, "ivr", "citizen")]
    assert detail["rating"] == 4
    print("figures: survey: calls 1, answered 1, rated 4 through the IVR")


def _wrapped_up(hotline):
    async def check() -> bool:
        return any(r.data.get("wrapup_seconds") is not None for r in await rows(hotline, CallRecord))
    return check


def _survey_recorded(hotline):
    async def check() -> bool:
        return any(r.rating is not None for r in await rows(hotline, CallRecord))
    return check

"""A real Asterisk 22 for the tests, running the project's own `dialplans/`.

`../shared/asterisk/asterisk` (relative to the repository root, or `HOTLINE_ASTERISK`) starts
a relocatable Asterisk from a temporary run folder. `RealAsterisk.prepare` copies `dialplans/`
into a temporary etc folder on free ports (`hotline.telephony.trial`, which `hotline dialplan
check --asterisk` uses too) and adds what a test needs:

- queue members `Local/80NN@hotline-test-agents/n`: a Local channel into a context that
  answers and waits, the simplest real way to have a queue call answered (a supervisor's
  phone `Local/81NN@hotline-test-agents/n` too); department experts the same way in
  `hotline-test-experts`, since the test Asterisk has no trunk to their numbers;
- recording and fax folders under the test's tmp folder, short queue timeouts when asked,
  and never "after hours" whatever the hour of the machine.

Without `../shared/asterisk` the tests skip with the reason, unless `CI` is set: then they
fail, as they do when Asterisk cannot start.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hotline.telephony.link import AmiLink, PbxError
from hotline.telephony.trial import AsteriskRun, Ports, TrialError, prepare_etc

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(os.environ.get("HOTLINE_ASTERISK") or REPO.parent / "shared" / "asterisk" / "asterisk")
IN_CI = bool(os.environ.get("CI"))
SECRET = "real-asterisk-secret"
AGENT_CONTEXT = "hotline-test-agents"
EXPERT_CONTEXT = "hotline-test-experts"  # a department's expert who answers (三方通话), instead of the trunk


@functools.cache
def _check() -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), "check"], capture_output=True, text=True, check=False)


def require_asterisk() -> Path:
    """The script's path; skip (fail in CI) when it is absent or cannot run here."""
    if not SCRIPT.exists():
        msg = f"the real Asterisk is not here ({SCRIPT}): see ../shared/asterisk/README.md"
        if IN_CI:
            pytest.fail(f"{msg}; CI must provide it")
        pytest.skip(msg)
    r = _check()  # ldd over 293 modules: once per run
    if r.returncode:
        msg = f"the packaged Asterisk cannot run on this machine:\n{r.stdout}{r.stderr}"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return SCRIPT


@dataclass
class RealAsterisk:
    """One Asterisk: the project's dialplans rewritten into `root/etc`, run from `root/run`."""

    root: Path
    agents: tuple[str, ...] = ("8001", "8002")
    queue_timeout: int = 120
    overflow_timeout: int = 60
    agent_talk: int = 3600  # what an agent's Local channel waits before hanging up
    ports: Ports = field(default_factory=Ports)
    tls: tuple[Path, Path] | None = None
    sounds: Path | None = None
    # autoload = yes loads ~290 modules (2-3 s): the slow start of the issue, when AMI accepts
    # logins long before app_queue knows QueueStatus.
    autoload: bool = False

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def ami_port(self) -> int:
        return self.ports.ami

    @property
    def recordings(self) -> Path:
        return self.root / "monitor"

    @property
    def fax_spool(self) -> Path:
        return self.root / "fax"

    def prepare(self, dialplans: Path = REPO / "dialplans") -> RealAsterisk:
        prepare_etc(dialplans, self.etc, ports=self.ports, secret=SECRET, tls=self.tls, globals_={
            "RECORDINGS": str(self.recordings), "FAX_SPOOL": str(self.fax_spool),
            "QUEUE_TIMEOUT": str(self.queue_timeout), "OVERFLOW_TIMEOUT": str(self.overflow_timeout),
            "AFTER_HOURS": ""})
        members = "".join(f"member => Local/{a}@{AGENT_CONTEXT}/n,0,Agent {a}\n" for a in self.agents)
        queues = self.etc / "hotline-queues.conf"
        queues.write_text(queues.read_text(encoding="utf-8").replace(
            "[hotline-12345](hotline-common)\n", f"[hotline-12345](hotline-common)\n{members}"), encoding="utf-8")
        # The agent answers and speaks (a 1004 Hz tone, so MixMonitor has audio to record),
        # then hangs up after agent_talk seconds.
        with (self.etc / "extensions.conf").open("a", encoding="utf-8") as f:
            f.write(f"\n; ---- test agents (tests/asterisk_support.py)\n[{AGENT_CONTEXT}]\n"
                    f"exten => _8XXX,1,Answer()\n same => n,Set(TIMEOUT(absolute)={self.agent_talk})\n"
                    " same => n,Milliwatt(m)\n same => n,Hangup()\n"
                    f"[{EXPERT_CONTEXT}]\nexten => _X.,1,Answer()\n same => n,Set(TIMEOUT(absolute)={self.agent_talk})\n"
                    " same => n,Milliwatt(m)\n same => n,Hangup()\n")
        if self.autoload:
            (self.etc / "modules.conf").write_text("[modules]\nautoload = yes\n", encoding="utf-8")
        with (self.etc / "modules.conf").open("a", encoding="utf-8") as f:
            f.write("; ---- the test agents' tone and timeout, the test citizens' keypresses (PlayDTMF)\n"
                    "load => app_milliwatt.so\nload => func_timeout.so\nload => app_senddtmf.so\n")
        self.recordings.mkdir(parents=True, exist_ok=True)
        data = None
        if self.sounds is not None:
            from hotline.telephony.trial import data_dir
            data = data_dir(self.sounds, self.root / "data", SCRIPT)
        self.run = AsteriskRun(SCRIPT, self.etc, self.root / "run", data=data)
        return self

    def start(self) -> int:
        require_asterisk()
        try:
            return self.run.start()
        except TrialError as exc:
            pytest.fail(f"the real Asterisk did not start:\n{exc}")

    def stop(self) -> None:
        self.run.stop()

    def cli(self, command: str) -> str:
        return self.run.cli(command)

    def problems(self) -> list[str]:
        return self.run.problems()

    def link(self, **kw: Any) -> AmiLink:
        return AmiLink("127.0.0.1", self.ports.ami, "hotline", SECRET, **kw)


class Caller:
    """Places citizens' calls over an action-only AMI session (Originate of Local channels).

    `Local/<number>@from-pstn` runs the project's dialplan as a carrier call would; its other
    half runs `Wait(patience)`, so the citizen hangs up after `patience` seconds.
    """

    def __init__(self, pbx: RealAsterisk) -> None:
        self.pbx = pbx
        self.link = pbx.link(events=False, name="test-caller")
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Caller:
        self._task = asyncio.create_task(self.link.run())
        await until(lambda: self.link.up, limit=20)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.link.close()

    async def call(self, caller: str, *, line: str = "12345", patience: int = 3600, app: str = "Wait",
                   data: str | None = None) -> None:
        await self.link.send({"Action": "Originate", "Channel": f"Local/{line}@from-pstn", "Application": app,
                              "Data": data if data is not None else str(patience),
                              "CallerID": f'"{caller}" <{caller}>', "Async": "true"})

    async def pause(self, agent: str, paused: bool = True, reason: str = "test") -> None:
        await self.link.send({"Action": "QueuePause", "Interface": f"Local/{agent}@{AGENT_CONTEXT}/n",
                              "Paused": "true" if paused else "false", "Reason": reason})

    async def key(self, channel: str, digit: str) -> None:
        """The citizen presses a key: DTMF *received* on `channel` (PlayDTMF with Receive), the
        dialplan half (`;2`) of the caller's Local channel, so the digit reaches its Read().
        Without Receive, PlayDTMF sends the digit *out* of that half, towards the `;1` half
        running Wait(): Read() never hears it (the last session's attempt). PlayDTMF is
        app_senddtmf's, which the production modules.conf does not load; `prepare` adds it."""
        await self.link.send({"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Duration": "250",
                              "Receive": "true"})

    async def channels(self) -> list[Any]:
        reply = await self.link.send({"Action": "CoreShowChannels"}, as_list=True)
        return [m for m in reply[1:] if m.get("Event") == "CoreShowChannel"]

    async def hangup_all(self) -> None:
        for ch in await self.channels():
            with contextlib.suppress(PbxError):  # gone with its other half already
                await self.link.send({"Action": "Hangup", "Channel": ch["Channel"]})


async def until(check: Any, limit: float = 30.0, step: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while loop.time() < end:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(step)
    raise AssertionError(f"condition not met in {limit} s: {getattr(check, '__code__', check)}")

"""Replaying the recorded Asterisk 22 sessions (tests/fixtures/ami-traces/) byte for byte.

Each `.ami` file is what a real Asterisk sent; its `.client.jsonl` side-car says when
each read arrived (`t`, `offset`, `len`). `replay` feeds the reads, in those sizes, to
the hotline's AMI protocol (panoramisk underneath) and hands every dispatched message,
with its arrival time, to `on_message`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

from hotline.telephony.protocol import AmiProtocol

if TYPE_CHECKING:
    from collections.abc import Callable

TRACES = Path(__file__).resolve().parent / "fixtures" / "ami-traces"
T0 = datetime(2026, 11, 26, 12, 20, tzinfo=UTC)
SCENARIOS = ["answered", "abandoned", "legacy", "agent-ops", "ringnoanswer", "transfer", "blindtransfer",
             "login-failed", "reconnect", "reconnect-after-restart"]


@dataclass
class Read:
    t: float
    data: bytes


def reads(name: str) -> list[Read]:
    raw = (TRACES / f"{name}.ami").read_bytes()
    out = []
    for line in (TRACES / f"{name}.client.jsonl").read_text().splitlines():
        item = json.loads(line)
        if item.get("dir") == "rx":
            out.append(Read(item["t"], raw[item["offset"]:item["offset"] + item["len"]]))
    assert b"".join(r.data for r in out) == raw, f"{name}: side-car reads do not cover the file"
    return out


class Sink:
    """Stands where the connection would: panoramisk calls `dispatch` for every event."""

    def __init__(self, on_message: Callable[[Any, datetime], None]) -> None:
        self.on_message = on_message
        self.now = T0
        self.lost: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.on_message(message, self.now)

    def connection_lost(self, exc: Any) -> None:
        self.lost.append(exc)


def replay(name: str, on_message: Callable[[Any, datetime], None]) -> tuple[AmiProtocol, Sink]:
    sink = Sink(on_message)
    proto = AmiProtocol()
    proto.connection_made(mock.MagicMock())
    proto.factory = sink
    for r in reads(name):
        sink.now = T0 + timedelta(seconds=r.t)
        proto.data_received(r.data)
    return proto, sink


def frames(name: str) -> list[dict[str, Any]]:
    """Every frame of a trace as a header dict (first value wins; banner dropped);
    `__headers__` keeps the header names in order."""
    return parse_frames((TRACES / f"{name}.ami").read_bytes())


def parse_frames(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for chunk in raw.split(b"\r\n\r\n"):
        lines = [x for x in chunk.decode().split("\r\n") if x]
        if lines and lines[0].startswith("Asterisk Call Manager/"):
            lines = lines[1:]
        if lines:
            d: dict[str, Any] = {}
            for x in lines:
                k, _, v = x.partition(": ")
                d.setdefault(k, v)
            d["__headers__"] = [x.partition(": ")[0] for x in lines]
            out.append(d)
    return out

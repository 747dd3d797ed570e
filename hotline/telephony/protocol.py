"""AMI framing on top of panoramisk's protocol, hardened for what a network sends.

panoramisk's `AMIProtocol` does the parsing (`Message.from_line`) and ties responses to
actions by ActionID; this subclass changes three things about how bytes become frames:

* it buffers *bytes* and decodes whole frames, so a multi-byte UTF-8 character split
  across two reads (a Chinese CallerIDName) is not dropped as panoramisk's per-read
  `decode(..., 'ignore')` would;
* a frame that cannot be parsed or handled is logged and skipped: one garbled frame
  never closes the connection (an exception in `data_received` would);
* a frame larger than `MAX_FRAME` is dropped up to its end, so a peer sending endless
  bytes without a blank line cannot make the buffer grow without bound.

And on close it fails the actions still waiting for an answer (panoramisk would queue
them to be sent again after the reconnect: a pause or a transfer replayed minutes
later is worse than an error the agent sees now).
"""

from __future__ import annotations

import logging
from typing import Any

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

log = logging.getLogger(__name__)

SEP = b"\r\n\r\n"
BANNER = b"Asterisk Call Manager/"
MAX_FRAME = 256 * 1024


class AmiLinkDown(ConnectionError):
    """The AMI connection closed before the action was answered."""


class ListAction(Action):
    """A list action (CoreShowChannels, QueueStatus …) that also ends on a refusal:
    panoramisk would wait for list items after a `Response: Error` that has none."""

    def __init__(self, action: dict[str, Any]) -> None:
        super().__init__(action, as_list=True)

    def add_message(self, message: Message) -> bool | None:
        if not self.responses and message.get("Response") == "Error":
            self.responses.append(message)
            if not self.future.done():
                self.future.set_result([message])
            return True
        return super().add_message(message)


class AmiProtocol(AMIProtocol):
    version: str | None
    closed: bool

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.encoding = "utf-8"  # panoramisk writes actions as ASCII: a Chinese pause reason would fail
        self._buf = b""
        self._skipping = False  # inside an oversized frame: drop bytes until its end
        self.skipped = 0  # frames dropped (malformed, oversized, or failing to dispatch)

    def data_received(self, data: bytes) -> None:
        buf = self._buf + data
        if self.version is None and buf.startswith(BANNER):
            line, sep, rest = buf.partition(b"\r\n")
            if not sep:
                self._buf = buf
                return
            self.version = line[len(BANNER):].decode("ascii", "replace").strip()
            buf = rest
        frames = buf.split(SEP)
        self._buf = frames.pop()
        if self._skipping and frames:
            frames.pop(0)  # the tail of the oversized frame
            self._skipping = False
        for raw in frames:
            self._frame(raw)
        if len(self._buf) > MAX_FRAME:
            log.warning("AMI: dropped a frame over %d bytes", MAX_FRAME)
            self.skipped += 1
            self._buf, self._skipping = b"", True

    def _frame(self, raw: bytes) -> None:
        try:
            message = Message.from_line(raw.decode("utf-8", "replace").strip())
        except Exception:  # a frame panoramisk cannot split: skip it, keep the link
            self.skipped += 1
            log.warning("AMI: skipped an unparsable frame: %r", raw[:200])
            return
        if message is None:
            if raw.strip():
                self.skipped += 1
                log.debug("AMI: skipped a frame with neither Event nor Response: %r", raw[:200])
            return
        try:
            self.handle_message(message)
        except Exception:
            self.skipped += 1
            log.exception("AMI: skipped a frame that could not be handled: %r", raw[:200])

    def close(self) -> None:
        pending = {id(a): a for a in self.responses.values()}
        self.responses.clear()
        for action in pending.values():
            if not action.future.done():
                action.future.set_exception(AmiLinkDown("AMI connection closed"))
        if not self.closed:
            try:
                self.transport.close()
            finally:
                self.closed = True

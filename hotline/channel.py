"""The channel port (docs/architecture.md, principle 4): the one small interface every
intake channel's adapter implements, whatever its vendor.

    inbound = await port.verify(raw)                   # genuine? then parsed: the adapter's own
                                                       #   typed inbound; vendor objects stop here
    outcome = await port.receive(inbound)              # through intake: committed when it returns
    answer = port.acknowledge(raw, inbound, outcome)   # only now is the sender answered

`answer(port, raw)` runs the three in that order, so no adapter can acknowledge before the
commit (principle 1); `handler(port)` is the same as an aiohttp handler, for channels
whose raw input is the request itself. A channel that also tells the citizen later
(SMS, WeChat) is a `NotifyingChannel`: it delivers the outbox messages of its kind.
Vendor errors are translated at the adapter's edge into the hotline's own.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol, TypeVar

from hotline.storage.engine import database_unavailable

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web

    from hotline.storage.models import OutboxMessage

RawT_contra = TypeVar("RawT_contra", contravariant=True)
InT = TypeVar("InT")
OutT = TypeVar("OutT")
R = TypeVar("R")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741


class ChannelPort(Protocol[RawT_contra, InT, OutT]):
    async def verify(self, raw: RawT_contra) -> InT:
        """Check the signature, key or token, and parse; raise a `HotlineError` (403, 400 ...)
        and store nothing when it does not check out."""
        ...

    async def receive(self, inbound: InT) -> OutT:
        """Hand the contact to intake; what it returns has been committed."""
        ...

    def acknowledge(self, raw: RawT_contra, inbound: InT, outcome: OutT) -> web.StreamResponse:
        """The answer the sender expects (TwiML, WeChat XML, JSON, a page)."""
        ...


class NotifyingChannel(ChannelPort[RawT_contra, InT, OutT], Protocol):
    """A channel that also notifies the citizen later, through the outbox."""

    @property
    def can_send(self) -> bool:
        """Configured to send (credentials present)."""
        ...

    async def send(self, message: OutboxMessage) -> None:
        """Deliver one outbox message of this channel's kind (`hotline.outbox.Sender`)."""
        ...


async def answer(port: ChannelPort[R, I, O], raw: R, *, hold: float = 0.0) -> web.StreamResponse:
    """verify → receive → acknowledge. `hold`: while the database is unavailable, retry
    `receive` for up to that many seconds before letting the 503 through — for a sender
    that retries only a server that stays silent (WeChat: no answer within 5 s)."""
    inbound = await port.verify(raw)
    loop = asyncio.get_running_loop()
    deadline, delay = loop.time() + hold, 0.2
    while True:
        try:
            outcome = await port.receive(inbound)
            break
        except Exception as exc:
            if not database_unavailable(exc) or loop.time() + delay > deadline:
                raise
        await asyncio.sleep(delay)  # back-off while the database comes back
        delay = min(delay * 2, 1.6)
    return port.acknowledge(raw, inbound, outcome)


def handler(port: ChannelPort[web.Request, I, O], *, hold: float = 0.0
            ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await answer(port, request, hold=hold)
    return handle

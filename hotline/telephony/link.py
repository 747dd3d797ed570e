"""One AMI session kept alive: connect, log in, resync, reconnect with backoff.

`AmiLink.run()` is a loop owned by the caller (a background task): it connects, logs
in, calls `on_up` (the resync), pings to notice a dead peer, and after any loss waits
a growing, jittered delay before trying again. Actions go through `send`, which turns
every way an action can fail into a `PbxError` with a stable code.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import TYPE_CHECKING, Any

from hotline.errors import HotlineError
from hotline.telephony.protocol import AmiLinkDown, AmiProtocol, ListAction

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from panoramisk.message import Message

log = logging.getLogger(__name__)


class PbxError(HotlineError):
    """The PBX refused an action (AMI `Response: Error`)."""

    code = "pbx_refused"
    status = 502
    title = "交换机拒绝了该操作"
    title_en = "The PBX refused the action"


class PbxUnavailable(PbxError):
    code = "pbx_unavailable"
    status = 503
    title = "交换机未连接，请稍后重试"
    title_en = "The PBX is not connected, retry later"


class PbxTimeout(PbxError):
    code = "pbx_timeout"
    status = 504
    title = "交换机未及时响应"
    title_en = "The PBX did not answer in time"


class LoginRefused(Exception):
    pass


class Backoff:
    """0.5 s, 1 s, 2 s … up to `cap`, each ±25 %: many nodes do not reconnect in step."""

    def __init__(self, first: float = 0.5, cap: float = 30.0, rng: random.Random | None = None) -> None:
        self.first, self.cap, self.attempt = first, cap, 0
        self.rng = rng or random.Random()

    def next(self) -> float:
        delay = min(self.cap, self.first * 2 ** self.attempt)
        self.attempt += 1
        return delay * self.rng.uniform(0.75, 1.25)

    def reset(self) -> None:
        self.attempt = 0


class AmiLink:
    def __init__(self, host: str, port: int, user: str, secret: str, *, events: bool = True,
                 on_message: Callable[[Message], None] | None = None,
                 on_up: Callable[[], Awaitable[None]] | None = None,
                 on_down: Callable[[], None] | None = None,
                 backoff: Backoff | None = None, timeout: float = 5.0, ping_every: float = 20.0,
                 name: str = "ami") -> None:
        self.host, self.port, self.user, self.secret = host, port, user, secret
        self.events = events
        self.on_message = on_message or (lambda m: None)
        self.on_up = on_up
        self.on_down = on_down or (lambda: None)
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.ping_every = ping_every
        self.name = name
        self.protocol: AmiProtocol | None = None
        self.up = False  # logged in and usable
        self.sessions = 0  # successful logins, for tests and logs
        self._lost: asyncio.Event | None = None
        # Set by this session's FullyBooted: Asterisk accepts logins while it still loads
        # modules (0.3 s after launch), when QueueStatus is not yet a known command.
        self.booted = asyncio.Event()

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    # ------------------------------------------------------------ panoramisk's factory interface
    def dispatch(self, message: Message) -> None:
        if message.get("Event") == "FullyBooted":
            self.booted.set()
        if self.events:
            self.on_message(message)

    def connection_lost(self, exc: Any) -> None:
        if self._lost is not None:
            self._lost.set()

    # ------------------------------------------------------------ the loop
    async def run(self) -> None:
        """Until cancelled: stay connected."""
        while True:
            try:
                await self._session()
                reason = "connection lost"
            except LoginRefused as exc:
                reason = f"login refused ({exc}); check HOTLINE_AMI_USER / HOTLINE_AMI_SECRET"
                self.backoff.attempt = max(self.backoff.attempt, 5)  # do not hammer a wrong password
            except (OSError, TimeoutError, AmiLinkDown) as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            delay = self.backoff.next()
            log.warning("%s: AMI %s: %s; reconnecting in %.1f s", self.name, self.where, reason, delay)
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        loop = asyncio.get_running_loop()
        self._lost = lost = asyncio.Event()
        self.booted = asyncio.Event()
        # asyncio.timeout, never wait_for: on Python 3.11 wait_for can swallow a cancel that
        # arrives as the awaited result does, and a cancelled link would then live on.
        async with asyncio.timeout(self.timeout):
            _, protocol = await loop.create_connection(AmiProtocol, self.host, self.port)
        protocol.factory = self
        pinger: asyncio.Task[None] | None = None
        try:
            reply = await self._await(protocol.send({"Action": "Login", "Username": self.user,
                                                     "Secret": self.secret,
                                                     "Events": "on" if self.events else "off"}))
            if not reply.success:
                raise LoginRefused(reply.get("Message") or reply.get("Response") or "refused")
            self.protocol, self.up = protocol, True
            self.sessions += 1
            self.backoff.reset()
            log.info("%s: AMI %s logged in as %s (events %s)", self.name, self.where, self.user,
                     "on" if self.events else "off")
            pinger = asyncio.create_task(self._ping(protocol), name=f"{self.name}:ping")
            if self.on_up is not None:
                await self.on_up()
            await lost.wait()
        finally:
            was_up, self.up, self.protocol = self.up, False, None
            if pinger is not None:
                pinger.cancel()
                # gather, not suppress(CancelledError): our own cancellation must go through.
                await asyncio.gather(pinger, return_exceptions=True)
            protocol.close()
            if was_up:
                self.on_down()

    async def _ping(self, protocol: AmiProtocol) -> None:
        """A peer that vanished without a FIN shows up only as silence: ask, and hang up on it."""
        while True:
            await asyncio.sleep(self.ping_every)
            try:
                async with asyncio.timeout(self.timeout):
                    await protocol.send({"Action": "Ping"})
            except (TimeoutError, AmiLinkDown):
                log.warning("%s: AMI %s does not answer Ping; reconnecting", self.name, self.where)
                protocol.close()
                self.connection_lost(None)
                return

    async def _await(self, future: Awaitable[Any]) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            raise PbxTimeout(f"{self.where} 在 {self.timeout:g} 秒内未响应") from None

    # ------------------------------------------------------------ actions
    async def send(self, action: Mapping[str, Any], *, as_list: bool = False) -> Any:
        """Send one action; the answer (a Message, or with `as_list` the list action's messages).

        `as_list` is explicit: panoramisk's guess takes "Added interface to queue" for the
        start of a list and would wait for ever for the rest.

        Raises PbxUnavailable (not connected), PbxTimeout, PbxError (Response: Error).
        """
        protocol = self.protocol
        if protocol is None or not self.up:
            raise PbxUnavailable(f"未连接到交换机 {self.where}")
        try:
            request = ListAction(dict(action)) if as_list else dict(action)
            reply = await self._await(protocol.send(request, as_list=as_list))
        except AmiLinkDown:
            raise PbxUnavailable(f"与交换机 {self.where} 的连接已断开") from None
        first = reply[0] if isinstance(reply, list) else reply
        if first.get("Response") == "Error":
            raise PbxError(f"{action.get('Action')}: {first.get('Message') or '交换机返回错误'}",
                           ami_message=str(first.get("Message") or ""))
        return reply

    async def close(self) -> None:
        if self.protocol is not None:
            self.protocol.close()

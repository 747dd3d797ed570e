"""The simulator's AMI server: TCP, `Login` with user/secret, the actions the hotline
uses, and every PBX event written to each logged-in session that asked for events.

Answers mirror Asterisk 22 (see the traces): the banner, `Authentication accepted`,
`FullyBooted` then `SuccessfulAuth` after a login, a 1 s delay then `Authentication
failed` and a closed socket after a wrong secret, list actions as `EventList: start` …
`<Name>Complete`, `Message: Invalid/unknown command` for anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotline.telephony.sim import frames as f
from hotline.telephony.sim.pbx import QUEUE, Pbx

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
MAX_ACTION = 64 * 1024


@dataclass(eq=False)
class Session:
    writer: asyncio.StreamWriter
    peer: str
    logged_in: bool = False
    events: bool = True
    sent: int = 0
    closing: bool = False
    pending: list[bytes] = field(default_factory=list)

    def write(self, data: bytes) -> None:
        if self.closing:
            return
        self.writer.write(data)
        self.sent += 1


class AmiServer:
    def __init__(self, pbx: Pbx, *, user: str, secret: str, host: str = "127.0.0.1", port: int = 0,
                 login_fail_delay: float = 1.0) -> None:
        self.pbx, self.user, self.secret = pbx, user, secret
        self.host, self.port = host, port
        self.login_fail_delay = login_fail_delay
        self.sessions: set[Session] = set()
        self.server: asyncio.Server | None = None
        self.logins = 0
        self._held: list[bytes] | None = None
        self._serving: set[asyncio.Task[None]] = set()
        pbx.listeners.append(self._broadcast)
        self.handlers: dict[str, Callable[[Session, dict[str, str]], bytes | list[bytes] | None]] = {
            "ping": self._ping, "logoff": self._logoff, "queueadd": self._queue_add,
            "queueremove": self._queue_remove, "queuepause": self._queue_pause, "queuepenalty": self._queue_penalty,
            "queuestatus": self._queue_status, "queuesummary": self._queue_summary,
            "coreshowchannels": self._core_show_channels, "originate": self._originate, "redirect": self._redirect,
            "blindtransfer": self._blind_transfer, "hangup": self._hangup, "setvar": self._setvar,
            "getvar": self._getvar, "command": self._command, "events": self._events, "status": self._status,
        }

    # ------------------------------------------------------------ serving
    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self, *, graceful: bool = True) -> None:
        """`graceful`: hang up the calls and send `Shutdown` first, as `core stop now` does."""
        if graceful:
            self.pbx.shutdown()
        if self.server is not None:
            self.server.close()
        for s in list(self.sessions):
            s.closing = True
            s.writer.close()
        for t in list(self._serving):
            t.cancel()
        await asyncio.gather(*self._serving, return_exceptions=True)
        if self.server is not None:
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    def _broadcast(self, data: bytes) -> None:
        if self._held is not None:  # an action's own events go out after its response
            self._held.append(data)
            return
        for s in self.sessions:
            if s.logged_in and s.events:
                s.write(data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        peer = f"{host}:{port}"
        session = Session(writer, peer)
        self.sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
        writer.write(BANNER)
        try:
            buf = b""
            while not session.closing:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\r\n\r\n" in buf:
                    raw, buf = buf.split(b"\r\n\r\n", 1)
                    await self._action(session, raw)
                if len(buf) > MAX_ACTION:
                    log.warning("pbx-sim: %s sent %d bytes without an action end; closing", peer, len(buf))
                    break
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the server is stopping
        finally:
            if task is not None:
                self._serving.discard(task)
            self.sessions.discard(session)
            session.closing = True
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _action(self, s: Session, raw: bytes) -> None:
        action: dict[str, str] = {}
        variables: list[str] = []
        for line in raw.decode("utf-8", "replace").split("\r\n"):
            k, sep, v = line.partition(":")
            if not sep:
                continue
            k, v = k.strip(), v.strip()
            if k.lower() == "variable":
                variables.append(v)
            action[k.lower()] = v
        if variables:
            action["variable"] = "\x00".join(variables)
        name, aid = action.get("action", "").lower(), action.get("actionid")
        if name == "login":
            await self._login(s, action, aid)
            return
        if not s.logged_in:
            s.write(f.error(aid, "Permission denied"))
            return
        handler = self.handlers.get(name)
        if handler is None:
            s.write(f.error(aid, "Invalid/unknown command"))
            return
        self._held = []
        try:
            out = handler(s, action)
        finally:
            held, self._held = self._held, None
        for data in out if isinstance(out, list) else [out] if out else []:
            s.write(data)
        for data in held:
            self._broadcast(data)
        if name == "logoff":
            s.closing = True
            s.writer.close()

    async def _login(self, s: Session, a: dict[str, str], aid: str | None) -> None:
        if a.get("username") != self.user or a.get("secret") != self.secret:
            await asyncio.sleep(self.login_fail_delay)
            s.write(f.error(aid, "Authentication failed"))
            s.closing = True
            s.writer.close()
            return
        s.logged_in, s.events = True, a.get("events", "on").lower() not in ("off", "no", "false")
        self.logins += 1
        s.write(f.response(aid, ("Message", "Authentication accepted")))
        if s.events:
            uptime = int(time.time()) - self.pbx.started
            s.write(f.event("FullyBooted", [("Uptime", uptime), ("LastReload", uptime), ("Status", "Fully Booted")],
                            privilege="system"))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
            lhost, lport = s.writer.get_extra_info("sockname")[:2]
            local = f"{lhost}:{lport}"
            s.write(f.event("SuccessfulAuth", [
                ("EventTV", stamp), ("Severity", "Informational"), ("Service", "AMI"), ("EventVersion", 1),
                ("AccountID", self.user), ("SessionID", f"0x{id(s):x}"), ("LocalAddress", f"IPV4/TCP/{local}"),
                ("RemoteAddress", f"IPV4/TCP/{s.peer.replace(':', '/')}"), ("UsingPassword", 0),
                ("SessionTV", stamp)], privilege="security"))

    # ------------------------------------------------------------ actions
    def _ping(self, s: Session, a: dict[str, str]) -> bytes:
        return f.response(a.get("actionid"), ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}"))

    def _logoff(self, s: Session, a: dict[str, str]) -> bytes:
        return frame_goodbye(a.get("actionid"))

    def _events(self, s: Session, a: dict[str, str]) -> bytes:
        s.events = a.get("eventmask", "on").lower() not in ("off", "no", "false")
        return f.response(a.get("actionid"), ("Events", "On" if s.events else "Off"))

    def _queue_add(self, s: Session, a: dict[str, str]) -> bytes:
        aid, interface = a.get("actionid"), a.get("interface", "")
        if a.get("queue", QUEUE) != QUEUE or not interface:
            return f.error(aid, "Unable to add interface to queue: No such queue" if interface
                           else "'Interface' not specified.")
        if self.pbx.member(interface) is not None:
            return f.error(aid, "Unable to add interface: Already there")
        m = self.pbx._member(interface, a.get("membername", ""), "dynamic", int(a.get("penalty") or 0))
        m.paused = a.get("paused", "").lower() in ("1", "true", "yes")
        self.pbx.members.append(m)
        self.pbx.member_event("QueueMemberAdded", m)
        self.pbx.distribute()
        return f.response(aid, ("Message", "Added interface to queue"))

    def _queue_remove(self, s: Session, a: dict[str, str]) -> bytes:
        aid = a.get("actionid")
        m = self.pbx.member(a.get("interface", ""))
        if m is None:
            return f.error(aid, "Unable to remove interface: Not there")
        self.pbx.members.remove(m)
        self.pbx.rr_next = 0
        self.pbx.member_event("QueueMemberRemoved", m)
        return f.response(aid, ("Message", "Removed interface from queue"))

    def _queue_pause(self, s: Session, a: dict[str, str]) -> bytes:
        aid = a.get("actionid")
        m = self.pbx.member(a.get("interface", ""))
        if m is None:
            return f.error(aid, "Interface not found")
        paused = a.get("paused", "").lower() in ("1", "true", "yes")
        m.paused, m.reason = paused, a.get("reason", "") if paused else ""
        m.last_pause = int(time.time()) if paused else m.last_pause
        self.pbx.member_event("QueueMemberPause", m)
        if not paused:
            self.pbx.distribute()
        return f.response(aid, ("Message", f"Interface {'paused' if paused else 'unpaused'} successfully"))

    def _queue_penalty(self, s: Session, a: dict[str, str]) -> bytes:
        aid = a.get("actionid")
        m = self.pbx.member(a.get("interface", ""))
        if m is None:
            return f.error(aid, "Invalid interface, queuename or penalty")
        m.penalty = int(a.get("penalty") or 0)
        self.pbx.member_event("QueueMemberPenalty", m)
        return f.response(aid, ("Message", "Interface penalty set successfully"))

    def _queue_status(self, s: Session, a: dict[str, str]) -> list[bytes]:
        aid, pbx = a.get("actionid"), self.pbx
        waiting = pbx.waiting()
        items = [f.frame([("Event", "QueueParams"), ("Queue", QUEUE), ("Max", 0), ("Strategy", "rrmemory"),
                          ("Calls", len(waiting)), ("Holdtime", 0), ("TalkTime", 0), ("Completed", pbx.completed),
                          ("Abandoned", pbx.abandoned), ("ServiceLevel", 20), ("ServicelevelPerf", "0.0"),
                          ("ServicelevelPerf2", "0.0"), ("Weight", 0), ("ActionID", aid)])]
        items.extend(f.frame([("Event", "QueueMember"), *f.member_fields(QUEUE, m, listing=True), ("ActionID", aid)])
                     for m in pbx.members)
        for pos, c in enumerate(waiting, 1):
            assert c.c2 is not None
            items.append(f.frame([("Event", "QueueEntry"), ("Queue", QUEUE), ("Position", pos),
                                  ("Channel", c.c2.name), ("Uniqueid", c.c2.uniqueid),
                                  ("CallerIDNum", c.c2.caller_num), ("CallerIDName", c.c2.caller_name),
                                  ("ConnectedLineNum", c.c2.connected_num), ("ConnectedLineName", c.c2.connected_name),
                                  ("Wait", int(pbx.now() - c.joined)), ("Priority", 0), ("ActionID", aid)]))
        return [f.list_start(aid, "Queue status will follow"), *items,
                f.list_complete("QueueStatusComplete", aid, len(items))]

    def _queue_summary(self, s: Session, a: dict[str, str]) -> list[bytes]:
        aid, pbx = a.get("actionid"), self.pbx
        waiting = pbx.waiting()
        available = sum(1 for m in pbx.members if not m.paused and not pbx.busy(m))
        longest = int(pbx.now() - waiting[0].joined) if waiting else 0
        item = f.frame([("Event", "QueueSummary"), ("Queue", QUEUE), ("LoggedIn", len(pbx.members)),
                        ("Available", available), ("Callers", len(waiting)), ("HoldTime", 0), ("TalkTime", 0),
                        ("LongestHoldTime", longest), ("ActionID", aid)])
        return [f.list_start(aid, "Queue summary will follow"), item,
                f.list_complete("QueueSummaryComplete", aid, 1)]

    def _core_show_channels(self, s: Session, a: dict[str, str]) -> list[bytes]:
        aid, pbx = a.get("actionid"), self.pbx
        items = []
        for call, ch in list(pbx.channels.values()):
            app = ch.app or ("Queue" if ch is call.c2 and call.state in ("queued", "ringing", "talking") else (
                "AppQueue" if ch is call.a1 else "Wait"))
            secs = int(pbx.now() - ch.born)
            items.append(f.frame([("Event", "CoreShowChannel"), ("ActionID", aid), *ch.block(), ("Application", app),
                                  ("ApplicationData", f"{QUEUE},ct,,,{pbx.globals['QUEUE_TIMEOUT']}" if app == "Queue" else ch.app_data),
                                  ("Duration", f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"),
                                  ("BridgeId", ch.bridge if call.state == "talking" else "")]))
        return [f.list_start(aid, "Channels will follow"), *items,
                f.list_complete("CoreShowChannelsComplete", aid, len(items))]

    def _status(self, s: Session, a: dict[str, str]) -> list[bytes]:
        aid, pbx, wanted = a.get("actionid"), self.pbx, a.get("channel")
        items = []
        for call, ch in list(pbx.channels.values()):
            if wanted and ch.name != wanted:
                continue
            app = "Queue" if ch is call.c2 else "Wait"
            items.append(f.frame([("Event", "Status"), ("Privilege", "Call"), *ch.block(), ("Type", ch.name.split("/")[0]),
                                  ("DNID", ""), ("EffectiveConnectedLineNum", ch.connected_num),
                                  ("EffectiveConnectedLineName", ch.connected_name), ("TimeToHangup", 0),
                                  ("BridgeID", ch.bridge), ("Application", app),
                                  ("Data", f"{QUEUE},t,,,120" if app == "Queue" else ""), ("Nativeformats", "(slin)"),
                                  ("Readformat", "slin"), ("Readtrans", ""), ("Writeformat", "slin"), ("Writetrans", ""),
                                  ("Callgroup", 0), ("Pickupgroup", 0), ("Seconds", int(pbx.now() - ch.born)),
                                  ("ActionID", aid)]))
        if wanted and not items:
            return [f.error(aid, "No such channel")]
        return [f.list_start(aid, "Channel status will follow"), *items,
                f.frame([("Event", "StatusComplete"), ("ActionID", aid), ("EventList", "Complete"),
                         ("ListItems", len(items)), ("Items", len(items))])]

    def _originate(self, s: Session, a: dict[str, str]) -> bytes:
        aid, channel = a.get("actionid"), a.get("channel", "")
        variables = dict(v.partition("=")[::2] for v in a.get("variable", "").split("\x00") if "=" in v)
        tech, _, rest = channel.partition("/")
        resource, _, ctx = rest.partition("@")
        ctx = ctx.removesuffix("/n")
        if tech == "Local" and ctx == "from-pstn":  # a citizen's call, as the recorder makes them
            caller = a.get("callerid", "").split("<")[-1].rstrip(">").strip('" ') or "13800000000"
            lifetime = float(a.get("data") or 0) if a.get("application", "").lower() == "wait" else None
            # Asterisk answers "queued" before the call's first event: start it on the next tick.
            asyncio.get_running_loop().call_soon(
                lambda: self.pbx.call_in(resource, caller, lifetime=lifetime, action_id=aid))
            return f.response(aid, ("Message", "Originate successfully queued"))
        if tech == "Local" and ctx == "hotline-departments":  # an expert called into a conference
            room = a.get("exten", "")
            asyncio.get_running_loop().call_soon(lambda: self.pbx.invite(resource, room, aid))
            return f.response(aid, ("Message", "Originate successfully queued"))
        if a.get("application", "").lower() == "chanspy":  # a supervisor listening in (监听/耳语/强插)
            asyncio.get_running_loop().call_soon(lambda: self.pbx.spy(channel, a.get("data", ""), aid))
            return f.response(aid, ("Message", "Originate successfully queued"))
        member = self.pbx.member_by_ext(resource)
        if member is None:
            return f.error(aid, "Originate failed")  # the real one reports a failed OriginateResponse
        if self.pbx.busy(member):
            return f.error(aid, "Originate failed: extension busy")
        number = a.get("exten", "")
        caller_id = a.get("callerid", "12345").split("<")[-1].rstrip(">").strip('" ')
        asyncio.get_running_loop().call_soon(lambda: self.pbx.call_out(
            member, number, caller_id, variables, aid, citizen_answers=not number.endswith("0000")))
        return f.response(aid, ("Message", "Originate successfully queued"))

    def _redirect(self, s: Session, a: dict[str, str]) -> bytes:
        aid = a.get("actionid")
        if a.get("extrachannel"):
            if not self.pbx.conference(a.get("channel", ""), a["extrachannel"], a.get("exten", "")):
                return f.error(aid, "Channel does not exist: " + a.get("channel", ""))
            return f.response(aid, ("Message", "Dual Redirect successful"))
        if not self.pbx.redirect(a.get("channel", ""), a.get("context", ""), a.get("exten", "")):
            return f.error(aid, "Channel does not exist: " + a.get("channel", ""))
        return f.response(aid, ("Message", "Redirect successful"))

    def _blind_transfer(self, s: Session, a: dict[str, str]) -> bytes:
        aid = a.get("actionid")
        if not self.pbx.blind_transfer(a.get("channel", ""), a.get("context", ""), a.get("exten", "")):
            return f.error(aid, "No such channel")
        return f.response(aid, ("Message", "Transfer succeeded"))

    def _hangup(self, s: Session, a: dict[str, str]) -> bytes:
        aid = a.get("actionid")
        if not self.pbx.hang_up(a.get("channel", "")):
            return f.error(aid, "No such channel")
        return f.response(aid, ("Message", "Channel Hungup"))

    def _setvar(self, s: Session, a: dict[str, str]) -> bytes:
        name, value = a.get("variable", ""), a.get("value", "")
        if not a.get("channel"):
            self.pbx.globals[name] = value
            self.pbx.emit(f.event("VarSet", [("Channel", "none"), ("Uniqueid", "none"), ("Variable", name),
                                             ("Value", value)], privilege="dialplan"))
        return f.response(a.get("actionid"), ("Message", "Variable Set"))

    def _getvar(self, s: Session, a: dict[str, str]) -> bytes:
        name = a.get("variable", "")
        found = self.pbx.channels.get(a.get("channel", ""))
        value = found[1].variables.get(name, "") if found else self.pbx.globals.get(name, "")
        return f.response(a.get("actionid"), ("Variable", name), ("Value", value))

    def _command(self, s: Session, a: dict[str, str]) -> bytes:
        return f.response(a.get("actionid"), ("Message", "Command output follows"),
                          ("Output", f"pbx-sim: {len(self.pbx.calls)} calls, {len(self.pbx.members)} members"))


def frame_goodbye(action_id: str | None) -> bytes:
    items: f.Fields = [("Response", "Goodbye")]
    if action_id is not None:
        items.append(("ActionID", action_id))
    return f.frame([*items, ("Message", "Thanks for all the fish.")])

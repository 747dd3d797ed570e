"""Agent actions through AMI (话务操作): queue login/logout, pause, click-to-call,
transfer, three-way call, hang up, and the supervisor's listen-in / whisper / barge. Each is one guard-checked use case that sends one or
two AMI actions; the PBX's own refusal comes back as a `PbxError` (502) and a missing
link as `PbxUnavailable` (503), which the web edge turns into problem+json.

The agent's live channels are looked up in Asterisk itself (CoreShowChannels) at the
moment of the action, so every `serve` node can act, whether or not it is the one
consuming events.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hotline.errors import Conflict, ValidationFailed
from hotline.telephony import events as ev
from hotline.telephony.link import AmiLink, PbxError, PbxUnavailable

if TYPE_CHECKING:
    from hotline.telephony.config import TelephonySettings

# ChanSpy's options per supervisor action (监听/耳语/强插): q no beep nor channel name read
# out, E leave when the agent's channel hangs up, S leave when nothing is left to spy on;
# w the supervisor talks to the agent only, B to both sides of the call.
SPY_OPTIONS = {"listen": "qES", "whisper": "qESw", "barge": "qESB"}
SAFE = re.compile(r"^[^\r\n\x00]{0,80}$")
NUMBER = re.compile(r"^\+?\d{3,20}$")


def _safe(value: str, what: str) -> str:
    """Nothing that could end an AMI header and smuggle in another one."""
    if not SAFE.match(value):
        raise ValidationFailed(f"{what}含有不允许的字符或过长", code="invalid_value")
    return value


@dataclass(frozen=True)
class AgentChannels:
    agent: ev.ChannelItem
    peer: ev.ChannelItem | None  # the citizen's channel bridged with the agent


class Switchboard:
    """Built once per process; `link` is whichever AMI session the process has."""

    def __init__(self, config: TelephonySettings) -> None:
        self.config = config
        self.link: AmiLink | None = None

    def _link(self) -> AmiLink:
        if self.link is None:
            raise PbxUnavailable("话务系统未启用或尚未连接交换机")
        return self.link

    def interface(self, extension: str) -> str:
        return self.config.agent_interface.format(extension=_safe(extension, "分机号"))

    # ------------------------------------------------------------ queue membership
    async def login(self, extension: str, name: str, queues: list[str] | None = None) -> list[str]:
        done = []
        for queue in queues or list(self.config.queues):
            try:
                await self._link().send({"Action": "QueueAdd", "Queue": _safe(queue, "队列"),
                                         "Interface": self.interface(extension), "MemberName": _safe(name, "姓名"),
                                         "Paused": "false"})
            except PbxError as exc:
                if "Already there" not in exc.extra.get("ami_message", ""):
                    raise
            done.append(queue)
        return done

    async def logout(self, extension: str, queues: list[str] | None = None) -> list[str]:
        done = []
        for queue in queues or list(self.config.queues):
            try:
                await self._link().send({"Action": "QueueRemove", "Queue": _safe(queue, "队列"),
                                         "Interface": self.interface(extension)})
            except PbxError as exc:
                if "Not there" not in exc.extra.get("ami_message", ""):
                    raise
            done.append(queue)
        return done

    async def pause(self, extension: str, paused: bool, reason: str = "") -> None:
        action: dict[str, Any] = {"Action": "QueuePause", "Interface": self.interface(extension),
                                  "Paused": "true" if paused else "false"}
        if paused and reason:
            action["Reason"] = _safe(reason, "暂停原因")
        await self._link().send(action)

    # ------------------------------------------------------------ calls
    async def originate(self, extension: str, number: str, *, callback_task: int | None = None) -> str:
        """Click-to-call: the agent's phone rings first, then the citizen, with the hotline's caller id."""
        if not NUMBER.match(number):
            raise ValidationFailed("号码格式不正确", code="invalid_number")
        ident = uuid.uuid4().hex[:12]
        variables = [f"HOTLINE_AGENT={extension}", f"HOTLINE_CITIZEN={number}"]
        if callback_task is not None:
            variables.append(f"HOTLINE_CALLBACK={callback_task}")
        await self._link().send({"Action": "Originate", "Channel": self.interface(extension),
                                 "Context": self.config.outbound_context, "Exten": number, "Priority": "1",
                                 "CallerID": f'"{self.config.caller_id}" <{self.config.caller_id}>',
                                 "Timeout": "30000", "Async": "true", "Variable": variables,
                                 "ChannelId": f"hotline-{ident}"})
        return ident

    async def channels_of(self, extension: str) -> AgentChannels:
        reply = await self._link().send({"Action": "CoreShowChannels"}, as_list=True)
        items = [i for i in (ev.parse(m) for m in reply[1:]) if isinstance(i, ev.ChannelItem)]
        mine = [i for i in items if ev.extension_of(i.channel) == extension
                and not i.channel.endswith(";2")]  # a Local pair's ;2 side runs the agent's dialplan
        if not mine:
            raise Conflict("该坐席当前没有通话", code="no_active_call")
        agent = next((i for i in mine if i.bridge_id), mine[0])
        peer = next((i for i in items if agent.bridge_id and i.bridge_id == agent.bridge_id
                     and i.channel != agent.channel), None)
        return AgentChannels(agent, peer)

    async def transfer(self, extension: str, phone: str) -> None:
        """Blind transfer (转接) of the citizen to a department's number."""
        chans = await self.channels_of(extension)
        context, exten = self.config.department_context, _safe(phone, "转接号码")
        if self.config.transfer == "redirect":
            if chans.peer is None:
                raise Conflict("找不到与坐席通话的市民一方", code="no_peer")
            await self._link().send({"Action": "Redirect", "Channel": chans.peer.channel, "Context": context,
                                     "Exten": exten, "Priority": "1"})
        else:
            await self._link().send({"Action": "BlindTransfer", "Channel": chans.agent.channel,
                                     "Context": context, "Exten": exten})

    async def conference(self, extension: str, phone: str) -> str:
        """三方通话: agent and citizen into a ConfBridge room, then the department's expert is called in."""
        chans = await self.channels_of(extension)
        if chans.peer is None:
            raise Conflict("找不到与坐席通话的市民一方", code="no_peer")
        room = f"hl{uuid.uuid4().hex[:10]}"
        ctx = self.config.conference_context
        await self._link().send({"Action": "Redirect", "Channel": chans.peer.channel, "Context": ctx, "Exten": room,
                                 "Priority": "1", "ExtraChannel": chans.agent.channel, "ExtraContext": ctx,
                                 "ExtraExten": room, "ExtraPriority": "1"})
        await self._link().send({"Action": "Originate",
                                 "Channel": f"Local/{_safe(phone, '专家号码')}@{self.config.department_context}",
                                 "Context": ctx, "Exten": room, "Priority": "1", "Async": "true",
                                 "CallerID": f'"{self.config.caller_id}" <{self.config.caller_id}>'})
        return room

    async def hangup(self, extension: str) -> None:
        chans = await self.channels_of(extension)
        await self._link().send({"Action": "Hangup", "Channel": chans.agent.channel})

    async def spy(self, supervisor: str, agent: str, mode: str) -> str:
        """监听/耳语/强插: the supervisor's own phone is called and, once answered, runs ChanSpy
        on the agent's live channel (found now, so a call that ended answers 409 at once)."""
        options = SPY_OPTIONS.get(mode)
        if options is None:
            raise ValidationFailed(f"未知的监听方式：{mode}", code="invalid_spy_mode")
        if supervisor == agent:
            raise ValidationFailed("不能监听自己的分机", code="spy_self")
        chans = await self.channels_of(agent)
        if chans.peer is None:  # ringing or dialling: nothing to listen to yet
            raise Conflict("该坐席当前没有接通的通话", code="no_active_call")
        ident = uuid.uuid4().hex[:12]
        label = {"listen": "监听", "whisper": "耳语", "barge": "强插"}[mode]
        await self._link().send({"Action": "Originate", "Channel": self.interface(supervisor),
                                 "Application": "ChanSpy", "Data": f"{_safe(chans.agent.channel, '通道')},{options}",
                                 "CallerID": f'"{label} {agent}" <{agent}>', "Timeout": "30000", "Async": "true",
                                 "Variable": [f"HOTLINE_SPY={mode}", f"HOTLINE_SPIED={agent}"],
                                 "ChannelId": f"hotline-spy-{ident}"})
        return ident

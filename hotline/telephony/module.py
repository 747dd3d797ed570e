"""Telephony as one module of the hotline: the AMI loop, the agents' phone API, its tables
and migrations, its `telephony:` section and its sub-commands. `install` imports the AMI
side when a hotline opens, so that the `hotline` command starts without it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hotline.module import Module, Summary
from hotline.telephony.cli import add_commands
from hotline.telephony.config import telephony_settings

if TYPE_CHECKING:
    from hotline.ports import Hotline
    from hotline.settings import Settings
    from hotline.telephony.service import Telephony


def install(h: Hotline) -> Telephony:
    from hotline.telephony import api
    from hotline.telephony.desk import CallDesk
    from hotline.telephony.recordings import Recordings
    from hotline.telephony.service import TELEPHONY, Telephony

    config = telephony_settings(h.settings)
    if h.demo and not h.settings.ami.host:
        # The simulator's members are Local channels, like the lab the traces come from.
        # Its recordings are short silent WAVs in a folder of the data dir, so that the
        # demo's orders play one like a real deployment's.
        config = config.model_copy(update={"agent_interface": "Local/{extension}@agents/n",
                                           "recordings_dir": str(h.settings.data_dir / "demo-monitor")})
    recordings = Recordings(config.recordings, config.recordings_dir, h.settings.data_dir)
    desk = CallDesk(config, h.settings, sessions=h.sessions, clock=h.clock, live=h.live, intake=h.intake,
                    recordings=recordings, orders=h.orders)
    telephony = Telephony(config, h.settings, engine=h.engine, redis=h.redis, clock=h.clock, metrics=h.metrics,
                          live=h.live, desk=desk)
    h.share(TELEPHONY, telephony)
    h.add_effect(desk.on_change)
    h.add_api(api.routes)
    if h.settings.ami.host or h.demo:
        h.add_task("telephony", telephony.run)
    return telephony


def check(settings: Settings) -> Summary:
    telephony_settings(settings)
    return Summary()


MODULE = Module(name="telephony", package="hotline.telephony", install=install, sections=("telephony",),
                check=check, models=("hotline.telephony.models",), migrations=Path(__file__).resolve().parent / "migrations",
                commands=add_commands)

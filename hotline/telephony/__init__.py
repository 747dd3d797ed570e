"""Telephony (话务): Asterisk AMI through panoramisk — the only importer of panoramisk.

`install(h)` plugs it into the composition root: the consumer/stand-by background task
(when `HOTLINE_AMI_HOST` is set, or the built-in simulator with `serve --demo`) and the
`/api/v1/telephony/...` routes. Modules: `events` (typed AMI events), `tracker` (pure
calls/queues/agents), `protocol`/`link` (framing, connection), `consumer` (events →
tracker → live/metrics/desk), `leader` (one consumer per Asterisk), `desk` (drafts, call
records, callbacks), `actions` (agent actions), `api`, `sim` (PBX simulator), `dialplan`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.root import Hotline


def install(h: Hotline) -> None:
    from hotline.telephony import api
    from hotline.telephony.config import telephony_settings
    from hotline.telephony.service import Telephony

    config = telephony_settings(h.settings)
    if h.demo and not h.settings.ami.host:
        # The simulator's members are Local channels, like the lab the traces come from.
        config = config.model_copy(update={"agent_interface": "Local/{extension}@agents/n"})
    telephony = Telephony(h, config)
    h.services["telephony"] = telephony
    h.api_tables.append(api.routes)
    if h.settings.ami.host or h.demo:
        h.background["telephony"] = telephony.run

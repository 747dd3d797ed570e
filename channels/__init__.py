"""The written channels (六位一体): SMS, WeChat, web portal, app + Open311, fax.

Each adapter implements the same small interface — verify the request, parse it into a
`hotline.contact.Contact` (through intake), acknowledge, notify the citizen later — and
translates its vendor's errors at its edge. `install(h)` wires them into the root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.root import Hotline


def install(h: Hotline) -> None:
    from channels import app, citizens, fax, open311, sms, wechat
    from channels.config import load_channels_config
    from channels.notices import Notices

    cfg = load_channels_config(h.settings)
    h.services["channels.config"] = cfg

    sms_channel = sms.SmsChannel(h, cfg.sms)
    h.services["channels.sms"] = sms_channel
    sms.install_routes(h, sms_channel)
    h.outbox.register("sms", sms_channel)

    wechat_channel = wechat.WechatChannel(h, cfg.wechat)
    h.services["channels.wechat"] = wechat_channel
    wechat.install_routes(h, wechat_channel)
    h.outbox.register("wechat", wechat_channel)

    open311_api = open311.Open311(h)
    h.services["channels.open311"] = open311_api
    open311.install_routes(h, open311_api)
    h.api_tables.append(app.routes)
    h.api_tables.append(citizens.routes)

    fax_channel = fax.FaxChannel(h, cfg.fax, cfg.spool_dir(h.settings))
    h.services["channels.fax"] = fax_channel
    fax.install(h, fax_channel)

    from channels.portal import routes as portal_routes
    from channels.portal.views import Portal

    portal = Portal(h, cfg.portal)
    h.services["channels.portal"] = portal
    portal_routes.install(h, portal)

    notices = Notices(h, sms=sms_channel.can_send, wechat=wechat_channel.can_send)
    h.add_on_created(notices.on_created, when=notices.may_acknowledge)
    h.add_effect(notices.on_change)

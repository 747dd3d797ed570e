"""The written channels as one module: SMS, WeChat, the web portal, the app and Open311, fax.

Each adapter verifies its request, hands the contact to intake and acknowledges only
after the commit; the citizen's later notices are outbox messages that the SMS and
WeChat adapters deliver (`channels.notices`). `install` imports the adapters when a
hotline opens, so that the `hotline` command starts without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channels.config import ChannelsConfig, load_channels_config
from hotline.module import Module, Summary
from hotline.ports import Hotline, Link

if TYPE_CHECKING:
    from channels.fax import FaxChannel
    from channels.notices import Notices
    from channels.open311 import Open311
    from channels.portal.views import Portal
    from channels.sms import SmsChannel
    from channels.wechat import WechatChannel
    from hotline.settings import Settings


@dataclass(frozen=True)
class Channels:
    """What `install` built (`running.module(Channels)` in the CLI and tests)."""

    config: ChannelsConfig
    sms: SmsChannel
    wechat: WechatChannel
    open311: Open311
    fax: FaxChannel
    portal: Portal
    notices: Notices


def install(h: Hotline) -> Channels:
    from channels import app, citizens, fax, media, open311, sms, wechat
    from channels.fallback import WechatNotices
    from channels.inbox import Inbox
    from channels.notices import Notices
    from channels.portal import routes as portal_routes
    from channels.portal.views import Portal

    cfg = load_channels_config(h.settings)
    s = h.settings

    def inbox(window_minutes: int) -> Inbox:
        return Inbox(s, timedelta(minutes=window_minutes), sessions=h.sessions, intake=h.intake, orders=h.orders)

    sms_channel = sms.SmsChannel(cfg.sms, s, sessions=h.sessions, clock=h.clock,
                                 inbox=inbox(cfg.sms.follow_up_window_minutes), http=h.http)
    sms.install_routes(h, sms_channel)
    h.add_sender("sms", sms_channel)

    wechat_channel = wechat.WechatChannel(cfg.wechat, s, clock=h.clock, inbox=inbox(cfg.wechat.follow_up_window_minutes),
                                          token_store=h.redis_sync, nonce_store=h.redis)
    wechat.install_routes(h, wechat_channel)
    h.add_sender("wechat", WechatNotices(wechat_channel, cfg.wechat.template, sessions=h.sessions, clock=h.clock,
                                         sms=sms_channel.can_send, nudge=h.outbox.nudge))

    open311_api = open311.Open311(s, sessions=h.sessions, clock=h.clock, intake=h.intake)
    open311.install_routes(h, open311_api)
    # The app API checks the same client keys as Open311.
    from hotline.ratelimit import Attempts, RedisAttempts

    lookups = RedisAttempts(h.redis, "hotline:lookups") if h.redis is not None else Attempts()
    h.share(app.APP, app.AppChannel(open311_api, clock=h.clock, sessions=h.sessions, intake=h.intake, cfg=cfg.app,
                                    lookups=lookups))
    h.add_api(app.routes, citizens.routes)

    fax_channel = fax.FaxChannel(cfg.fax, cfg.spool_dir(s), data_dir=s.data_dir, clock=h.clock, intake=h.intake,
                              hotline_name=s.hotline.name)
    fax.install(h, fax_channel)

    portal = Portal(cfg.portal, s, sessions=h.sessions, clock=h.clock, intake=h.intake, orders=h.orders)
    portal_routes.install(h, portal)

    h.add_link(Link("/portal/", "网上诉求：提交、查询、评价", "Citizens' portal: submit, look up, rate", "citizens", 10))
    h.add_link(Link("/open311/v2/services.json", "Open311 GeoReport v2 服务目录", "Open311 GeoReport v2 service list",
                    "apps", 40))

    fetcher = media.MediaFetcher(s, sessions=h.sessions, clock=h.clock, http=h.http,
                                 wechat_download=wechat_channel.download, nudge=h.outbox.nudge)
    h.add_sender(media.KIND, fetcher)
    h.add_on_created(fetcher.on_created, when=fetcher.may_have_media)
    h.add_effect(fetcher.on_change)

    notices = Notices(s, h.outbox.nudge, sms=sms_channel.can_send, wechat=wechat_channel.can_send)
    h.add_on_created(notices.on_created, when=notices.may_acknowledge)
    h.add_effect(notices.on_change)
    return Channels(cfg, sms_channel, wechat_channel, open311_api, fax_channel, portal, notices)


if TYPE_CHECKING:
    from aiohttp import web

    from channels.app import AppChannel, AppIn, AppSubmission
    from channels.fax import FaxIn, FaxReceipt
    from channels.inbox import Answer
    from channels.open311 import Open311Request
    from channels.portal.views import Submission
    from channels.sms import SmsIn
    from channels.wechat import WechatIn
    from hotline.channel import ChannelPort, NotifyingChannel
    from hotline.intake import IntakeResult

    def _every_adapter_implements_the_channel_port(c: Channels, app: AppChannel) -> tuple[
            NotifyingChannel[web.Request, SmsIn, Answer], NotifyingChannel[web.Request, WechatIn, Answer | None],
            ChannelPort[web.Request, FaxIn, FaxReceipt], ChannelPort[web.Request, Open311Request, list[dict[str, Any]]],
            ChannelPort[web.Request, Submission, str | None], ChannelPort[AppSubmission, AppIn, IntakeResult]]:
        """Never called: mypy checks here that each adapter is the port it claims to be."""
        return c.sms, c.wechat, c.fax, c.open311, c.portal, app


def check(settings: Settings) -> Summary:
    load_channels_config(settings)
    return Summary()


MODULE = Module(name="channels", package="channels", install=install, sections=("channels",), check=check,
                models=("channels.models",), migrations=Path(__file__).resolve().parent / "migrations")

"""The public side as one module (政务公开): disclosure of closed orders — the supervisors'
preview, publication and audit, the category rule, the public pages, JSON API and RSS feed,
citizens' comments with moderation, and the daily/monthly statistics. See docs/public.md.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.module import Module, Summary
from hotline.ports import Hotline, Link
from hotline.public.config import public_config

if TYPE_CHECKING:
    from hotline.public.service import Disclosure
    from hotline.settings import Settings


def install(h: Hotline) -> Disclosure:
    from hotline.public import api, directory_api, media_api, page
    from hotline.public.directory import DIRECTORY, CompanySender, DirectoryService
    from hotline.public.directory import KIND as COMPANY_KIND
    from hotline.public.media import KIND, MEDIA, Media, MediaSender
    from hotline.public.service import DISCLOSURE, Disclosure

    cfg = public_config(h.settings)
    disclosure = Disclosure(cfg, h.settings, h.sessions, h.clock)
    h.share(DISCLOSURE, disclosure)
    h.add_effect(disclosure.on_change)  # the category rule publishes in the closing transaction
    media = Media(cfg, h.sessions, h.clock, h.intake, disclosure, h.outbox.nudge)
    h.share(MEDIA, media)
    h.add_effect(media.on_change)  # a media order's result, to its outlet, in the closing transaction
    h.add_sender(KIND, MediaSender(cfg, h.clock, h.http))
    directory = DirectoryService(cfg.directory, h.settings, h.sessions, h.clock, h.outbox.nudge)
    h.share(DIRECTORY, directory)
    h.add_sender(COMPANY_KIND, CompanySender(h.sessions, h.clock, h.http))
    h.add_api(api.routes, media_api.routes, directory_api.routes)
    h.add_routes(partial(page.install, h))
    h.add_link(Link("/public/", "政务公开", "Disclosure: published cases and statistics", "citizens", 15))
    return disclosure


def check(settings: Settings) -> Summary:
    cfg = public_config(settings)
    rule = ", ".join(cfg.publish_categories) or "none (supervisors publish)"
    return Summary((f"disclosure: published by rule: {rule}", f"media partners: {len(cfg.media_partners)}",
                    f"convenience services: {len(cfg.directory.service_types)} types, "
                    f"{cfg.directory.circle_minutes:g}-minute circle"))


MODULE = Module(name="public", package="hotline.public", install=install, sections=("public",), check=check,
                models=("hotline.public.models",), migrations=Path(__file__).resolve().parent / "migrations")

"""`hotline serve --demo`: accounts and sample contacts so a newcomer sees a working hotline."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from hotline.contact import Contact, Identity
from hotline.domain.vocabulary import Channel, UserRole
from hotline.storage import accounts
from hotline.storage.orders import order_count

if TYPE_CHECKING:
    from hotline.ports import Hotline

log = logging.getLogger(__name__)

DEMO_USERS = [  # (username, password, role, extension, display name)
    ("agent1", "demo-agent-1", UserRole.AGENT, "8001", "话务员 张敏"),
    ("agent2", "demo-agent-2", UserRole.AGENT, "8002", "话务员 李强"),
    ("leader", "demo-leader", UserRole.SUPERVISOR, "8100", "班长 王芳"),  # her phone rings to listen in
    ("admin", "demo-admin", UserRole.ADMIN, None, "系统管理员"),
]

SAMPLES = [  # (channel, sender, text, category, subject, area)
    (Channel.WEB, "13800001111", "城南社区幸福路 12 号门口路灯坏了一周，晚上很黑，老人出门不安全。", "help", None, "chengnan"),
    (Channel.SMS, "13900002222", "青溪镇菜市场有商户卖过期食品，请市场监管部门查处。", "complaint", "market-food-safety", "qingxi"),
    (Channel.WECHAT, "oDemoOpenId003", "请问新生儿医保怎么办理，需要带哪些材料？", "inquiry", None, None),
    (Channel.APP, "13700003333", "建议在县人民医院门口增设公交站台。", "suggestion", None, None),
]


async def seed(h: Hotline) -> None:
    async with h.sessions() as session, session.begin():
        have = await accounts.usernames(session)
        for username, password, role, ext, name in DEMO_USERS:
            if username not in have:
                await h.auth.add_user(session, username=username, password=password, role=role, now=h.clock(),
                                      display_name=name, extension=ext)
        any_order = await order_count(session)
    if any_order == 0:
        now = h.clock()
        for i, (channel, sender, text, cat, sample_subject, sample_area) in enumerate(SAMPLES):
            kind = "wechat_openid" if channel is Channel.WECHAT else "phone"
            area = sample_area if sample_area in h.settings.area_codes() else None
            subject = sample_subject if sample_subject in h.settings.subject_codes() else None
            await h.intake.receive(Contact(channel=channel, external_id=f"demo-{i}", text=text,
                                           received_at=now - timedelta(minutes=30 - i),
                                           sender=Identity(kind, sender), category=cat, subject=subject, area=area))
    print("演示账号 / demo accounts: " + ", ".join(f"{u} / {p} ({r.value})" for u, p, r, *_ in DEMO_USERS), flush=True)

"""`Contact`: what every channel adapter hands to intake, whatever the channel.

A channel verifies its request, parses it into a Contact and acknowledges only after
`Intake.receive` has committed it (DESIGN, principle 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from hotline.domain.vocabulary import Channel


@dataclass(frozen=True)
class Identity:
    """One way to reach a citizen. Kinds: phone, wechat_openid, app_user, email, open311."""

    kind: str
    value: str


@dataclass(frozen=True)
class AttachmentIn:
    """A file a channel has already written under the data dir."""

    kind: str  # photo | recording | fax | voice | document
    filename: str
    content_type: str
    size: int
    location: str
    sha256: str | None = None


@dataclass(frozen=True)
class Contact:
    channel: Channel
    external_id: str  # Twilio MessageSid, WeChat MsgId, AMI Linkedid, Idempotency-Key ...
    received_at: datetime
    text: str = ""
    sender: Identity | None = None  # who wrote or called; links the citizen
    other_identities: tuple[Identity, ...] = ()  # e.g. a phone number typed into the portal form
    sender_name: str | None = None
    title: str | None = None
    category: str | None = None
    subject: str | None = None
    area: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    urgency: str = "normal"
    confidential: bool = False
    legacy_line: str | None = None
    attachments: tuple[AttachmentIn, ...] = ()
    # The channel says this continues an open matter (e.g. "补充：..." by SMS): append it to
    # that order (by number), or to the citizen's latest open order when no number is known.
    follow_up_of: str | None = None
    follow_up: bool = False
    # The follow-up window (SMS, WeChat: written again within 30 minutes): when the sender
    # wrote on this channel since then about an order that is still open, this contact is
    # appended to it. Intake checks it in the same statement that stores a new order.
    follow_up_since: datetime | None = None
    draft: bool = False  # a call in progress: the agent completes the order later
    call_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

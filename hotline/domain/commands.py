"""The work-order commands (工单操作): one frozen dataclass per thing an agent, a department,
a citizen or the system may do to an order. Everything a command needs arrives inside it
(deadlines are computed by the caller: SLA is dispatch's), so the rules stay pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from hotline.domain.state import Actor

# What `hotline.domain.workorder` re-exports, so `wo.Dispatch` keeps working.
__all__ = ["Command", "Plan", "Register", "UpdateDetails", "AppendContact", "ResolveDirectly", "Dispatch", "SignFor",
           "SubDispatch", "AddProgress", "Reply", "ReturnOrder", "ReviewReturn", "RequestExtension",
           "DecideExtension", "FollowUp", "Rate", "Reopen", "Merge", "ReplyWithParent", "MarkInvalid", "Close"]


@dataclass(frozen=True)
class Command:
    actor: Actor


@dataclass(frozen=True)
class Register(Command):
    """受理: a draft (call in progress) becomes a registered order."""


@dataclass(frozen=True)
class UpdateDetails(Command):
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AppendContact(Command):
    """A citizen's follow-up message added to the open order (补充)."""

    contact_id: int = 0
    channel: str = ""


@dataclass(frozen=True)
class ResolveDirectly(Command):
    """直接办结: answered by the agent, e.g. from the knowledge base."""

    answer: str = ""


@dataclass(frozen=True)
class Plan:
    """Where one assignment goes and its deadlines (computed by the SLA policy)."""

    department: str
    sign_by: datetime | None = None
    reply_by: datetime | None = None
    return_by: datetime | None = None


@dataclass(frozen=True)
class Dispatch(Command):
    """派单 to a lead department (主办) and optional assisting ones (协办)."""

    lead: Plan = field(default_factory=lambda: Plan(""))
    assisting: tuple[Plan, ...] = ()
    note: str = ""
    reason: str = ""  # why this department: the routing rule or the agent's override


@dataclass(frozen=True)
class SignFor(Command):
    """签收."""

    department: str = ""


@dataclass(frozen=True)
class SubDispatch(Command):
    """下派: a town hands the order on to one of its villages; the town stays accountable."""

    department: str = ""
    to: Plan = field(default_factory=lambda: Plan(""))
    to_parent: str | None = None  # the target's parent in the directory
    note: str = ""


@dataclass(frozen=True)
class AddProgress(Command):
    department: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Reply(Command):
    """办结回复."""

    department: str = ""
    result: str = ""
    attachments: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReturnOrder(Command):
    """退单: wrong department, with a reason, inside the return window."""

    department: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ReviewReturn(Command):
    """The hotline reviews a return: accepted → re-dispatch; refused → back to the department."""

    accept: bool = True
    note: str = ""


@dataclass(frozen=True)
class RequestExtension(Command):
    """延期申请, asked before the reply deadline."""

    department: str = ""
    working_days: int = 0
    reason: str = ""
    max_working_days: int = 10


@dataclass(frozen=True)
class DecideExtension(Command):
    approve: bool = True
    note: str = ""
    new_reply_by: datetime | None = None  # computed from the pending days by the caller


@dataclass(frozen=True)
class FollowUp(Command):
    """回访: the hotline calls the citizen back after the reply. Not reached: an attempt,
    the order stays where it is. `resolved` feeds 解决率; `words` are the citizen's own."""

    note: str = ""
    reached: bool = True
    rating: int | None = None
    resolved: bool | None = None
    words: str = ""


@dataclass(frozen=True)
class Rate(Command):
    """评价 on the 5-level scale (5 非常满意 … 1 非常不满意). The first of a round counts;
    later ones (another channel, a second click) are kept as comments."""

    level: int = 0
    comment: str = ""
    source: str = ""  # where it came from: portal, sms, wechat, ivr, agent


@dataclass(frozen=True)
class Reopen(Command):
    """重办, usually after a dissatisfied rating; starts a new round (its own rating)."""

    reason: str = ""
    words: str = ""  # the citizen's words that caused it


@dataclass(frozen=True)
class Merge(Command):
    """并单: this order duplicates `into` and ends here."""

    into: str = ""


@dataclass(frozen=True)
class ReplyWithParent(Command):
    """并单答复: a merged order is answered with the reply of the order it was merged into,
    so its own citizen hears on their own channel and its own follow-up runs."""

    parent: str = ""
    result: str = ""
    department: str | None = None  # the parent's lead department, who answered


@dataclass(frozen=True)
class MarkInvalid(Command):
    """无效/骚扰."""

    reason: str = ""


@dataclass(frozen=True)
class Close(Command):
    """归档. A dissatisfied or reopened order: a supervisor's decision, `note` its reason."""

    note: str = ""

"""What the state machine works on: an order's state and its assignments, who acts, and
the event an accepted command leaves in the audit trail. Plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hotline.domain.vocabulary import ACTIVE_ASSIGNMENT, ActorKind, AssignmentRole, AssignmentStatus, Status

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str | None = None  # user id, department code, citizen identity
    name: str | None = None


SYSTEM = Actor(ActorKind.SYSTEM, "system", "系统")


@dataclass(frozen=True)
class AssignmentState:
    department: str
    role: AssignmentRole
    status: AssignmentStatus
    parent: str | None = None  # the department that sub-dispatched it (镇 → 村)
    sign_by: datetime | None = None
    reply_by: datetime | None = None
    return_by: datetime | None = None
    extended_days: int = 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_ASSIGNMENT

    @property
    def is_lead(self) -> bool:
        return self.role is AssignmentRole.LEAD and self.parent is None


@dataclass(frozen=True)
class OrderState:
    status: Status
    assignments: tuple[AssignmentState, ...] = ()
    resume_status: Status | None = None  # where a return/extension review goes back to
    pending_extension_days: int | None = None
    rating: int | None = None  # this round's rating (a reopen starts a new round)
    reopen_count: int = 0  # the round: 0 until the first reopen (重办)
    dissatisfied: bool = False  # rated <= 2 or "not resolved": only a supervisor's decision closes it
    merged_into: str | None = None
    version: int = 0

    def lead(self) -> AssignmentState | None:
        for a in reversed(self.assignments):
            if a.is_lead and a.status is not AssignmentStatus.WITHDRAWN:
                return a
        return None

    def active_for(self, department: str) -> AssignmentState | None:
        for a in reversed(self.assignments):
            if a.department == department and a.active:
                return a
        return None


@dataclass(frozen=True)
class Event:
    """One row of the append-only audit trail: who did what, when, and why."""

    kind: str
    actor: Actor
    at: datetime
    from_status: Status | None  # None: the order was just created
    to_status: Status
    data: Mapping[str, Any] = field(default_factory=dict)

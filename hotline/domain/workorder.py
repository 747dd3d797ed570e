"""The work-order state machine (工单状态机): pure, no I/O, no clock.

    transition(order, command, now) -> (order, event)

Every accepted command yields exactly one `Event` (the audit trail row); a refused
one raises `TransitionRejected` with a stable code and leaves the order untouched.
Deadlines are computed by the caller (SLA lives in `dispatch.sla`) and handed in with
the command, so this module never needs a calendar.

Departments are named by code. The order's status follows its *lead* assignment (主办);
assisting (协办) and sub-dispatched (下派) assignments move only their own status.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from hotline.domain import commands
from hotline.domain.commands import *  # noqa: F403 - the facade: every command, as wo.Dispatch ...
from hotline.domain.rules import COMMAND_NAMES, RULES, allowed, reject
from hotline.domain.state import SYSTEM, Actor, AssignmentState, Event, OrderState
from hotline.domain.vocabulary import STATUS_NAMES

if TYPE_CHECKING:
    from datetime import datetime

# `from hotline.domain import workorder as wo` gives the whole vocabulary: wo.OrderState, wo.Dispatch ...
__all__ = ["COMMAND_NAMES", "RULES", "SYSTEM", "Actor", "AssignmentState", "Event", "OrderState", "allowed",
           "transition"]
__all__ += commands.__all__


def transition(order: OrderState, command: commands.Command, now: datetime) -> tuple[OrderState, Event]:
    """Apply one command; return the new state and the one event it leaves."""
    try:
        sources, handler = RULES[type(command)]
    except KeyError:
        raise TypeError(f"unknown command {type(command).__name__}") from None
    if order.status not in sources:
        raise reject("transition_not_allowed",
                     f"工单当前为「{STATUS_NAMES[order.status][0]}」，"
                     f"不能{COMMAND_NAMES.get(type(command), type(command).__name__)}")
    new, kind, data = handler(order, command, now)
    new = replace(new, version=order.version + 1)
    return new, Event(kind, command.actor, now, order.status, new.status, data)

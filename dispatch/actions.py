"""Dispatch's work-order actions: the transitions that need SLA deadlines or the directory.

On the agents' API (`/api/v1/workorders/{number}/...`, next to the core's own actions) and
on the department API (`dispatch.department.api`): dispatch, sub-dispatch, request and
decide an extension. Each builds its command with `dispatch.commands`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dispatch import commands
from dispatch.service import DISPATCH
from hotline.web import schemas as s
from hotline.web.actions import ActionArgs, OrderAction, add_actions
from hotline.web.api import ApiRoutes
from hotline.web.orders import ACTION_RESPONSES, STAFF, SUPERVISORS, TAG, acting_department

if TYPE_CHECKING:
    from hotline.domain import workorder as wo

routes = ApiRoutes()


def context(a: ActionArgs) -> commands.Context:
    """The deadlines' context: dispatch's calendar and SLA rules, at the action's time."""
    return a.request.app[DISPATCH].context(a.now)


def sub_dispatch(a: ActionArgs, department: str) -> wo.Command:
    return commands.sub_dispatch(context(a), a.order, a.actor, department, a.body.to, a.body.note)


def request_extension(a: ActionArgs, department: str) -> wo.Command:
    return commands.request_extension(context(a), a.actor, department, a.body.working_days, a.body.reason)


ACTIONS = [
    OrderAction("dispatch", s.DispatchIn, "派单 / Dispatch to departments",
                lambda a: commands.dispatch(context(a), a.order, a.actor, a.body.lead, a.body.assisting, a.body.note,
                                            a.body.reason), STAFF),
    OrderAction("sub-dispatch", s.SubDispatchIn, "代部门下派 / Sub-dispatch on a department's behalf",
                lambda a: sub_dispatch(a, acting_department(a.body)), SUPERVISORS),
    OrderAction("request-extension", s.ExtensionIn, "代部门申请延期 / Request an extension on a department's behalf",
                lambda a: request_extension(a, acting_department(a.body)), SUPERVISORS),
    OrderAction("decide-extension", s.DecisionIn, "审批延期 / Decide an extension request",
                lambda a: commands.decide_extension(context(a), a.state, a.actor, a.body.approve, a.body.note),
                SUPERVISORS),
]
add_actions(routes, ACTIONS, base="/api/v1/workorders", name="workorder", tags=TAG, extra_responses=ACTION_RESPONSES)

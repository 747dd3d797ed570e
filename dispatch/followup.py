"""Closing the loop (回访 → 评价 → 重办): what happens when a citizen is not satisfied.

The state machine records a rating (first of a round wins) and a follow-up call; this
effect turns a dissatisfied answer (rated 1-2, or "not resolved" on the follow-up call)
into a reopen (重办) and, while the order has been reopened fewer than
`followup.max_reopens` times, a new dispatch to the department that replied, with the
shorter reopen deadline. Past that, the order stays 重办 for a supervisor to decide
(another department, or close with a reason). Both are follow-on commands of the rating's
change (`Change.then`): one transaction, each with its own effects (timers, notices).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dispatch import commands
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import DISSATISFIED_MAX, SATISFACTION

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from dispatch.config import FollowUpSection
    from hotline.storage.models import WorkOrder
    from hotline.workorders import Change


def complaint(event: wo.Event) -> tuple[str, str] | None:
    """(reason, the citizen's words) when this event is a round's dissatisfied answer, else None. Pure.

    >>> from datetime import datetime, UTC
    >>> from hotline.domain.vocabulary import Status
    >>> e = wo.Event("rated", wo.SYSTEM, datetime(2026, 12, 1, tzinfo=UTC), Status.REPLIED, Status.FOLLOW_UP,
    ...              {"level": 2, "comment": "没修好"})
    >>> complaint(e)
    ('市民评价「不满意」', '没修好')
    """
    d = event.data
    if event.kind == "rated" and int(d.get("level") or 0) <= DISSATISFIED_MAX:
        return f"市民评价「{SATISFACTION[int(d['level'])][0]}」", str(d.get("comment") or "")
    if event.kind == "followed_up":
        rating = d.get("rating")
        if rating is not None and not d.get("rating_kept_as_comment") and int(rating) <= DISSATISFIED_MAX:
            return f"回访评价「{SATISFACTION[int(rating)][0]}」", str(d.get("words") or "")
        if d.get("resolved") is False:
            return "回访：市民反映问题未解决", str(d.get("words") or "")
    return None


class Reopening:
    """The effect: a dissatisfied round → 重办, and back to the same department (up to N times)."""

    def __init__(self, config: FollowUpSection, context: Callable[[datetime], commands.Context]) -> None:
        self.config = config
        self.context = context  # now → commands.Context (the calendar, the SLA rules, the directory)

    async def on_change(self, change: Change) -> None:
        found = complaint(change.event)
        if found is None:
            return
        reason, words = found
        lead = change.before.lead()
        department = lead.department if lead is not None else None

        async def reopen(session: AsyncSession, order: WorkOrder, state: wo.OrderState) -> wo.Command:
            return wo.Reopen(wo.SYSTEM, reason, words)

        change.then.append(reopen)
        # The round that is starting is reopen_count + 1; within the limit it goes back by itself.
        # No department to go back to (gone from the directory, no category to time it): the
        # supervisor decides, rather than the citizen's rating failing.
        ctx = self.context(change.now)
        if (department is None or change.after.reopen_count + 1 > self.config.max_reopens
                or ctx.settings.department(department) is None or not change.order.category):
            return  # 重办 awaiting a supervisor's decision: the supervisors' list shows it

        async def redispatch(session: AsyncSession, order: WorkOrder, state: wo.OrderState) -> wo.Command:
            cmd = commands.dispatch(ctx, order, wo.SYSTEM, department, (), words, f"重办（第{state.reopen_count}次）：{reason}")
            # The reopen deadline is shorter than the first: the department knows the matter.
            short = ctx.calendar.add_working_days(change.now, self.config.reopen_reply_working_days)
            reply_by = min(cmd.lead.reply_by, short) if cmd.lead.reply_by else short
            return_by = min(cmd.lead.return_by, reply_by) if cmd.lead.return_by else None
            sign_by = min(cmd.lead.sign_by, reply_by) if cmd.lead.sign_by else None
            return wo.Dispatch(cmd.actor, wo.Plan(department, sign_by, reply_by, return_by), (), cmd.note, cmd.reason)

        change.then.append(redispatch)

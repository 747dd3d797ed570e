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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hotline.domain.vocabulary import (
    ACTIVE_ASSIGNMENT,
    IN_DEPARTMENT,
    OPEN,
    SATISFACTION,
    STATUS_NAMES,
    ActorKind,
    AssignmentRole,
    AssignmentStatus,
    Status,
)
from hotline.errors import TransitionRejected

S = Status


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
    rating: int | None = None
    reopen_count: int = 0
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


# ---------------------------------------------------------------- commands


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
    """回访: the hotline calls the citizen back after the reply."""

    note: str = ""
    reached: bool = True
    rating: int | None = None


@dataclass(frozen=True)
class Rate(Command):
    """评价 on the 5-level scale (5 非常满意 … 1 非常不满意)."""

    level: int = 0
    comment: str = ""


@dataclass(frozen=True)
class Reopen(Command):
    """重办, usually after a dissatisfied rating."""

    reason: str = ""


@dataclass(frozen=True)
class Merge(Command):
    """并单: this order duplicates `into` and ends here."""

    into: str = ""


@dataclass(frozen=True)
class MarkInvalid(Command):
    """无效/骚扰."""

    reason: str = ""


@dataclass(frozen=True)
class Close(Command):
    """归档."""

    note: str = ""


# ---------------------------------------------------------------- guards


def _reject(code: str, detail: str) -> TransitionRejected:
    return TransitionRejected(detail, code=code)


def _require_text(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise _reject("reason_required", f"{what}不能为空")
    return text


def _require_active(order: OrderState, department: str) -> AssignmentState:
    a = order.active_for(department)
    if a is None:
        raise _reject("not_assigned", f"部门 {department} 没有此工单的在办任务")
    return a


def _replace_assignment(order: OrderState, old: AssignmentState,
                        new: AssignmentState) -> tuple[AssignmentState, ...]:
    # Identity, not equality: two assignments may hold equal values.
    return tuple(new if a is old else a for a in order.assignments)


def _withdraw_active(assignments: tuple[AssignmentState, ...]) -> tuple[AssignmentState, ...]:
    return tuple(replace(a, status=AssignmentStatus.WITHDRAWN) if a.active else a
                 for a in assignments)


def _plan_to_assignment(plan: Plan, role: AssignmentRole, parent: str | None) -> AssignmentState:
    return AssignmentState(plan.department, role, AssignmentStatus.DISPATCHED, parent,
                           plan.sign_by, plan.reply_by, plan.return_by)


Outcome = tuple[OrderState, str, dict[str, Any]]


# ---------------------------------------------------------------- handlers


def _register(o: OrderState, c: Register, now: datetime) -> Outcome:
    return replace(o, status=S.REGISTERED), "registered", {}


def _update(o: OrderState, c: UpdateDetails, now: datetime) -> Outcome:
    if not c.changes:
        raise _reject("nothing_to_update", "没有需要修改的内容")
    return o, "updated", {"changes": dict(c.changes)}


def _append_contact(o: OrderState, c: AppendContact, now: datetime) -> Outcome:
    return o, "contact_appended", {"contact_id": c.contact_id, "channel": c.channel}


def _resolve(o: OrderState, c: ResolveDirectly, now: datetime) -> Outcome:
    answer = _require_text(c.answer, "答复内容")
    return replace(o, status=S.RESOLVED_DIRECTLY), "resolved_directly", {"answer": answer}


def _dispatch(o: OrderState, c: Dispatch, now: datetime) -> Outcome:
    if not c.lead.department:
        raise _reject("department_required", "请选择主办部门")
    codes = [c.lead.department, *(p.department for p in c.assisting)]
    if len(set(codes)) != len(codes):
        raise _reject("duplicate_department", "主办与协办部门不能重复")
    assignments = _withdraw_active(o.assignments) + (
        _plan_to_assignment(c.lead, AssignmentRole.LEAD, None),
        *(_plan_to_assignment(p, AssignmentRole.ASSIST, None) for p in c.assisting),
    )
    data: dict[str, Any] = {"lead": c.lead.department,
                            "assisting": [p.department for p in c.assisting]}
    if c.note:
        data["note"] = c.note
    if c.reason:
        data["reason"] = c.reason
    return (replace(o, status=S.DISPATCHED, assignments=assignments, resume_status=None),
            "dispatched", data)


def _sign(o: OrderState, c: SignFor, now: datetime) -> Outcome:
    a = _require_active(o, c.department)
    if a.status is AssignmentStatus.SIGNED:
        raise _reject("already_signed", f"部门 {c.department} 已签收")
    signed = replace(a, status=AssignmentStatus.SIGNED)
    status = S.SIGNED if a.is_lead and o.status is S.DISPATCHED else o.status
    late = a.sign_by is not None and now > a.sign_by
    return (replace(o, status=status, assignments=_replace_assignment(o, a, signed)),
            "signed", {"department": c.department, "late": late})


def _sub_dispatch(o: OrderState, c: SubDispatch, now: datetime) -> Outcome:
    a = _require_active(o, c.department)
    if a.status is not AssignmentStatus.SIGNED:
        raise _reject("sign_first", "请先签收再下派")
    if c.to_parent != c.department:
        raise _reject("not_subordinate", f"{c.to.department} 不是 {c.department} 的下级单位")
    if o.active_for(c.to.department) is not None:
        raise _reject("duplicate_department", f"{c.to.department} 已有在办任务")
    child = _plan_to_assignment(c.to, a.role, c.department)
    data: dict[str, Any] = {"department": c.department, "to": c.to.department}
    if c.note:
        data["note"] = c.note
    return replace(o, assignments=(*o.assignments, child)), "sub_dispatched", data


def _progress(o: OrderState, c: AddProgress, now: datetime) -> Outcome:
    note = _require_text(c.note, "进展说明")
    if c.department is not None:
        _require_active(o, c.department)
    return o, "progress", {"department": c.department, "note": note}


def _reply(o: OrderState, c: Reply, now: datetime) -> Outcome:
    a = _require_active(o, c.department)
    result = _require_text(c.result, "办理结果")
    if a.status is not AssignmentStatus.SIGNED:
        raise _reject("sign_first", "请先签收再回复")
    replied = replace(a, status=AssignmentStatus.REPLIED)
    assignments = _replace_assignment(o, a, replied)
    data: dict[str, Any] = {"department": c.department, "result": result,
                            "late": a.reply_by is not None and now > a.reply_by}
    if c.attachments:
        data["attachments"] = list(c.attachments)
    if not a.is_lead:
        return replace(o, assignments=assignments), "replied", data
    if o.status not in (S.SIGNED, S.EXTENSION_REQUESTED):
        raise _reject("transition_not_allowed", "工单当前状态不允许回复")
    # The order leaves the departments: helpers still open are done with it.
    return (replace(o, status=S.REPLIED, assignments=_withdraw_active(assignments),
                    resume_status=None, pending_extension_days=None), "replied", data)


def _return(o: OrderState, c: ReturnOrder, now: datetime) -> Outcome:
    a = _require_active(o, c.department)
    reason = _require_text(c.reason, "退单理由")
    if a.return_by is not None and now > a.return_by:
        raise _reject("return_window_passed", "已超过退单时限，不能退单，请申请协调")
    returned = replace(a, status=AssignmentStatus.RETURNED)
    assignments = _replace_assignment(o, a, returned)
    data = {"department": c.department, "reason": reason, "assignment_status": a.status.value}
    if not a.is_lead:
        return replace(o, assignments=assignments), "returned", data
    if o.status not in (S.DISPATCHED, S.SIGNED):
        raise _reject("transition_not_allowed", "工单当前状态不允许退单")
    return (replace(o, status=S.RETURNED, assignments=assignments, resume_status=o.status),
            "returned", data)


def _review_return(o: OrderState, c: ReviewReturn, now: datetime) -> Outcome:
    lead = o.lead()
    assert lead is not None and lead.status is AssignmentStatus.RETURNED  # by RETURNED's definition
    if c.accept:
        return (replace(o, status=S.REGISTERED, assignments=_withdraw_active(o.assignments),
                        resume_status=None), "return_accepted", {"department": lead.department,
                                                                 "note": c.note})
    note = _require_text(c.note, "驳回理由")
    back = S.SIGNED if o.resume_status is S.SIGNED else S.DISPATCHED
    restored = replace(lead, status=AssignmentStatus(back.value))
    return (replace(o, status=back, assignments=_replace_assignment(o, lead, restored),
                    resume_status=None), "return_refused", {"department": lead.department,
                                                            "note": note})


def _request_extension(o: OrderState, c: RequestExtension, now: datetime) -> Outcome:
    a = _require_active(o, c.department)
    if not a.is_lead:
        raise _reject("not_lead", "只有主办部门可以申请延期")
    reason = _require_text(c.reason, "延期理由")
    if not 1 <= c.working_days <= c.max_working_days:
        raise _reject("extension_too_long",
                      f"延期天数须为 1 至 {c.max_working_days} 个工作日")
    if a.reply_by is not None and now >= a.reply_by:
        raise _reject("deadline_passed", "已超过办理时限，不能再申请延期")
    return (replace(o, status=S.EXTENSION_REQUESTED, resume_status=o.status,
                    pending_extension_days=c.working_days),
            "extension_requested", {"department": c.department, "working_days": c.working_days,
                                    "reason": reason})


def _decide_extension(o: OrderState, c: DecideExtension, now: datetime) -> Outcome:
    lead = o.lead()
    assert lead is not None
    days = o.pending_extension_days or 0
    base = replace(o, status=o.resume_status or S.SIGNED, resume_status=None,
                   pending_extension_days=None)
    if not c.approve:
        note = _require_text(c.note, "不予延期的理由")
        return base, "extension_refused", {"department": lead.department, "note": note}
    if c.new_reply_by is None:
        raise _reject("deadline_required", "缺少延期后的办理时限")
    extended = replace(lead, reply_by=c.new_reply_by, extended_days=lead.extended_days + days)
    return (replace(base, assignments=_replace_assignment(o, lead, extended)),
            "extension_approved", {"department": lead.department, "working_days": days,
                                   "reply_by": c.new_reply_by.isoformat(), "note": c.note})


def _check_rating(level: int | None) -> None:
    if level is not None and level not in SATISFACTION:
        raise _reject("bad_rating", "满意度须为 1（非常不满意）至 5（非常满意）")


def _follow_up(o: OrderState, c: FollowUp, now: datetime) -> Outcome:
    _check_rating(c.rating)
    rating = c.rating if c.rating is not None else o.rating
    return (replace(o, status=S.FOLLOW_UP, rating=rating), "followed_up",
            {"note": c.note, "reached": c.reached, "rating": c.rating})


def _rate(o: OrderState, c: Rate, now: datetime) -> Outcome:
    _check_rating(c.level)
    return (replace(o, status=S.FOLLOW_UP, rating=c.level), "rated",
            {"level": c.level, "comment": c.comment})


def _reopen(o: OrderState, c: Reopen, now: datetime) -> Outcome:
    reason = _require_text(c.reason, "重办理由")
    return (replace(o, status=S.REOPENED, reopen_count=o.reopen_count + 1),
            "reopened", {"reason": reason, "rating": o.rating})


def _merge(o: OrderState, c: Merge, now: datetime) -> Outcome:
    if not c.into:
        raise _reject("merge_target_required", "请指定并入的工单")
    return (replace(o, status=S.MERGED, merged_into=c.into,
                    assignments=_withdraw_active(o.assignments)), "merged", {"into": c.into})


def _invalidate(o: OrderState, c: MarkInvalid, now: datetime) -> Outcome:
    reason = _require_text(c.reason, "无效原因")
    return replace(o, status=S.INVALID), "invalidated", {"reason": reason}


def _close(o: OrderState, c: Close, now: datetime) -> Outcome:
    return replace(o, status=S.CLOSED), "closed", {"note": c.note, "rating": o.rating}


_Handler = Callable[[OrderState, Any, datetime], Outcome]

# The diagram: which statuses each command may start from. DESIGN's flow, as data.
RULES: dict[type[Command], tuple[frozenset[Status], _Handler]] = {
    Register: (frozenset({S.DRAFT}), _register),
    UpdateDetails: (OPEN, _update),
    AppendContact: (OPEN, _append_contact),
    ResolveDirectly: (frozenset({S.DRAFT, S.REGISTERED, S.REOPENED}), _resolve),
    Dispatch: (frozenset({S.REGISTERED, S.REOPENED}), _dispatch),
    SignFor: (IN_DEPARTMENT, _sign),
    SubDispatch: (frozenset({S.SIGNED, S.EXTENSION_REQUESTED}), _sub_dispatch),
    AddProgress: (IN_DEPARTMENT, _progress),
    Reply: (IN_DEPARTMENT, _reply),
    ReturnOrder: (IN_DEPARTMENT, _return),
    ReviewReturn: (frozenset({S.RETURNED}), _review_return),
    RequestExtension: (frozenset({S.SIGNED}), _request_extension),
    DecideExtension: (frozenset({S.EXTENSION_REQUESTED}), _decide_extension),
    FollowUp: (frozenset({S.REPLIED, S.RESOLVED_DIRECTLY}), _follow_up),
    Rate: (frozenset({S.REPLIED, S.RESOLVED_DIRECTLY, S.FOLLOW_UP}), _rate),
    Reopen: (frozenset({S.FOLLOW_UP, S.CLOSED}), _reopen),
    Merge: (OPEN, _merge),
    MarkInvalid: (frozenset({S.DRAFT, S.REGISTERED}), _invalidate),
    Close: (frozenset({S.FOLLOW_UP, S.RESOLVED_DIRECTLY}), _close),
}


COMMAND_NAMES: dict[type[Command], str] = {
    Register: "受理", UpdateDetails: "修改工单", AppendContact: "补充诉求",
    ResolveDirectly: "直接办结", Dispatch: "派单", SignFor: "签收", SubDispatch: "下派",
    AddProgress: "反馈进展", Reply: "办结回复", ReturnOrder: "退单", ReviewReturn: "审核退单",
    RequestExtension: "申请延期", DecideExtension: "审批延期", FollowUp: "回访", Rate: "评价",
    Reopen: "重办", Merge: "并单", MarkInvalid: "标记无效", Close: "归档",
}


def allowed(order: OrderState, command_type: type[Command]) -> bool:
    return order.status in RULES[command_type][0]


def transition(order: OrderState, command: Command, now: datetime) -> tuple[OrderState, Event]:
    """Apply one command; return the new state and the one event it leaves."""
    try:
        sources, handler = RULES[type(command)]
    except KeyError:
        raise TypeError(f"unknown command {type(command).__name__}") from None
    if order.status not in sources:
        raise _reject("transition_not_allowed",
                      f"工单当前为「{STATUS_NAMES[order.status][0]}」，"
                      f"不能{COMMAND_NAMES.get(type(command), type(command).__name__)}")
    new, kind, data = handler(order, command, now)
    new = replace(new, version=order.version + 1)
    return new, Event(kind, command.actor, now, order.status, new.status, data)

"""The rules of the state machine: which statuses each command may start from (`RULES`, the
diagram as data), the guards, and one handler per command that says what changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from hotline.domain.commands import (
    AddProgress,
    AppendContact,
    Close,
    Command,
    DecideExtension,
    Dispatch,
    FollowUp,
    MarkInvalid,
    Merge,
    Plan,
    Rate,
    Register,
    Reopen,
    Reply,
    ReplyWithParent,
    RequestExtension,
    ResolveDirectly,
    ReturnOrder,
    ReviewReturn,
    SignFor,
    SubDispatch,
    UpdateDetails,
)
from hotline.domain.state import AssignmentState, OrderState
from hotline.domain.vocabulary import (
    DISSATISFIED_MAX,
    IN_DEPARTMENT,
    OPEN,
    SATISFACTION,
    ActorKind,
    AssignmentRole,
    AssignmentStatus,
    Status,
)
from hotline.errors import TransitionRejected

S = Status


# ---------------------------------------------------------------- guards


def reject(code: str, detail: str) -> TransitionRejected:
    return TransitionRejected(detail, code=code)


def _require_text(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise reject("reason_required", f"{what}不能为空")
    return text


def _require_active(order: OrderState, department: str) -> AssignmentState:
    a = order.active_for(department)
    if a is None:
        raise reject("not_assigned", f"部门 {department} 没有此工单的在办任务")
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
        raise reject("nothing_to_update", "没有需要修改的内容")
    return o, "updated", {"changes": dict(c.changes)}


def _append_contact(o: OrderState, c: AppendContact, now: datetime) -> Outcome:
    return o, "contact_appended", {"contact_id": c.contact_id, "channel": c.channel}


def _resolve(o: OrderState, c: ResolveDirectly, now: datetime) -> Outcome:
    answer = _require_text(c.answer, "答复内容")
    return replace(o, status=S.RESOLVED_DIRECTLY), "resolved_directly", {"answer": answer}


def _dispatch(o: OrderState, c: Dispatch, now: datetime) -> Outcome:
    if not c.lead.department:
        raise reject("department_required", "请选择主办部门")
    codes = [c.lead.department, *(p.department for p in c.assisting)]
    if len(set(codes)) != len(codes):
        raise reject("duplicate_department", "主办与协办部门不能重复")
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
        raise reject("already_signed", f"部门 {c.department} 已签收")
    signed = replace(a, status=AssignmentStatus.SIGNED)
    status = S.SIGNED if a.is_lead and o.status is S.DISPATCHED else o.status
    late = a.sign_by is not None and now > a.sign_by
    return (replace(o, status=status, assignments=_replace_assignment(o, a, signed)),
            "signed", {"department": c.department, "late": late})


def _sub_dispatch(o: OrderState, c: SubDispatch, now: datetime) -> Outcome:
    a = _require_active(o, c.department)
    if a.status is not AssignmentStatus.SIGNED:
        raise reject("sign_first", "请先签收再下派")
    if c.to_parent != c.department:
        raise reject("not_subordinate", f"{c.to.department} 不是 {c.department} 的下级单位")
    if o.active_for(c.to.department) is not None:
        raise reject("duplicate_department", f"{c.to.department} 已有在办任务")
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
        raise reject("sign_first", "请先签收再回复")
    replied = replace(a, status=AssignmentStatus.REPLIED)
    assignments = _replace_assignment(o, a, replied)
    data: dict[str, Any] = {"department": c.department, "result": result,
                            "late": a.reply_by is not None and now > a.reply_by}
    if c.attachments:
        data["attachments"] = list(c.attachments)
    if not a.is_lead:
        return replace(o, assignments=assignments), "replied", data
    if o.status not in (S.SIGNED, S.EXTENSION_REQUESTED):
        raise reject("transition_not_allowed", "工单当前状态不允许回复")
    # The order leaves the departments: helpers still open are done with it.
    return (replace(o, status=S.REPLIED, assignments=_withdraw_active(assignments),
                    resume_status=None, pending_extension_days=None), "replied", data)


def _return(o: OrderState, c: ReturnOrder, now: datetime) -> Outcome:
    a = _require_active(o, c.department)
    reason = _require_text(c.reason, "退单理由")
    if a.return_by is not None and now > a.return_by:
        raise reject("return_window_passed", "已超过退单时限，不能退单，请申请协调")
    returned = replace(a, status=AssignmentStatus.RETURNED)
    assignments = _replace_assignment(o, a, returned)
    data = {"department": c.department, "reason": reason, "assignment_status": a.status.value}
    if not a.is_lead:
        return replace(o, assignments=assignments), "returned", data
    if o.status not in (S.DISPATCHED, S.SIGNED):
        raise reject("transition_not_allowed", "工单当前状态不允许退单")
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
        raise reject("not_lead", "只有主办部门可以申请延期")
    reason = _require_text(c.reason, "延期理由")
    if not 1 <= c.working_days <= c.max_working_days:
        raise reject("extension_too_long",
                      f"延期天数须为 1 至 {c.max_working_days} 个工作日")
    if a.reply_by is not None and now >= a.reply_by:
        raise reject("deadline_passed", "已超过办理时限，不能再申请延期")
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
        raise reject("deadline_required", "缺少延期后的办理时限")
    extended = replace(lead, reply_by=c.new_reply_by, extended_days=lead.extended_days + days)
    return (replace(base, assignments=_replace_assignment(o, lead, extended)),
            "extension_approved", {"department": lead.department, "working_days": days,
                                   "reply_by": c.new_reply_by.isoformat(), "note": c.note})


def _check_rating(level: int | None) -> None:
    if level is not None and level not in SATISFACTION:
        raise reject("bad_rating", "满意度须为 1（非常不满意）至 5（非常满意）")


def _dissatisfied(rating: int | None, resolved: bool | None) -> bool:
    return (rating is not None and rating <= DISSATISFIED_MAX) or resolved is False


def _follow_up(o: OrderState, c: FollowUp, now: datetime) -> Outcome:
    _check_rating(c.rating)
    data: dict[str, Any] = {"note": c.note, "reached": c.reached, "rating": c.rating, "resolved": c.resolved,
                            "words": c.words.strip(), "round": o.reopen_count}
    if not c.reached:  # an attempt: the order waits for the next one where it is
        return o, "follow_up_attempted", data
    first = o.rating is None and c.rating is not None
    if c.rating is not None and not first:
        data["rating_kept_as_comment"] = True  # the citizen rated first, on their own channel
    rating = c.rating if first else o.rating
    # This round's answer decides: a good one settles an earlier round's complaint.
    dissatisfied = (_dissatisfied(rating, c.resolved) if rating is not None or c.resolved is not None
                    else o.dissatisfied)
    return (replace(o, status=S.FOLLOW_UP, rating=rating, dissatisfied=dissatisfied), "followed_up", data)


def _rate(o: OrderState, c: Rate, now: datetime) -> Outcome:
    _check_rating(c.level)
    data = {"level": c.level, "comment": c.comment, "source": c.source, "round": o.reopen_count}
    if o.rating is not None:  # one rating per round: the first wins, this one is a comment
        return o, "rating_comment", data
    return (replace(o, status=S.FOLLOW_UP, rating=c.level, dissatisfied=_dissatisfied(c.level, None)),
            "rated", data)


def _reopen(o: OrderState, c: Reopen, now: datetime) -> Outcome:
    reason = _require_text(c.reason, "重办理由")
    # A new round: its own rating. `dissatisfied` stays until a round ends well or a supervisor decides.
    return (replace(o, status=S.REOPENED, reopen_count=o.reopen_count + 1, rating=None),
            "reopened", {"reason": reason, "rating": o.rating, "words": c.words.strip(),
                         "round": o.reopen_count + 1})


def _merge(o: OrderState, c: Merge, now: datetime) -> Outcome:
    if not c.into:
        raise reject("merge_target_required", "请指定并入的工单")
    return (replace(o, status=S.MERGED, merged_into=c.into,
                    assignments=_withdraw_active(o.assignments)), "merged", {"into": c.into})


def _reply_with_parent(o: OrderState, c: ReplyWithParent, now: datetime) -> Outcome:
    if not c.parent or o.merged_into != c.parent:
        raise reject("not_merged_into", f"本工单未并入工单 {c.parent}")
    result = _require_text(c.result, "办理结果")
    return (replace(o, status=S.REPLIED), "replied",
            {"department": c.department, "result": result, "parent": c.parent})


def _invalidate(o: OrderState, c: MarkInvalid, now: datetime) -> Outcome:
    reason = _require_text(c.reason, "无效原因")
    return replace(o, status=S.INVALID), "invalidated", {"reason": reason}


def _close(o: OrderState, c: Close, now: datetime) -> Outcome:
    # A dissatisfied or reopened order is the supervisor's to decide (重办 elsewhere, or
    # close), and the decision carries its reason.
    if o.status is S.REOPENED or o.dissatisfied:
        if c.actor.kind not in (ActorKind.SUPERVISOR, ActorKind.ADMIN):
            raise reject("decision_required", "市民不满意或重办中的工单须由班长/督查人员决定后归档")
        reason = _require_text(c.note, "归档理由")
        return (replace(o, status=S.CLOSED, dissatisfied=False), "closed",
                {"note": reason, "rating": o.rating, "decision": True})
    return replace(o, status=S.CLOSED, dissatisfied=False), "closed", {"note": c.note, "rating": o.rating}


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
    FollowUp: (frozenset({S.REPLIED, S.RESOLVED_DIRECTLY, S.FOLLOW_UP}), _follow_up),
    Rate: (frozenset({S.REPLIED, S.RESOLVED_DIRECTLY, S.FOLLOW_UP}), _rate),
    Reopen: (frozenset({S.FOLLOW_UP, S.CLOSED}), _reopen),
    Merge: (OPEN, _merge),
    ReplyWithParent: (frozenset({S.MERGED}), _reply_with_parent),
    MarkInvalid: (frozenset({S.DRAFT, S.REGISTERED}), _invalidate),
    Close: (frozenset({S.FOLLOW_UP, S.RESOLVED_DIRECTLY, S.REOPENED}), _close),
}


COMMAND_NAMES: dict[type[Command], str] = {
    Register: "受理", UpdateDetails: "修改工单", AppendContact: "补充诉求",
    ResolveDirectly: "直接办结", Dispatch: "派单", SignFor: "签收", SubDispatch: "下派",
    AddProgress: "反馈进展", Reply: "办结回复", ReturnOrder: "退单", ReviewReturn: "审核退单",
    RequestExtension: "申请延期", DecideExtension: "审批延期", FollowUp: "回访", Rate: "评价",
    Reopen: "重办", Merge: "并单", ReplyWithParent: "并单答复", MarkInvalid: "标记无效", Close: "归档",
}


def allowed(order: OrderState, command_type: type[Command]) -> bool:
    return order.status in RULES[command_type][0]

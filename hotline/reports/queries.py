"""Every SQL statement of the KPIs: counts over the event log (`order_events` joined to
`work_orders`) and the call records (`calls`), grouped, for a period [start, end).

One source of truth: nothing here reads a counter that could drift. The order measures are
one grouped statement over the period's events (`ix_order_events_at_kind`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, String, and_, case, cast, false, func, literal, or_, select
from sqlalchemy.orm import aliased

from hotline.reports.models import AssessmentNote
from hotline.storage.models import OrderEvent, WorkOrder
from hotline.telephony.models import CallbackTask, CallRecord

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from sqlalchemy import ColumnElement, SQLColumnExpression
    from sqlalchemy.ext.asyncio import AsyncSession

Measures = dict[str, dict[str, float | None]]  # group → measure → value

E, W, C = OrderEvent, WorkOrder, CallRecord


def _flag(key: str) -> ColumnElement[bool]:
    return E.data[key].as_boolean()


def day_of(session: AsyncSession, column: Any, tz: tzinfo, start: datetime) -> SQLColumnExpression[Any]:
    """The day (YYYY-MM-DD) a stored UTC time falls on in the hotline's time zone. PostgreSQL
    knows the zone's rules; SQLite gets the zone's offset at the period's start (exact for
    a zone without summer time, as Asia/Shanghai)."""
    if session.get_bind().dialect.name == "sqlite":
        offset = start.astimezone(tz).utcoffset() or timedelta()
        return func.strftime("%Y-%m-%d", column, f"{int(offset.total_seconds()):+d} seconds")
    return func.to_char(func.timezone(str(tz), column), "YYYY-MM-DD")


def _order_group(session: AsyncSession, by: str | None, tz: tzinfo, start: datetime) -> SQLColumnExpression[Any]:
    if by == "day":
        return day_of(session, E.at, tz, start)
    # The department the event is about (a sign-for, a reply, a return; a dispatch's lead), else the order's lead.
    dept = func.coalesce(E.data["department"].as_string(), E.data["lead"].as_string(), W.lead_department)
    return {None: literal(""), "department": dept, "area": W.area, "channel": W.channel, "category": W.category,
            "legacy_line": W.legacy_line, "agent": cast(W.agent_id, String)}[by]


def _call_group(session: AsyncSession, by: str | None, tz: tzinfo, start: datetime) -> SQLColumnExpression[Any] | None:
    if by == "day":
        return day_of(session, C.started_at, tz, start)
    # Area and category a call has through its order (`calls.work_order_id`); "" without one.
    return {None: literal(""), "channel": literal("phone"), "agent": cast(C.agent_id, String),
            "legacy_line": C.legacy_line, "area": W.area, "category": W.category}.get(by)


def _seconds(session: AsyncSession, later: Any, earlier: Any) -> ColumnElement[Any]:
    """Whole seconds from `earlier` to `later`, on both engines (SQLite keeps UTC text)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", later), Integer) - cast(func.strftime("%s", earlier), Integer)
    return func.extract("epoch", later - earlier)


def _contacts(session: AsyncSession, q: Any, start: datetime, end: datetime, written_within_seconds: int,
              repeat_within_seconds: int) -> tuple[Any, list[tuple[str, tuple[ColumnElement[bool], ...], bool]]]:
    """书面诉求3分钟响应 and 一次解决 (docs/kpi.md) as outer joins onto the main statement's
    `created` and `resolved_directly` rows, and their measures (distinct orders, so a row a
    join repeats counts once; every other measure reads rows of other kinds, which the joins
    leave alone). As correlated subqueries inside the CASEs PostgreSQL read the whole event
    log for them (ten times slower, bench/report.py); the bounds on `at` keep both event
    joins in the index's range of the period.

    - written contacts: `created` into 登记 on a channel other than the phone; answered when
      an event of the order leaves 登记 (`from_status = registered`) within the time;
    - first-contact resolved: `resolved_directly`, never `reopened` afterwards, and no other
      order of the same citizen in the same category created from it until the window's end."""
    answer, reopen, again = aliased(OrderEvent), aliased(OrderEvent), aliased(WorkOrder)
    written = and_(E.kind == "created", E.to_status == "registered", W.channel != "phone")
    direct = E.kind == "resolved_directly"
    q = (q.outerjoin(answer, and_(E.kind == "created", answer.work_order_id == E.work_order_id,
                                  answer.at >= start, answer.at < end + timedelta(seconds=written_within_seconds),
                                  answer.from_status == "registered", answer.to_status != "registered",
                                  _seconds(session, answer.at, E.at) <= written_within_seconds))
         .outerjoin(reopen, and_(direct, reopen.work_order_id == E.work_order_id, reopen.at >= start,
                                 reopen.kind == "reopened"))
         # The citizen only on a direct answer's row: the other rows look up nothing (NULL).
         .outerjoin(again, and_(direct, again.citizen_id == case((direct, W.citizen_id), else_=None),
                                again.id != W.id, func.coalesce(again.category, "") == func.coalesce(W.category, ""),
                                again.created_at >= W.created_at,
                                _seconds(session, again.created_at, W.created_at) <= repeat_within_seconds)))
    return q, [("written_contacts", (written,), True),
               ("written_answered_3min", (written, answer.id.is_not(None)), True),
               ("orders_first_contact_resolved", (direct, reopen.id.is_(None), again.id.is_(None)), True)]


Progress = Callable[[int, int], None]  # (statements done, statements in all)


async def order_measures(session: AsyncSession, by: str | None, start: datetime, end: datetime,
                         progress: Progress | None = None, *, tz: tzinfo = UTC, written_within_seconds: int = 180,
                         repeat_within_seconds: int = 7 * 86400) -> Measures:
    out: Measures = {}
    lead_reply = and_(E.kind == "replied", E.to_status == "replied")
    first_rating = or_(E.kind == "rated", and_(E.kind == "followed_up", E.data["rating"].as_integer().is_not(None),
                                               func.coalesce(_flag("rating_kept_as_comment"), false()) == false()))
    rating = func.coalesce(E.data["level"].as_integer(), E.data["rating"].as_integer())
    steps: list[tuple[str, tuple[ColumnElement[bool], ...], bool]] = [
        ("orders_received", (E.kind == "created", E.to_status != "draft"), True),
        ("orders_registered_from_draft", (E.kind == "registered",), True),
        ("orders_resolved_directly", (E.kind == "resolved_directly",), True),
        ("signs", (E.kind == "signed",), False),
        ("signs_on_time", (E.kind == "signed", _flag("late") == false()), False),
        ("replies", (E.kind == "replied",), False),
        ("replies_on_time", (E.kind == "replied", _flag("late") == false()), False),
        ("completions", (lead_reply,), False),
        ("completions_on_time", (lead_reply, _flag("late") == false()), False),
        ("orders_dispatched", (E.kind == "dispatched",), True),
        ("orders_returned", (E.kind == "returned",), True),
        ("orders_extended", (E.kind == "extension_approved",), True),
        ("orders_completed", (or_(lead_reply, E.kind == "resolved_directly"),), True),
        ("orders_reopened", (E.kind == "reopened",), True),
        ("orders_followed_up", (or_(E.kind == "followed_up", E.kind == "rated"),), True),
        ("follow_ups_answered", (E.kind == "followed_up", _flag("resolved").is_not(None)), False),
        ("follow_ups_resolved", (E.kind == "followed_up", _flag("resolved") == True), False),  # noqa: E712 - SQL
        ("ratings", (first_rating,), False),
        ("ratings_satisfied", (first_rating, rating >= 3), False),
        # What the assessment (考评) deducts for: returns the hotline refused (推诿扯皮), reopens.
        ("return_refused", (E.kind == "return_refused",), False),
        ("reopened", (E.kind == "reopened",), False),
    ]
    # One statement: every measure a conditional aggregate over the period's events, so
    # the month is read once (as the hand-written aggregate of bench/report.py does).
    group = _order_group(session, by, tz, start)
    joined, more = _contacts(session, select().select_from(E).join(W, W.id == E.work_order_id), start, end,
                             written_within_seconds, repeat_within_seconds)
    steps += more
    cols = [func.count(func.distinct(case((and_(*where), E.work_order_id), else_=None))) if orders
            else func.sum(case((and_(*where), 1), else_=0)) for _, where, orders in steps]
    q = joined.add_columns(group, *cols).where(E.at >= start, E.at < end).group_by(group)
    for key, *values in (await session.execute(q)).all():
        out[key or ""] = {code: int(v or 0) for (code, _, _), v in zip(steps, values, strict=True)}
    if progress is not None:
        progress(1, 3)  # and the calls, the callbacks
    for m in out.values():  # a call's draft counts when the agent registers it (受理)
        m["orders_received"] = (m.get("orders_received") or 0) + (m.pop("orders_registered_from_draft", 0) or 0)
    return out


async def call_measures(session: AsyncSession, by: str | None, start: datetime, end: datetime,
                        *, short_abandon_seconds: int, answer_within_seconds: int, tz: tzinfo = UTC) -> Measures:
    """Inbound calls that started in the period (faxes are not calls an agent could answer)."""
    group = _call_group(session, by, tz, start)
    if group is None:
        return {}
    answered = C.outcome.in_(("answered", "transferred"))
    short = and_(C.outcome == "abandoned", func.coalesce(C.wait_seconds, 0) < short_abandon_seconds)
    q = (select(group,
                func.count(C.id),
                func.sum(case((answered, 1), else_=0)),
                func.sum(case((and_(answered, func.coalesce(C.wait_seconds, 0) <= answer_within_seconds), 1),
                              else_=0)),
                func.sum(case((C.outcome == "abandoned", 1), else_=0)),
                func.sum(case((short, 1), else_=0)),
                func.sum(case((C.outcome == "overflowed", 1), else_=0)),
                func.avg(case((answered, C.wait_seconds), else_=None)),
                func.avg(case((answered, C.talk_seconds), else_=None)),
                func.avg(case((answered, C.data["wrapup_seconds"].as_integer()), else_=None)))
         .select_from(C).outerjoin(W, W.id == C.work_order_id)
         .where(C.direction == "inbound", C.outcome != "fax", C.started_at >= start, C.started_at < end)
         .group_by(group))
    out: Measures = {}
    for key, offered, ans, ans15, abandoned, short_n, overflowed, asa, aht, wrap in (await session.execute(q)).all():
        out[key or ""] = {"calls_offered": offered, "calls_answered": ans or 0, "calls_answered_15s": ans15 or 0,
                          "calls_abandoned": abandoned or 0, "calls_short_abandoned": short_n or 0,
                          "calls_overflowed": overflowed or 0, "calls_counted": offered - (short_n or 0),
                          "avg_speed_of_answer": float(asa) if asa is not None else None,
                          "avg_handle_time": float(aht) if aht is not None else None,
                          "avg_wrapup_time": float(wrap) if wrap is not None else None}
    return out


async def callback_measures(session: AsyncSession, by: str | None, start: datetime, end: datetime,
                            tz: tzinfo = UTC) -> Measures:
    """漏接回拨: callback tasks opened in the period (missed calls), how many reached the
    citizen (a callback that got through, or the citizen called again and was answered),
    and the mean delay from the missed call to that. Whole hotline, per agent or per day."""
    if by not in (None, "agent", "day"):
        return {}
    T = CallbackTask
    group = {None: literal(""), "agent": cast(T.agent_id, String), "day": day_of(session, T.created_at, tz, start)}[by]
    reached = T.result.in_(("reached", "called_again"))
    rows = (await session.execute(select(group, T.created_at, T.done_at, reached)
                                  .where(T.created_at >= start, T.created_at < end))).all()
    out: Measures = {}
    delays: dict[str, list[float]] = {}
    for key, created, done, ok in rows:
        m = out.setdefault(key or "", {"callbacks": 0, "callbacks_reached": 0})
        m["callbacks"] = (m["callbacks"] or 0) + 1
        if ok and done is not None:
            m["callbacks_reached"] = (m["callbacks_reached"] or 0) + 1
            delays.setdefault(key or "", []).append((done - created).total_seconds())
    for key, m in out.items():
        d = delays.get(key)
        m["callback_delay"] = sum(d) / len(d) if d else None
    return out


async def add_note(session: AsyncSession, month: str, department: str, note: str, author_id: int | None,
                   author_name: str, now: datetime) -> AssessmentNote:
    row = AssessmentNote(month=month, department=department, note=note, author_id=author_id,
                         author_name=author_name, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def notes(session: AsyncSession, month: str) -> dict[str, list[AssessmentNote]]:
    rows = (await session.execute(select(AssessmentNote).where(AssessmentNote.month == month)
                                  .order_by(AssessmentNote.id))).scalars()
    out: dict[str, list[AssessmentNote]] = {}
    for r in rows:
        out.setdefault(r.department, []).append(r)
    return out

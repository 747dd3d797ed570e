"""The KPI definitions (docs/kpi.md): what each figure counts. Pure.

A rate is numerator / denominator over the same period and group; None when the
denominator is 0 (no calls is not a 0 % answer rate). Counts and averages are plain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "rate", "seconds"]
Source = Literal["calls", "orders"]
BY = ("department", "area", "agent", "channel", "category", "legacy_line", "day")


@dataclass(frozen=True)
class Kpi:
    code: str
    zh: str
    en: str
    kind: Kind
    source: Source
    numerator: str = ""  # the counts of `queries` a rate divides (codes of its measures)
    denominator: str = ""


KPIS: tuple[Kpi, ...] = (
    Kpi("calls_offered", "呼入量", "Calls offered", "count", "calls"),
    Kpi("calls_answered", "接通量", "Calls answered", "count", "calls"),
    Kpi("answer_rate", "接通率", "Answer rate", "rate", "calls", "calls_answered", "calls_counted"),
    Kpi("answered_15s_rate", "15秒接通率", "Answered within 15 s", "rate", "calls", "calls_answered_15s",
        "calls_counted"),
    Kpi("calls_abandoned", "放弃量", "Calls abandoned", "count", "calls"),
    Kpi("calls_short_abandoned", "短时放弃量（<5秒）", "Short abandons (< 5 s)", "count", "calls"),
    Kpi("calls_overflowed", "溢出量", "Calls overflowed", "count", "calls"),
    Kpi("avg_speed_of_answer", "平均应答时长（秒）", "Average speed of answer (s)", "seconds", "calls"),
    Kpi("avg_handle_time", "平均通话时长（秒）", "Average talk time (s)", "seconds", "calls"),
    Kpi("avg_wrapup_time", "平均话后处理时长（秒）", "Average wrap-up time (s)", "seconds", "calls"),
    Kpi("callback_rate", "漏接回拨率", "Missed-call callback rate", "rate", "calls", "callbacks_reached", "callbacks"),
    Kpi("callback_delay", "平均回拨时延（秒）", "Average callback delay (s)", "seconds", "calls"),
    Kpi("orders_received", "受理量", "Orders received", "count", "orders"),
    Kpi("written_3min_rate", "书面诉求3分钟响应率", "Written contacts answered within 3 min", "rate", "orders",
        "written_answered_3min", "written_contacts"),
    Kpi("direct_answer_rate", "直接办结率", "Direct-answer rate", "rate", "orders", "orders_resolved_directly",
        "orders_received"),
    Kpi("first_contact_resolution_rate", "一次解决率", "First-contact resolution", "rate", "orders",
        "orders_first_contact_resolved", "orders_received"),
    Kpi("on_time_sign_rate", "按时签收率", "On-time sign-for", "rate", "orders", "signs_on_time", "signs"),
    Kpi("on_time_reply_rate", "按时回复率", "On-time reply", "rate", "orders", "replies_on_time", "replies"),
    Kpi("on_time_completion_rate", "按时办结率", "On-time completion", "rate", "orders", "completions_on_time",
        "completions"),
    Kpi("return_rate", "退单率", "Return rate", "rate", "orders", "orders_returned", "orders_dispatched"),
    Kpi("extension_rate", "延期率", "Extension rate", "rate", "orders", "orders_extended", "orders_dispatched"),
    Kpi("reopen_rate", "重办率", "Reopen rate", "rate", "orders", "orders_reopened", "orders_completed"),
    Kpi("follow_up_rate", "回访率", "Follow-up rate", "rate", "orders", "orders_followed_up", "orders_completed"),
    Kpi("resolution_rate", "解决率", "Resolution rate", "rate", "orders", "follow_ups_resolved",
        "follow_ups_answered"),
    Kpi("satisfaction_rate", "满意率", "Satisfaction rate", "rate", "orders", "ratings_satisfied", "ratings"),
)
BY_CODE = {k.code: k for k in KPIS}


def figures(measures: dict[str, float | None]) -> dict[str, float | None]:
    """The KPIs of one group from its measures (counts and averages). Pure.

    >>> figures({"calls_answered": 19, "calls_counted": 20, "calls_answered_15s": 18})["answer_rate"]
    0.95
    >>> figures({"signs": 0, "signs_on_time": 0})["on_time_sign_rate"] is None
    True
    """
    out: dict[str, float | None] = {}
    for k in KPIS:
        if k.kind == "rate":
            den = measures.get(k.denominator) or 0
            out[k.code] = None if not den else round(float(measures.get(k.numerator) or 0) / float(den), 4)
        else:
            value = measures.get(k.code)
            out[k.code] = None if value is None else (round(float(value), 1) if k.kind == "seconds" else value)
    return out

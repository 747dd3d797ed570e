"""What the public may see of an order (Open311, the app, the portal's status page).

Open/closed in Open311's sense, and status notes taken from the order's history. A
citizen never sees internal steps (returns, extension requests, reviews), and a
confidential report (举报) shows no description or location.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from hotline.domain.vocabulary import Status

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hotline.settings import Settings
    from hotline.storage.models import OrderEvent, WorkOrder

CLOSED = frozenset({Status.REPLIED, Status.RESOLVED_DIRECTLY, Status.FOLLOW_UP, Status.CLOSED, Status.MERGED,
                    Status.INVALID})
Lang = Literal["zh", "en"]


def open_or_closed(status: str) -> str:
    try:
        return "closed" if Status(status) in CLOSED else "open"
    except ValueError:
        return "open"


def dept_name(settings: Settings, code: str | None, lang: Lang = "zh") -> str:
    d = settings.department(code) if code else None
    if d is None:
        return ""
    return d.name_en if lang == "en" and d.name_en else d.name


def event_note(settings: Settings, e: OrderEvent, lang: Lang = "zh") -> str | None:
    """The public sentence for one event, or None for an internal one."""
    d = e.data or {}
    en = lang == "en"
    match e.kind:
        case "created":
            return "Registered" if en else "已受理"
        case "registered":
            return "Registered" if en else "已受理"
        case "dispatched":
            name = dept_name(settings, d.get("lead"), lang)
            return f"Assigned to {name}" if en else f"已转交{name}办理"
        case "signed":
            name = dept_name(settings, d.get("department"), lang)
            return f"Accepted by {name}" if en else f"{name}已签收"
        case "replied" if e.to_status == Status.REPLIED.value:
            return (f"Result: {d.get('result', '')}" if en else f"办理结果：{d.get('result', '')}")
        case "resolved_directly":
            return (f"Answer: {d.get('answer', '')}" if en else f"答复：{d.get('answer', '')}")
        case "rated" | "followed_up":
            return "Follow-up done" if en else "已回访"
        case "reopened":
            return "Reopened for further handling" if en else "重新办理"
        case "merged":
            return (f"Merged into {d.get('into')}" if en else f"已并入工单 {d.get('into')}")
        case "invalidated":
            return "Closed as invalid" if en else "经核实为无效诉求"
        case "closed":
            return "Closed" if en else "已办结归档"
    return None


def status_notes(settings: Settings, events: Sequence[OrderEvent], lang: Lang = "zh") -> str:
    for e in reversed(events):
        note = event_note(settings, e, lang)
        if note is not None:
            return note
    return ""


def public_history(settings: Settings, events: Sequence[OrderEvent], lang: Lang = "zh"
                   ) -> list[tuple[OrderEvent, str]]:
    return [(e, n) for e in events if (n := event_note(settings, e, lang)) is not None]


def hidden(order: WorkOrder) -> bool:
    return bool(order.confidential)

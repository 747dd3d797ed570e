"""Correcting an order's details (修改工单): which fields an agent may change, checked against
the reference data, and writing an accepted `updated` event back onto the row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hotline.domain import workorder as wo
from hotline.errors import ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hotline.settings import Settings
    from hotline.storage.models import WorkOrder

# Fields an agent may correct on an open order, and how to check each.
EDITABLE = ("title", "description", "category", "subject", "area", "address", "latitude", "longitude",
            "urgency", "confidential", "legacy_line", "contact_name")


def update_details(s: Settings, order: WorkOrder, actor: wo.Actor, fields: Mapping[str, Any]) -> wo.UpdateDetails:
    checks = {"category": {c.code for c in s.categories}, "urgency": {u.code for u in s.urgencies},
              "subject": s.subject_codes(), "area": s.area_codes(),
              "legacy_line": {line.number for line in s.legacy_lines}}
    changes: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in EDITABLE:
            raise ValidationFailed(f"字段 {key} 不可修改", code="field_not_editable")
        if key in checks and value is not None and value not in checks[key]:
            raise ValidationFailed(f"{key}: 未知的取值 {value!r}", code=f"unknown_{key}")
        if getattr(order, key) != value:
            changes[key] = value
    return wo.UpdateDetails(actor, changes)


def apply_details(order: WorkOrder, changes: Mapping[str, Any]) -> None:
    """Write an accepted `updated` event's changes onto the row."""
    for key, value in changes.items():
        if key in EDITABLE:
            setattr(order, key, value)

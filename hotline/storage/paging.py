"""Keyset paging, newest first: the cursor is the last id seen, so a page stays stable while
rows arrive. One place for every paged list (orders, notices, dead letters ...)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, TypeVar

from hotline.errors import ValidationFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy import Select
    from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")
MAX_ID = 2**63 - 1  # ids are BIGINT: anything larger is no row's id (and no driver takes it)
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(str(row_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        value = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        value = 0
    if not 1 <= value <= MAX_ID:
        raise ValidationFailed("cursor 无效，请使用上一页返回的 next_cursor", code="bad_cursor")
    return value


def newest_first(q: Q, id_column: InstrumentedAttribute[int], cursor: str | None, limit: int) -> Q:
    """One row more than the page, so that `page` can tell whether another follows."""
    if cursor:
        q = q.where(id_column < decode_cursor(cursor))
    return q.order_by(id_column.desc()).limit(limit + 1)


def page(rows: Sequence[T], limit: int, id_of: Callable[[T], int]) -> tuple[list[T], str | None]:
    """The page's rows, and the cursor of the next page (None: this is the last)."""
    items = list(rows[:limit])
    return items, encode_cursor(id_of(items[-1])) if len(rows) > limit and items else None

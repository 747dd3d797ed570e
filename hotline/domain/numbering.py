"""Work-order numbers: the local date and a daily sequence, e.g. ``20261126000123``.

The sequence itself is allocated by the store (one atomic upsert); this is the format.

>>> format_number(date(2026, 11, 26), 123)
'20261126000123'
>>> parse_number('20261126000123')
(datetime.date(2026, 11, 26), 123)
"""

from __future__ import annotations

from datetime import date, datetime

SEQUENCE_DIGITS = 6


def format_number(day: date, sequence: int) -> str:
    if not 0 < sequence < 10**SEQUENCE_DIGITS:
        raise ValueError(f"daily sequence out of range: {sequence}")
    return f"{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def parse_number(number: str) -> tuple[date, int]:
    if len(number) != 8 + SEQUENCE_DIGITS or not number.isdigit():
        raise ValueError(f"not a work-order number: {number!r}")
    return datetime.strptime(number[:8], "%Y%m%d").date(), int(number[8:])


def looks_like_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return False
    return True

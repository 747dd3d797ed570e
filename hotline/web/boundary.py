"""What the HTTP boundary decides, once, about hostile input (issue 9, item 11).

- **Control characters in text** (JSON strings, form fields, query values, multipart
  fields and file names): the characters XML 1.0 forbids — C0 controls other than tab,
  LF and CR (NUL included), U+FFFE/U+FFFF, lone surrogates — are *removed*. A citizen's
  SMS with a stray NUL is still the citizen's SMS (Twilio does not retry a refusal: it
  would be lost), and what is stored can then be written to PostgreSQL, XML and HTML.
- **Control characters or non-UTF-8 bytes in identifiers** (the path, the headers: an
  `Authorization`, `X-Api-Key`, `X-App-Key`): *refused* with 400; no genuine client
  sends them, and an identifier must not silently become another one.
- **Dates** in filters: an ISO date or date-time; a plain date or a naive time means that
  day (that time) in the county's zone; outside 1900–9998 is refused.
- **Ids and cursors**: positive and within 64 bits (`MAX_ID`), else refused.
- **JSON**: at most `MAX_JSON_DEPTH` levels of nesting.

`xml_safe` applies the same rule on the way out, for what was stored before the rule or
arrives by other doors (AMI, agents' old data): every XML and HTML output uses it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo

if TYPE_CHECKING:
    from aiohttp import web

from hotline.errors import HotlineError, NotFound
from hotline.storage.paging import MAX_ID

# What XML 1.0 does not allow in a document (§2.2 Char), plus the surrogates that stand
# for undecodable bytes (`surrogateescape`).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# In a header or a path even tab, CR and LF have no business.
_IDENT_FORBIDDEN = re.compile("[\x00-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
MAX_JSON_DEPTH = 64
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


class BadInput(HotlineError):
    code = "bad_request"
    status = 400
    title = "请求格式错误"
    title_en = "Bad request"


def clean_text(value: str) -> str:
    """The text without the characters XML 1.0 forbids (see the module's docstring)."""
    return _FORBIDDEN.sub("", value) if _FORBIDDEN.search(value) else value


xml_safe = clean_text


def bad_identifier(value: str) -> bool:
    return _IDENT_FORBIDDEN.search(value) is not None


def too_deep() -> BadInput:
    return BadInput(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层", code="json_too_deep")


def clean_json(data: Any) -> Any:
    """Every string (keys included) cleaned; deeper than MAX_JSON_DEPTH refused."""
    def walk(node: Any, depth: int) -> Any:
        if depth > MAX_JSON_DEPTH:
            raise too_deep()
        if isinstance(node, str):
            return clean_text(node)
        if isinstance(node, list):
            return [walk(x, depth + 1) for x in node]
        if isinstance(node, dict):
            return {clean_text(k): walk(v, depth + 1) for k, v in node.items()}
        return node
    return walk(data, 0)


def parse_when(value: str | datetime | date, zone: tzinfo, *, end_of_day: bool = False) -> datetime:
    """An aware datetime in range. A plain date is that day in `zone` (its start, or with
    `end_of_day` the start of the next day, for exclusive upper bounds); a naive
    date-time is a time in `zone`. ValueError says what is wrong."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("须为 ISO 日期或日期时间，如 2026-12-01 或 2026-12-01T08:00:00+08:00") from None
    if not isinstance(value, datetime):
        if not EARLIEST.year <= value.year < LATEST.year:
            raise ValueError(f"日期超出范围（{EARLIEST.year}–{LATEST.year - 1} 年）")
        value = datetime.combine(value + timedelta(days=1) if end_of_day else value, time(), zone)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"日期超出范围（{EARLIEST.year}–{LATEST.year - 1} 年）") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"日期超出范围（{EARLIEST.year}–{LATEST.year - 1} 年）")
    return utc


def _zone(info: ValidationInfo) -> tzinfo:
    # parse_query hands the county's zone in as validation context.
    ctx = info.context or {}
    return ctx.get("tz") or UTC


def _from(value: Any, info: ValidationInfo) -> Any:
    return value if value is None else parse_when(value, _zone(info))


def _to(value: Any, info: ValidationInfo) -> Any:
    return value if value is None else parse_when(value, _zone(info), end_of_day=True)


# Query filter bounds: `from` (inclusive) and `to` (exclusive; a plain date includes that day).
DayFrom = Annotated[datetime, BeforeValidator(_from)]
DayTo = Annotated[datetime, BeforeValidator(_to)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def path_id(request: web.Request, key: str = "id") -> int:
    """A row id from the path: digits that fit a BIGINT, else the same 404 as a missing row."""
    raw = request.match_info[key]
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 19 else 0
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"{raw[:30]!r} 不是有效的编号", code="not_found")
    return value

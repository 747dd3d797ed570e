"""The boundary's decisions (hotline.web.boundary) and the outage predicate, without a server."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hotline.storage.engine import database_unavailable
from hotline.web.boundary import BadInput, clean_json, clean_text, parse_when
from hotline.web.messages import describe

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_text_loses_what_xml_forbids_and_keeps_the_rest() -> None:
    assert clean_text("路灯\x00坏\x0b了\t\n\r\ufffe\udcff！") == "路灯坏了\t\n\r！"
    assert clean_json({"a\x00": ["x\x01y", 1, None]}) == {"a": ["xy", 1, None]}
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(BadInput):
        clean_json(deep)


def test_a_plain_date_is_the_county_day_and_the_range_is_bounded() -> None:
    assert parse_when("2026-12-01", SHANGHAI) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert parse_when("2026-12-01", SHANGHAI, end_of_day=True) == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert parse_when("2026-12-01T08:00:00", SHANGHAI) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert parse_when("2026-12-01T08:00:00Z", SHANGHAI) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for bad in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "0001-01-01", "2026-13-01", "soon"):
        with pytest.raises(ValueError):
            parse_when(bad, SHANGHAI)


class _AsyncpgLike(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("exc", "unavailable"), [
    (OperationalError("SELECT 1", {}, ConnectionRefusedError()), True),
    (PoolTimeout("QueuePool limit reached"), True),
    (ConnectionRefusedError(), True),
    (DBAPIError("SELECT 1", {}, _AsyncpgLike("57P03")), True),   # cannot_connect_now
    (DBAPIError("SELECT 1", {}, _AsyncpgLike("57P01")), True),   # admin_shutdown (terminated)
    (DBAPIError("SELECT 1", {}, _AsyncpgLike("08006")), True),   # connection_failure
    (DBAPIError("SELECT 1", {}, _AsyncpgLike("53300")), True),   # too_many_connections
    (DBAPIError("SELECT 1", {}, _AsyncpgLike("22021")), False),  # a bad byte: the request's fault
    (IntegrityError("INSERT", {}, _AsyncpgLike("23505")), False),
    (ValueError("x"), False),
])
def test_what_counts_as_the_database_being_away(exc: BaseException, unavailable: bool) -> None:
    assert database_unavailable(exc) is unavailable


def test_every_error_type_the_api_meets_has_chinese_words() -> None:
    errors = [{"loc": ["body", "text"], "type": t, "msg": "English", "ctx": {"min_length": 1, "max_length": 9,
                                                                          "pattern": "^x$", "ge": 1, "le": 5,
                                                                          "gt": 0, "lt": 9, "expected": "'a'"}}
              for t in ("missing", "string_too_long", "string_pattern_mismatch", "int_parsing", "bool_type",
                        "less_than_equal", "extra_forbidden", "enum", "list_type", "datetime_parsing")]
    _, out = describe(errors, "zh")
    assert all("English" not in e["msg"] and e["msg"] for e in out), out
    assert describe(errors[:1], "en")[0] == "text: English"

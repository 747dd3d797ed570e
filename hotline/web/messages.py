"""Validation errors in the caller's language (issue 10, item 15): Chinese first, English
with `?lang=en` — one table for every field error pydantic reports on the JSON API.

    >>> zh_message({"type": "missing", "msg": "Field required", "ctx": {}})
    '必填字段'
    >>> zh_message({"type": "string_too_long", "msg": "...", "ctx": {"max_length": 200}})
    '最多 200 个字符'
    >>> describe([{"loc": ["body", "lead"], "type": "missing", "msg": "Field required", "ctx": {}}], "zh")
    ('lead：必填字段', [{'loc': ['body', 'lead'], 'msg': '必填字段', 'type': 'missing'}])
"""

from __future__ import annotations

from typing import Any

# pydantic's error type → the Chinese text; {name} takes the error's context.
ZH: dict[str, str] = {
    "missing": "必填字段",
    "extra_forbidden": "不允许的字段",
    "string_type": "须为字符串",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符合要求（{pattern}）",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "bool_type": "须为布尔值（true 或 false）",
    "bool_parsing": "须为布尔值（true 或 false）",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须大于或等于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须小于或等于 {le}",
    "enum": "须为以下之一：{expected}",
    "literal_error": "须为以下之一：{expected}",
    "list_type": "须为数组",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "dict_type": "须为对象",
    "model_type": "须为对象",
    "model_attributes_type": "须为对象",
    "datetime_type": "须为日期时间",
    "datetime_parsing": "须为日期时间（如 2026-12-01T08:00:00+08:00）",
    "datetime_from_date_parsing": "须为日期时间（如 2026-12-01T08:00:00+08:00）",
    "date_parsing": "须为日期（如 2026-12-01）",
    "json_invalid": "不是合法的 JSON",
    "json_type": "须为 JSON",
    "union_tag_invalid": "类型不符合要求",
    "finite_number": "须为有限的数字",
}


def zh_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind in ("value_error", "assertion_error"):
        # Our own validators raise Chinese messages (`hotline.web.boundary.parse_when`).
        return str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    template = ZH.get(kind)
    if template is None:
        return f"内容无效（{err.get('msg', kind)}）"
    try:
        return template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return template.split("{")[0].rstrip("：（ ") or template


def describe(errors: list[dict[str, Any]], lang: str) -> tuple[str, list[dict[str, Any]]]:
    """The problem's `detail` (the first error, with its field) and its `errors` list, in
    `lang` ("zh" or "en"); each error keeps its location and its stable `type`."""
    out = []
    for err in errors:
        msg = str(err.get("msg", "")) if lang == "en" else zh_message(err)
        out.append({"loc": err["loc"], "msg": msg, "type": err.get("type", "")})
    first = out[0]
    field = ".".join(str(x) for x in first["loc"][1:]) or str(first["loc"][0])
    return f"{field}{': ' if lang == 'en' else '：'}{first['msg']}", out

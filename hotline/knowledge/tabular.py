"""Knowledge entries as a table: CSV (UTF-8, with or without BOM, as Excel saves it) and
XLSX, Chinese column names first (English ones accepted on import).

    编号 | 问题 | 答案 | 政策依据 | 部门 | 生效日期 | 失效日期 | 标签 | 公开

Reading checks every row and names each problem by its row (第 3 行：…); nothing is
written unless every row is right (the service writes them in one transaction).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hotline.errors import ValidationFailed
from hotline.knowledge.schemas import EntryIn
from hotline.web.messages import zh_message

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from hotline.knowledge.models import KnowledgeEntry

COLUMNS = (("key", "编号"), ("question", "问题"), ("answer", "答案"), ("policy_source", "政策依据"),
           ("department", "部门"), ("valid_from", "生效日期"), ("valid_to", "失效日期"), ("tags", "标签"),
           ("public", "公开"))
HEADERS = {zh: field for field, zh in COLUMNS} | {field: field for field, _ in COLUMNS}
COLUMN_NAMES = dict(COLUMNS)
MAX_ROWS = 100_000
_YES = {"是", "y", "yes", "true", "1", "公开"}
_NO = {"否", "n", "no", "false", "0", "", "不公开"}


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return str(v).strip()


def read_table(data: bytes, fmt: str) -> list[list[str]]:
    """The rows of a CSV or XLSX file, as text; the first is the header."""
    if fmt == "xlsx":
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises a zoo of types for a file that is not XLSX
            raise ValidationFailed(f"无法读取 XLSX 文件：{type(exc).__name__}", code="bad_file") from None
        ws = wb.worksheets[0]
        rows = [[_cell(c) for c in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    else:
        try:
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed("CSV 文件须为 UTF-8 编码（Excel：另存为“CSV UTF-8”）", code="bad_file") from None
        rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO(content))]
    rows = [r for r in rows if any(r)]
    if len(rows) > MAX_ROWS + 1:
        raise ValidationFailed(f"一次最多导入 {MAX_ROWS} 条", code="too_many_rows")
    return rows


def _public(v: str) -> bool:
    low = v.strip().lower()
    if low in _YES:
        return True
    if low in _NO:
        return False
    raise ValueError(f"“公开”应为 是/否，收到 {v!r}")


def parse_rows(rows: Sequence[Sequence[str]], department_of: Callable[[str], str | None]) -> list[EntryIn]:
    """Each row as an entry, or `ValidationFailed` listing every bad row (nothing half-read)."""
    if not rows:
        raise ValidationFailed("文件为空：第一行应为表头（编号、问题、答案……）", code="empty_file")
    header = [HEADERS.get(h.strip().lstrip("\ufeff")) for h in rows[0]]
    missing = [zh for field, zh in COLUMNS if field in ("question", "answer") and field not in header]
    if missing:
        raise ValidationFailed(f"表头缺少列：{'、'.join(missing)}", code="bad_header")
    entries: list[EntryIn] = []
    errors: list[dict[str, Any]] = []
    for n, row in enumerate(rows[1:], start=2):
        raw = {f: (row[i] if i < len(row) else "") for i, f in enumerate(header) if f}
        try:
            dept = raw.get("department", "").strip()
            code = department_of(dept) if dept else None
            if dept and code is None:
                raise ValueError(f"部门“{dept}”不在目录中（填部门代码或全称）")
            data: dict[str, Any] = {
                "key": raw.get("key") or None, "question": raw.get("question", ""),
                "answer": raw.get("answer", ""), "policy_source": raw.get("policy_source", ""),
                "department": code, "valid_from": raw.get("valid_from") or None,
                "valid_to": raw.get("valid_to") or None,
                "tags": [t for t in re.split(r"[;；,，|、]", raw.get("tags", "")) if t.strip()],
                "public": _public(raw.get("public", "")),
            }
            entries.append(EntryIn.model_validate(data))
        except ValidationError as exc:
            # The reader's words: the column as the sheet names it, pydantic's message in Chinese.
            first = exc.errors(include_url=False)[0]
            where = ".".join(COLUMN_NAMES.get(str(x), str(x)) for x in first["loc"])
            msg = zh_message(dict(first))
            errors.append({"row": n, "msg": f"第 {n} 行：{where + '：' if where else ''}{msg}"})
        except ValueError as exc:
            errors.append({"row": n, "msg": f"第 {n} 行：{exc}"})
    keys = [e.key for e in entries if e.key]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        errors.append({"row": None, "msg": f"编号重复：{'、'.join(dupes)}"})
    if errors:
        raise ValidationFailed(errors[0]["msg"] + (f"（另有 {len(errors) - 1} 处问题）" if len(errors) > 1 else ""),
                               code="bad_rows", errors=errors)
    return entries


def _values(e: KnowledgeEntry) -> list[Any]:
    return [e.key, e.question, e.answer, e.policy_source, e.department or "",
            e.valid_from.isoformat() if e.valid_from else "", e.valid_to.isoformat() if e.valid_to else "",
            "；".join(e.tags or []), "是" if e.public else "否"]


def write_csv(entries: Iterable[KnowledgeEntry]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([zh for _, zh in COLUMNS])
    for e in entries:
        w.writerow(_values(e))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM: Excel opens it as UTF-8


def write_xlsx(entries: Iterable[KnowledgeEntry]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("知识库")
    ws.append([zh for _, zh in COLUMNS])
    for e in entries:
        ws.append(_values(e))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

"""Rules of the code base that a linter does not know."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [ROOT / "hotline", ROOT / "channels", ROOT / "dispatch"]


def test_no_asyncio_wait_for() -> None:
    """Python 3.11's wait_for can swallow a cancellation that arrives together with the
    result; a cancelled AMI link then lived on and the consumer never started (seen on
    PostgreSQL, where winning the leader lock raced the stand-by link's login). Use
    `async with asyncio.timeout(...)`."""
    offenders = [f"{p.relative_to(ROOT)}:{n}" for base in PRODUCT for p in base.rglob("*.py")
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\bwait_for\(", line) and not line.lstrip().startswith("#")]
    assert offenders == []


def test_only_the_telephony_module_imports_panoramisk() -> None:
    offenders = [str(p.relative_to(ROOT)) for base in PRODUCT for p in base.rglob("*.py")
                 if re.search(r"^\s*(from|import) panoramisk", p.read_text(encoding="utf-8"), re.M)
                 and "telephony" not in p.parts]
    assert offenders == []


# ---------------------------------------------------------------- where SQL is written

SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "exists", "and_", "or_", "not_", "tuple_",
                "case", "literal", "literal_column", "union", "union_all", "bindparam", "insert_for"}


def _sql_home(rel: Path) -> bool:
    """The core's storage, a module's `queries.py`, models (index predicates) and migrations."""
    return rel.parts[:2] == ("hotline", "storage") or rel.name in ("queries.py", "models.py") or \
        "migrations" in rel.parts


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p.relative_to(ROOT), ast.parse(p.read_text(encoding="utf-8"))) for base in PRODUCT
            for p in sorted(base.rglob("*.py"))]


def test_sql_is_written_only_in_storage_and_the_modules_queries() -> None:
    """Handlers call a use case or a query; use cases call the pure core and the queries."""
    offenders = []
    for rel, tree in _trees():
        if _sql_home(rel):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and (
                    node.module in ("sqlalchemy", "hotline.storage.queries")
                    or node.module.startswith(("sqlalchemy.sql", "sqlalchemy.dialects"))):
                names = sorted(a.name for a in node.names if a.name in SQL_BUILDERS
                               or node.module.startswith("sqlalchemy.dialects"))
                if names:
                    offenders.append(f"{rel}:{node.lineno} imports {', '.join(names)}")
    assert offenders == []


def test_intake_is_the_only_writer_of_contacts() -> None:
    writers, raw = [], []
    for rel, tree in _trees():
        models = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                  and node.module == "hotline.storage.models" for a in node.names if a.name == "Contact"}
        for node in ast.walk(tree):
            imports_statements = (isinstance(node, ast.ImportFrom) and (
                node.module == "hotline.storage.contacts"
                or (node.module == "hotline.storage" and any(a.name == "contacts" for a in node.names))))
            if imports_statements and rel != Path("hotline/intake.py"):
                writers.append(f"{rel}:{node.lineno} uses hotline.storage.contacts")
            if isinstance(node, ast.Call) and rel != Path("hotline/storage/contacts.py"):
                func = node.func.id if isinstance(node.func, ast.Name) else None
                args = [a.id for a in node.args if isinstance(a, ast.Name)]
                if func in models or (func in ("insert", "update", "delete", "insert_for")
                                      and set(args) & models):
                    writers.append(f"{rel}:{node.lineno} writes contacts")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(
                    r"(INSERT INTO|UPDATE|DELETE FROM)\s+contacts\b", node.value, re.I):
                raw.append(str(rel))
    assert writers == []
    assert set(raw) <= {"hotline/storage/fastintake.py"}  # intake's one-statement path on PostgreSQL

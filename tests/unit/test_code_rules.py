"""Rules of the code base that a linter does not know."""

from __future__ import annotations

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

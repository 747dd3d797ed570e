"""`serve --demo`: the sample county's knowledge base, so the desk's knowledge panel and the
portal's FAQ have something to show on a first run. Only into an empty knowledge base:
a supervisor's own entries are never touched."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from hotline.knowledge.tabular import parse_rows, read_table
from hotline.settings import PACKAGE_ROOT

if TYPE_CHECKING:
    from pathlib import Path

    from hotline.knowledge.service import KnowledgeBase

log = logging.getLogger(__name__)

SAMPLE = PACKAGE_ROOT / "config" / "knowledge" / "qingshan.csv"


async def load_sample(kb: KnowledgeBase, path: Path = SAMPLE) -> int:
    """Import the sample entries when there are none; the number imported (0: left as it was)."""
    if await kb.entries(status=None):
        return 0
    data = await asyncio.to_thread(path.read_bytes)
    entries = parse_rows(read_table(data, "csv"), kb.department_code)
    out = await kb.import_entries(entries, "demo")
    log.info("演示：已导入示例知识库 %d 条 / demo: %d sample knowledge entries imported", out.created, out.created)
    return out.created

"""`serve --demo` loads the sample county's knowledge base into an empty one, never over a
supervisor's entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.knowledge.demo import SAMPLE, load_sample
from hotline.knowledge.schemas import EntryIn
from hotline.knowledge.service import KnowledgeBase
from hotline.root import open_hotline

if TYPE_CHECKING:
    from tests.conftest import FakeClock


async def test_the_demo_task_fills_an_empty_knowledge_base_once(hotline) -> None:
    kb = hotline.module(KnowledgeBase)
    assert "knowledge-demo" not in hotline.background  # only with --demo
    created = await load_sample(kb)
    rows = SAMPLE.read_text(encoding="utf-8-sig").strip().count("\n")  # lines after the header
    assert created == rows == len(await kb.entries())
    assert await load_sample(kb) == 0  # a second start leaves them


async def test_a_supervisors_own_entry_keeps_the_sample_out(hotline) -> None:
    kb = hotline.module(KnowledgeBase)
    await kb.import_entries([EntryIn.model_validate({"question": "本县自己的问题？", "answer": "本县自己的答复。"})], "leader")
    assert await load_sample(kb) == 0
    assert [e.question for e in await kb.entries()] == ["本县自己的问题？"]


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
async def test_serve_demo_registers_the_task(settings, clock: FakeClock) -> None:
    async with open_hotline(settings, clock=clock, demo=True) as h:
        assert "knowledge-demo" in h.background

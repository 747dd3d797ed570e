"""受理时查重: a new order's duplicate candidates are found after intake's commit (never
before the acknowledgement) and recorded on the order, visible in its API: a second contact
about the same matter at the same place gets the first; another problem at the same address
does not."""

from __future__ import annotations

import asyncio

from hotline.knowledge.service import KnowledgeBase

LAMP = {"subject": "city-streetlights", "area": "chengnan", "address": "城关街道城南社区建设路12号"}


async def _order(agent, text: str, phone: str, **fields) -> str:
    status, out = await agent.post("/api/v1/workorders", json={"text": text, "category": "complaint",
                                                               "caller": {"phone": phone}, **fields})
    assert status == 201, out
    return out["number"]


async def test_a_second_contact_about_the_same_matter_gets_the_first_as_candidate(hotline, client, agent, clock):
    check = hotline.module(KnowledgeBase).duplicate_check
    assert check is not None
    first = await _order(agent, "建设路12号门口的路灯不亮好几天了", "13800000001", **LAMP)
    clock.advance(minutes=30)
    second = await _order(agent, "城南社区建设路的路灯晚上不亮，很危险", "13800000002",
                          subject="city-streetlights", area="chengnan")
    other = await _order(agent, "建设路12号门口的垃圾好几天没人清运了", "13800000003",
                         **{**LAMP, "subject": "city-sanitation"})

    # Acknowledged and stored, not checked yet: the check is not part of intake's transaction.
    status, out = await agent.get(f"/api/v1/workorders/{second}/intake-duplicates")
    assert (status, out["checked"], out["candidates"]) == (200, False, [])

    assert await check.check_new() == 3
    assert await check.check_new() == 0  # each order once

    status, out = await agent.get(f"/api/v1/workorders/{second}/intake-duplicates")
    assert status == 200 and out["checked"] is True
    assert [c["number"] for c in out["candidates"]] == [first]
    assert out["candidates"][0]["hours_apart"] == 0.5
    why = out["candidates"][0]["reasons"]
    assert why[0].startswith("同一村（社区）") and "city-streetlights" in why[1], why
    # The same address, another problem: no candidate, however alike the words.
    status, out = await agent.get(f"/api/v1/workorders/{other}/intake-duplicates")
    assert (status, out["checked"], out["candidates"]) == (200, True, [])
    # The first one had nothing before it.
    status, out = await agent.get(f"/api/v1/workorders/{first}/intake-duplicates")
    assert (out["checked"], out["candidates"]) == (True, [])

    status, out = await agent.get("/api/v1/workorders/20990101999999/intake-duplicates")
    assert (status, out["code"]) == (404, "workorder_not_found")


async def test_intakes_commit_wakes_the_check(hotline, client, agent, clock):
    check = hotline.module(KnowledgeBase).duplicate_check
    assert check is not None
    check.cfg = check.cfg.model_copy(update={"check_seconds": 3600})  # only a wake can make it look
    await check.check_new()
    loop = asyncio.create_task(check.run())
    try:
        await asyncio.sleep(0.05)  # the loop's first look (nothing to check) is over; it waits now
        first = await _order(agent, "建设路12号门口的路灯不亮好几天了", "13800000001", **LAMP)
        clock.advance(minutes=5)
        second = await _order(agent, "建设路12号的路灯还是不亮", "13800000002", **LAMP)
        async with asyncio.timeout(20):
            while True:
                status, out = await agent.get(f"/api/v1/workorders/{second}/intake-duplicates")
                if out["checked"]:
                    break
                await asyncio.sleep(0.05)
        assert [c["number"] for c in out["candidates"]] == [first]
    finally:
        loop.cancel()

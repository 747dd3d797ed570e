"""A fax in the desk's inbox (issue 11 part 4): the inbox names its page-1 preview and the
original, which the hotline's staff download through `GET /api/v1/workorders/{number}/attachments/{id}`
— nobody else, only that order's files, never a file outside the data directory."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from PIL import Image
from sqlalchemy import select

from channels.fax import FaxIn
from channels.module import Channels
from hotline.storage.models import Attachment, WorkOrder
from tests.conftest import department_api

if TYPE_CHECKING:
    from aiohttp.test_utils import TestClient

    from tests.conftest import Api


def _pdf() -> bytes:
    out = io.BytesIO()
    Image.new("L", (1728, 2200), 255).save(out, "PDF")
    return out.getvalue()


async def test_fax_preview_and_original_for_staff_only(hotline: Any, client: TestClient, agent: Api) -> None:
    taken, _ = await hotline.module(Channels).fax.take(FaxIn(_pdf(), "13800138000", 1, "fax-files-1"))
    number = taken.number
    status, box = await agent.get("/api/v1/desk/inbox")
    assert status == 200, box
    item = next(i for i in box["items"] if i["number"] == number)
    assert item["channel"] == "fax"
    assert all(i["fax"] is None for i in box["items"] if i["number"] != number)  # only faxes have pages

    async with client.get(item["fax"]["preview"], headers=agent.headers) as r:
        assert (r.status, r.content_type) == (200, "image/png")
        assert r.headers["Content-Disposition"].startswith("inline")
        assert "sandbox" in r.headers["Content-Security-Policy"]
        png = await r.read()
    assert Image.open(io.BytesIO(png)).size[0] == 1200  # page 1 as rendered at intake
    async with client.get(item["fax"]["original"], headers=agent.headers) as r:
        assert (r.status, r.content_type) == (200, "application/pdf")
        assert (await r.read()).startswith(b"%PDF-")

    client.session.cookie_jar.clear()  # the login left its session cookie: the agent goes on by token
    async with client.get(item["fax"]["preview"]) as r:
        assert r.status == 401  # no session
    dept = await department_api(hotline, client, "cgj")
    status, problem = await dept.get(item["fax"]["preview"])
    assert status == 401, problem  # a department key is no staff login: it has its own API, for its orders

    preview_id = int(item["fax"]["preview"].rsplit("/", 1)[1])
    status, created = await agent.post("/api/v1/workorders", json={"text": "另一件诉求", "category": "help"})
    assert status == 201, created
    other = created["number"]
    async with hotline.sessions() as session, session.begin():
        order_id = (await session.execute(select(WorkOrder.id).where(WorkOrder.number == number))).scalar_one()
        outside = Attachment(work_order_id=order_id, kind="fax", filename="x.pdf", content_type="application/pdf",
                             size=1, location="../../../../../etc/hostname", created_at=hotline.clock())
        remote = Attachment(work_order_id=order_id, kind="photo", filename="y.jpg", content_type="image/jpeg",
                            size=1, location="https://example.org/y.jpg", created_at=hotline.clock())
        session.add_all([outside, remote])
    for path, code in ((f"/api/v1/workorders/{number}/attachments/{outside.id}", "attachment_not_stored"),
                       (f"/api/v1/workorders/{number}/attachments/{remote.id}", "attachment_not_found"),
                       (f"/api/v1/workorders/{other}/attachments/{preview_id}", "attachment_not_found"),
                       (f"/api/v1/workorders/{number}/attachments/..%2F..%2Fetc", "not_found"),
                       (f"/api/v1/workorders/{number}/attachments/99999999999999999999", "not_found")):
        status, problem = await agent.get(path)
        assert (status, problem["code"]) == (404, code), (path, problem)

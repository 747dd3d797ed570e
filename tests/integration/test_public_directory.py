"""The convenience-service directory (便民服务企业库) through HTTP: search by type and
distance, a request handed to a company (signed webhook or SMS), the company's steps with
its key, the citizen's rating, the monthly assessment warning then suspending, CSV/XLSX."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from aiohttp import web
from sqlalchemy import select

from hotline.errors import ConfigError
from hotline.public.models import Company
from hotline.signed import verify
from hotline.storage.models import OutboxMessage
from tests.conftest import login_as, make_settings

HOME = (28.6800, 115.8600)  # the citizen
NEAR = (28.6900, 115.8600)  # ~1.1 km: ~4.7 min at factor 1.4, 20 km/h
FAR = (28.7250, 115.8600)   # ~5 km: ~21 min


def company(code, types, point, **kw):
    return {"code": code, "name": f"{code}便民服务部", "service_types": types, "latitude": point[0],
            "longitude": point[1], "areas": ["qingxi"], "phone": "0791-88000001", "hours": "08:00-20:00",
            "price_guidance": "上门费 30 元", **kw}


@pytest.fixture
async def hook():
    got = []

    async def handle(request):
        got.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", got
    await runner.cleanup()


@pytest.mark.parametrize("db_kind", ["sqlite"])  # filtered in Python; the request test runs on both
async def test_search_by_type_and_distance_within_the_circle(client, supervisor):
    for c in (company("near-plumb", ["plumbing"], NEAR), company("far-plumb", ["plumbing", "locks"], FAR),
              company("near-locks", ["locks"], NEAR), company("stopped", ["plumbing"], NEAR, status="suspended"),
              company("other-town", ["plumbing"], NEAR, areas=["huangling"])):
        status, out = await supervisor.post("/api/v1/directory/companies", json=c)
        assert status == 200, out

    async def codes(**params):
        async with client.get("/api/v1/directory/companies", params=params) as r:
            body = await r.json()
            assert r.status == 200, body
            return [(c["code"], c["minutes"]) for c in body]

    at = {"lat": HOME[0], "lon": HOME[1]}
    found = await codes(type="plumbing", area="qingxi", **at)
    assert [c for c, _ in found] == ["near-plumb"] and 4 < found[0][1] < 6
    assert [c for c, _ in await codes(type="plumbing", area="qingxi", within_minutes=30, **at)] == \
        ["near-plumb", "far-plumb"]
    assert [c for c, _ in await codes(type="locks", **at)] == ["near-locks"]
    assert [c for c, _ in await codes(type="plumbing")] == ["far-plumb", "near-plumb", "other-town"]  # no location
    async with client.get("/api/v1/directory/companies", params={"type": "nosuch"}) as r:
        assert r.status == 422
    status, problem = await supervisor.post("/api/v1/directory/companies",
                                            json=company("bad", ["nosuch"], NEAR, areas=["nowhere"]))
    assert status == 422 and "service_types" in problem["detail"] and "nowhere" in problem["detail"]


@pytest.mark.parametrize("db_kind", ["sqlite"])
async def test_the_portal_page_searches_within_the_circle_from_the_town_or_my_location(client, supervisor):
    # config: qingxi's reference point is HOME, so picking the town searches from there.
    for c in (company("near-plumb", ["plumbing"], NEAR), company("far-plumb", ["plumbing"], FAR),
              {**company("no-point", ["plumbing"], NEAR), "latitude": None, "longitude": None}):
        status, out = await supervisor.post("/api/v1/directory/companies", json=c)
        assert status == 200, out

    async def page(**params):
        async with client.get("/public/services", params=params) as r:
            return r.status, await r.text()

    status, html = await page(type="plumbing", area="qingxi")
    assert status == 200 and 'id="company-near-plumb"' in html and 'id="company-far-plumb"' not in html
    assert "约 5 分钟" in html and 'id="by-distance"' in html  # ~4.7 min, shown rounded up
    assert html.index('id="company-near-plumb"') < html.index('id="company-no-point"')  # no estimate: after
    # "My location" (the browser's geolocation) at the far company: now it is the near one.
    status, html = await page(type="plumbing", lat=str(FAR[0]), lon=str(FAR[1]), lang="en")
    assert status == 200 and 'id="company-far-plumb"' in html and 'id="company-near-plumb"' not in html
    assert "about 1 min" in html and 'id="company-no-point"' not in html
    for bad in ({"lat": "nan", "lon": "115.86"}, {"lat": "91", "lon": "0"}, {"lat": "28.7"}, {"lat": "x", "lon": "y"}):
        status, html = await page(type="plumbing", lang="zh", **bad)
        assert status == 400 and "位置无效" in html, bad
    # The page's one inline script (geolocation) runs by its nonce; nothing from outside.
    async with client.get("/public/services") as r:
        csp = r.headers["Content-Security-Policy"]
        nonce = csp.split("'nonce-")[1].split("'")[0]
        assert csp.startswith("default-src 'self'") and f'<script nonce="{nonce}">' in await r.text()


async def test_a_request_through_the_company_to_the_rating_and_the_monthly_assessment(hotline, client, agent,
                                                                                      supervisor, clock, hook):
    url, got = hook
    clock.now = datetime(2026, 11, 2, 2, tzinfo=UTC)
    assert (await supervisor.post("/api/v1/directory/companies",
                                  json=company("qx-plumb", ["plumbing"], NEAR, webhook_url=url)))[0] == 200
    assert (await supervisor.post("/api/v1/directory/companies", json=company("qx-sms", ["plumbing"], NEAR)))[0] == 200
    status, issued = await supervisor.post("/api/v1/directory/companies/qx-plumb/key", json={})
    key = {"X-Company-Key": issued["key"]}

    ask = {"company": "qx-plumb", "service_type": "plumbing", "citizen_phone": "13812345678", "citizen_name": "李四",
           "address": "青溪镇幸福小区3栋", "text": "厨房下水道堵了"}
    status, req = await agent.post("/api/v1/directory/requests", json=ask)
    assert status == 201 and req["status"] == "sent", req
    assert (await agent.post("/api/v1/directory/requests", json={**ask, "service_type": "locks"}))[1]["code"] == \
        "service_not_offered"
    assert await hotline.outbox.deliver_due() == 1
    (headers, body), = got
    async with hotline.sessions() as session:
        secret = (await session.execute(select(Company.webhook_secret).where(Company.code == "qx-plumb"))).scalar_one()
    assert verify(secret, headers["X-Hotline-Timestamp"], body, headers["X-Hotline-Signature"],
                  now=clock().timestamp())
    assert headers["X-Hotline-Event"] == "convenience.request" and "厨房下水道堵了" in body.decode()

    status, sms = await agent.post("/api/v1/directory/requests", json={**ask, "company": "qx-sms"})
    async with hotline.sessions() as session:
        row = (await session.execute(select(OutboxMessage).where(OutboxMessage.kind == "sms"))).scalar_one()
    assert row.target == "0791-88000001" and "厨房下水道堵了" in row.payload["text"]

    rid = req["id"]
    async with client.post(f"/api/v1/directory/company/requests/{rid}/confirm") as r:
        assert r.status == 401
    clock.advance(minutes=90)  # slower than the 60-minute rule
    async with client.post(f"/api/v1/directory/company/requests/{rid}/confirm", headers=key) as r:
        assert r.status == 200 and (await r.json())["status"] == "confirmed"
    async with client.post(f"/api/v1/directory/company/requests/{sms['id']}/confirm", headers=key) as r:
        assert r.status == 404  # another company's request
    async with client.post(f"/api/v1/directory/company/requests/{rid}/done", headers=key) as r:
        assert r.status == 200 and (await r.json())["status"] == "done"
    async with client.post(f"/api/v1/directory/requests/{rid}/rating", json={"token": "x" * 20, "level": 5}) as r:
        assert r.status == 404
    rate = {"token": req["rating_token"], "level": 2, "complaint": True, "comment": "态度差"}
    async with client.post(f"/api/v1/directory/requests/{rid}/rating", json=rate) as r:
        assert r.status == 200
    async with client.post(f"/api/v1/directory/requests/{rid}/rating", json=rate) as r:
        assert r.status == 409

    status, problem = await supervisor.post("/api/v1/directory/assessments/2026-11", json={})
    assert (status, problem["code"]) == (422, "month_not_over")
    clock.now = datetime(2026, 12, 1, 18, tzinfo=UTC)  # Dec 2, 02:00 county time
    supervisor = await _relogin(hotline, client)
    status, month = await supervisor.post("/api/v1/directory/assessments/2026-11", json={})
    assert status == 200, month
    by = {a["company"]: a for a in month}
    plumb = by["qx-plumb"]
    assert (plumb["requests"], plumb["done"], plumb["complaints"], plumb["rating"]) == (1, 1, 1, 2.0)
    assert plumb["response_minutes"] == 90.0 and plumb["action"] == "warned" and len(plumb["reasons"]) == 2
    # Handed one request by SMS and never confirmed it: 0% completion.
    assert (by["qx-sms"]["requests"], by["qx-sms"]["done"], by["qx-sms"]["action"]) == (1, 0, "warned")
    again = (await supervisor.post("/api/v1/directory/assessments/2026-11", json={}))[1]
    assert again == month  # judged once

    # A second bad month in a row: suspended from referrals.
    status, req2 = await supervisor.post("/api/v1/directory/requests", json=ask)
    assert status == 201
    await client.post(f"/api/v1/directory/requests/{req2['id']}/rating",
                      json={"token": req2["rating_token"], "level": 1})
    clock.now = datetime(2027, 1, 2, 2, tzinfo=UTC)
    supervisor = await _relogin(hotline, client)
    status, dec = await supervisor.post("/api/v1/directory/assessments/2026-12", json={})
    # qx-sms had no request in December: not judged, still warned (and still referred).
    assert {a["company"]: a["action"] for a in dec} == {"qx-plumb": "suspended", "qx-sms": "not_judged"}
    async with client.get("/api/v1/directory/companies", params={"type": "plumbing"}) as r:
        assert [c["code"] for c in await r.json()] == ["qx-sms"]
    status, problem = await supervisor.post("/api/v1/directory/requests", json=ask)
    assert (status, problem["code"]) == (409, "company_suspended")


async def _relogin(hotline, client):
    """A new session: the clock jumped past the old one's lifetime."""
    return await login_as(hotline, client, "supervisor")


@pytest.mark.parametrize("db_kind", ["sqlite"])
async def test_the_directory_round_trips_through_csv_and_xlsx_and_a_bad_file_writes_nothing(client, supervisor):
    for c in (company("a-plumb", ["plumbing", "locks"], NEAR), company("b-move", ["moving"], FAR, member=False)):
        assert (await supervisor.post("/api/v1/directory/companies", json=c))[0] == 200
    headers = supervisor.headers
    async with client.get("/api/v1/directory/export", params={"format": "csv"}, headers=headers) as r:
        assert r.status == 200 and r.content_type == "text/csv"
        csv_bytes = await r.read()
    text = csv_bytes.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("code,name,service_types") and "plumbing;locks" in text
    edited = text.replace("上门费 30 元", "上门费 20 元").encode()
    async with client.post("/api/v1/directory/import", data=edited,
                           headers={**headers, "Content-Type": "text/csv"}) as r:
        assert r.status == 200 and await r.json() == {"created": 0, "updated": 2}
    bad = text + "c-bad,坏数据,nosuch,,,,,,,,,,,\n"
    async with client.post("/api/v1/directory/import", data=bad.replace("上门费 30 元", "改了").encode(),
                           headers={**headers, "Content-Type": "text/csv"}) as r:
        assert r.status == 422 and "第 3 行" in (await r.json())["detail"]
    async with client.get("/api/v1/directory/companies") as r:
        listed = await r.json()
    assert {c["code"]: c["price_guidance"] for c in listed} == {"a-plumb": "上门费 20 元", "b-move": "上门费 20 元"}

    async with client.get("/api/v1/directory/export", params={"format": "xlsx"}, headers=headers) as r:
        xlsx = await r.read()
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert [c.value for c in ws[1]][:3] == ["code", "name", "service_types"]
    ws["A4"], ws["B4"], ws["C4"] = "c-new", "新企业", "housekeeping"
    out = io.BytesIO()
    ws.parent.save(out)
    async with client.post("/api/v1/directory/import", data=out.getvalue(), headers={
            **headers, "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}) as r:
        assert r.status == 200 and await r.json() == {"created": 1, "updated": 2}
    async with client.post("/api/v1/directory/import", data=b"PK\x03\x04garbage", headers={
            **headers, "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}) as r:
        assert r.status == 422 and (await r.json())["code"] == "bad_file"


def test_an_area_location_for_no_town_or_village_is_a_worded_config_error(tmp_path):
    from hotline.root import check

    settings = make_settings(tmp_path, extra_yaml="public:\n  directory:\n    area_locations:\n"
                                                  "      nowhere: {lat: 28.7, lon: 115.9}\n")
    with pytest.raises(ConfigError) as e:
        check(settings)
    assert "public.directory.area_locations" in str(e.value) and "nowhere" in str(e.value)

"""Open311 GeoReport v2 conformance, every method in JSON and XML, and the app's JSON
intake — on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest

from tests import channels_support as support
from tests.channels_support import OPEN311_KEY

settings, vendors = support.settings, support.vendors
BASE = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def get(client, path: str, **params):
    async with client.get(path, params=params) as r:
        return r.status, r.content_type, await r.read()


async def post(client, path: str, form: dict[str, str], headers: dict[str, str] | None = None):
    async with client.post(path, data=urlencode(form), headers={**FORM, **(headers or {})}) as r:
        return r.status, r.content_type, await r.read()


def xml(body: bytes) -> ET.Element:
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(body)


def report(**extra: str) -> dict[str, str]:
    return {"api_key": OPEN311_KEY, "service_code": "city-vendors", "lat": "27.1", "long": "115.2",
            "address_string": "城关街道东门路", "description": "东门路流动摊贩占道经营", "phone": "13800138000",
            "first_name": "明", "last_name": "李", **extra}


async def test_services_and_definitions_in_json_and_xml(client):
    status, ctype, body = await get(client, f"{BASE}/services.json")
    import json
    services = json.loads(body)
    assert status == 200 and ctype == "application/json"
    vendors_ = next(s for s in services if s["service_code"] == "city-vendors")
    assert set(vendors_) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert vendors_["metadata"] is True and vendors_["type"] == "realtime" and vendors_["group"] == "城市管理"

    status, ctype, body = await get(client, f"{BASE}/services.xml")
    root = xml(body)
    assert ctype == "text/xml" and root.tag == "services"
    first = root.find("service")
    assert first is not None and first.findtext("metadata") == "true" and first.findtext("service_code")
    assert len(root.findall("service")) == len(services)

    status, _, body = await get(client, f"{BASE}/services/city-vendors.json")
    definition = json.loads(body)
    assert definition["service_code"] == "city-vendors"
    category = definition["attributes"][0]
    assert {"variable", "code", "datatype", "required", "datatype_description", "order", "description",
            "values"} <= set(category)
    assert category["datatype"] == "singlevaluelist" and {"key": "complaint", "name": "投诉"} in category["values"]
    status, _, body = await get(client, f"{BASE}/services/city-vendors.xml")
    root = xml(body)
    assert root.tag == "service_definition"
    attr = root.find("attributes/attribute")
    assert attr is not None and attr.findtext("code") == "category"
    assert attr.find("values/value/key") is not None

    for fmt in ("json", "xml"):
        status, ctype, body = await get(client, f"{BASE}/services/no-such-service.{fmt}")
        assert status == 404
        if fmt == "json":
            assert json.loads(body) == [{"code": 404, "description": "service_code no-such-service 不存在"}]
        else:
            err = xml(body)
            assert err.tag == "errors" and err.findtext("error/code") == "404"


async def test_post_requests_with_api_key_and_errors(client, hotline):
    import json
    for form, code in ((report(api_key=""), 403), (report(api_key="wrong"), 403), (report(service_code=""), 400),
                       (report(service_code="nope"), 404),
                       ({k: v for k, v in report().items() if k not in ("lat", "long", "address_string")}, 400),
                       (report(lat="abc"), 400), (report(**{"attribute[category]": "nope"}), 400)):
        status, _, body = await post(client, f"{BASE}/requests.json", form)
        assert status == code, (form, body)
        (err,) = json.loads(body)
        assert err["code"] == code and err["description"]
    status, _, body = await post(client, f"{BASE}/requests.xml", report(api_key="wrong"))
    assert status == 403 and xml(body).findtext("error/description") == "api_key 无效"
    async with client.post(f"{BASE}/requests.json", json=report()) as r:
        assert r.status == 415 and (await r.json())[0]["code"] == 415

    status, _, body = await post(client, f"{BASE}/requests.json",
                                 report(**{"attribute[category]": "complaint", "attribute[area]": "chengguan"}))
    assert status == 200, body
    (created,) = json.loads(body)
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    number = created["service_request_id"]
    status, _, body = await post(client, f"{BASE}/requests.xml", report(description="另一处"))
    assert xml(body).findtext("request/service_request_id") not in (None, number)

    # A client that retries with an Idempotency-Key gets the first number back.
    status, _, b1 = await post(client, f"{BASE}/requests.json", report(), {"Idempotency-Key": "k-1"})
    status, _, b2 = await post(client, f"{BASE}/requests.json", report(), {"Idempotency-Key": "k-1"})
    assert json.loads(b1) == json.loads(b2)

    _, _, body = await get(client, f"{BASE}/requests/{number}.json")
    (rec,) = json.loads(body)
    assert set(rec) == {"service_request_id", "status", "status_notes", "service_name", "service_code",
                        "description", "agency_responsible", "service_notice", "requested_datetime",
                        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
                        "long", "media_url"}
    assert (rec["status"], rec["service_code"], rec["service_name"]) == ("open", "city-vendors", "占道经营")
    assert rec["requested_datetime"].endswith("+08:00") and (rec["lat"], rec["long"]) == (27.1, 115.2)
    assert rec["status_notes"] == "已受理"
    assert "13800138000" not in body.decode() and "李" not in body.decode()


async def test_get_requests_filters_and_status_mapping(client, agent, clock):
    import json
    _, _, b = await post(client, f"{BASE}/requests.json", report())
    first = json.loads(b)[0]["service_request_id"]
    assert (await agent.post(f"/api/v1/workorders/{first}/update", json={"category": "help"}))[0] == 200
    assert (await agent.post(f"/api/v1/workorders/{first}/resolve", json={"answer": "已劝离"}))[0] == 200
    clock.advance(days=2)
    _, _, b = await post(client, f"{BASE}/requests.json", report(service_code="city-sanitation",
                                                                 **{"attribute[confidential]": "true"}))
    second = json.loads(b)[0]["service_request_id"]

    async def numbers(fmt: str = "json", **params: str) -> list[str]:
        status, _, body = await get(client, f"{BASE}/requests.{fmt}", **params)
        assert status == 200, body
        if fmt == "xml":
            return [r.findtext("service_request_id") or "" for r in xml(body).findall("request")]
        return [r["service_request_id"] for r in json.loads(body)]

    assert await numbers() == [second, first] == await numbers("xml")
    assert await numbers(status="open") == [second]
    assert await numbers("xml", status="closed") == [first]
    assert await numbers(status="open,closed") == [second, first]
    assert await numbers(service_code="city-vendors") == [first]
    assert await numbers(service_code="city-vendors,city-sanitation") == [second, first]
    assert await numbers(start_date="2026-11-27T00:00:00+08:00") == [second]
    assert await numbers("xml", end_date="2026-11-27T00:00:00Z") == [first]
    assert await numbers(service_request_id=f"{first},{second}", status="open") == [second, first]  # id wins
    status, _, body = await get(client, f"{BASE}/requests.xml", start_date="yesterday")
    assert status == 400 and xml(body).findtext("error/code") == "400"
    status, _, body = await get(client, f"{BASE}/requests.json", status="pending")
    assert status == 400

    _, _, body = await get(client, f"{BASE}/requests/{first}.xml")
    rec = xml(body).find("request")
    assert rec is not None and rec.findtext("status") == "closed" and rec.findtext("status_notes") == "答复：已劝离"
    _, _, body = await get(client, f"{BASE}/requests/{second}.json")
    assert json.loads(body)[0]["description"] == "（保密）" and json.loads(body)[0]["lat"] is None
    status, _, body = await get(client, f"{BASE}/requests/20990101000001.json")
    assert status == 404 and json.loads(body)[0]["code"] == 404


async def test_app_intake_is_idempotent_and_guarded(client):
    body = {"text": "小区电梯经常困人", "category": "complaint", "subject": "market-special-equipment",
            "phone": "+86 138 0013 8000", "user_id": "u-42"}
    headers = {"X-App-Key": OPEN311_KEY, "Idempotency-Key": "4f6c1a"}
    async with client.post("/api/v1/app/requests", json=body, headers={"Idempotency-Key": "x"}) as r:
        assert r.status == 403 and (await r.json())["code"] == "bad_app_key"
    async with client.post("/api/v1/app/requests", json=body, headers={"X-App-Key": OPEN311_KEY}) as r:
        assert r.status == 422 and (await r.json())["code"] == "idempotency_key_required"
    async with client.post("/api/v1/app/requests", json=body, headers=headers) as r:
        assert r.status == 201
        first = await r.json()
    async with client.post("/api/v1/app/requests", json=body, headers=headers) as r:
        assert r.status == 200
        again = await r.json()
    assert again["number"] == first["number"] and again["repeated"] is True
    async with client.post("/api/v1/app/requests", json={**body, "text": "别的内容"}, headers=headers) as r:
        assert r.status == 422 and (await r.json())["code"] == "idempotency_key_reused"
    async with client.post("/api/v1/app/requests", data="{oops", headers={**headers, "Content-Type": "application/json"}) as r:
        assert r.status == 400

    url = first["status_url"]
    async with client.get(url, params={"phone_last4": "0000"}, headers=headers) as r:
        assert r.status == 404
    async with client.get(url, params={"phone_last4": "8000"}, headers=headers) as r:
        assert r.status == 200
        out = await r.json()
    assert out["status"] == "registered" and out["open311_status"] == "open"
    assert [h["note"] for h in out["history"]] == ["已受理"]
    async with client.get("/api/v1/openapi.json") as r:
        assert "/api/v1/app/requests" in (await r.json())["paths"]


async def test_the_public_feed_is_masked_coarse_and_paged(client, agent):
    """Issue 9 item 3: the public feed gave every description verbatim and 1,000 orders per
    request. Now: masked words, a road-level place, rounded coordinates, pages of at most 100."""
    import json
    sms = "我是李四，电话13812345678，住幸福小区3栋501，楼下烧烤店油烟扰民"
    _, _, b = await post(client, f"{BASE}/requests.json", report(
        description=sms, address_string="城关街道幸福小区3栋501", lat="27.123456", long="115.234567"))
    number = json.loads(b)[0]["service_request_id"]
    # an agent's reply naming the reporter is masked in the public status notes too
    assert (await agent.post(f"/api/v1/workorders/{number}/resolve",
                             json={"answer": "已回电李四（13812345678），店主已整改"}))[0] == 200
    for path, params in ((f"{BASE}/requests.json", {}), (f"{BASE}/requests/{number}.json", {}),
                         (f"{BASE}/requests.xml", {}), (f"{BASE}/requests/{number}.xml", {})):
        status, _, body = await get(client, path, **params)
        assert status == 200
        text = body.decode()
        assert "13812345678" not in text and "3栋501" not in text and "27.123456" not in text, path
    _, _, body = await get(client, f"{BASE}/requests/{number}.json")
    (rec,) = json.loads(body)
    assert rec["description"] == "我是李某，电话[手机号]，住幸福小区[门牌号]，楼下烧烤店油烟扰民"
    assert (rec["address"], rec["lat"], rec["long"]) == ("城关街道幸福小区", 27.12, 115.23)
    assert rec["status_notes"] == "答复：已回电李某（[手机号]），店主已整改"
    # staff still read the original
    status, full = await agent.get(f"/api/v1/workorders/{number}")
    assert full["description"] == sms and full["address"] == "城关街道幸福小区3栋501"

    for i in range(2):
        await post(client, f"{BASE}/requests.json", report(description=f"第{i}处"))
    status, _, body = await get(client, f"{BASE}/requests.json", page_size="2")
    first = [r["service_request_id"] for r in json.loads(body)]
    status, _, body = await get(client, f"{BASE}/requests.json", page_size="2", page="2")
    second = [r["service_request_id"] for r in json.loads(body)]
    assert len(first) == 2 and second == [number]
    for bad in ({"page_size": "1000"}, {"page_size": "0"}, {"page": "-1"}, {"page": "x"},
                {"service_request_id": ",".join(str(20261126000000 + i) for i in range(51))}):
        status, _, body = await get(client, f"{BASE}/requests.json", **bad)
        assert status == 400 and json.loads(body)[0]["code"] == 400, bad


@pytest.mark.parametrize("db_kind", ["sqlite"])  # counting, not storage
async def test_app_status_guesses_are_limited_per_order_and_per_client(client):
    """Issue 9 item 5: 1,000 guesses of phone_last4 took 3.6 s and were all answered. Now the
    11th failed guess on one order is a 429, whoever asks; one client gets 30 lookups a window."""
    headers = {"X-App-Key": OPEN311_KEY}

    async def new(key: str) -> str:
        async with client.post("/api/v1/app/requests", json={"text": "路灯不亮", "phone": "13800138000"},
                               headers={**headers, "Idempotency-Key": key}) as r:
            return (await r.json())["status_url"]

    async def look(url: str, last4: str) -> int:
        async with client.get(url, params={"phone_last4": last4}, headers=headers) as r:
            return r.status

    target, mine = await new("g-1"), await new("g-2")
    guesses = [await look(target, f"{i:04d}") for i in range(12)]
    assert guesses == [404] * 10 + [429] * 2  # was: 12 × 404, and on to the right one
    assert await look(target, "8000") == 429  # locked for the window, even with the right digits
    # the citizen's own successful lookups never count against their order
    statuses = [await look(mine, "8000") for _ in range(17)]
    assert statuses == [200] * 17
    assert await look(mine, "8000") == 429  # 30 lookups from this client in the window: 12 + 1 + 17
    async with client.get(mine, params={"phone_last4": "8000"}, headers=headers) as r:
        assert (await r.json())["code"] == "too_many_lookups"

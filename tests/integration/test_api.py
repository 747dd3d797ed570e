"""The JSON API's behaviour at its edges: lists, auth, errors, health, metrics, OpenAPI, live events."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from hotline.root import open_hotline
from hotline.web.app import create_app
from tests.conftest import make_settings


async def _orders(agent, n: int, **fields) -> list[str]:
    numbers = []
    for i in range(n):
        status, out = await agent.post("/api/v1/workorders", json={"text": f"诉求 {i} 噪音", "category": "complaint",
                                                                   "caller": {"phone": f"1380000{i:04d}"}, **fields})
        assert status == 201
        numbers.append(out["number"])
    return numbers


async def test_list_filters_and_cursor_pages(hotline, agent, clock):
    complaints = await _orders(agent, 5, area="qingxi")
    clock.advance(hours=1)
    inquiries = await _orders(agent, 3, category="inquiry")
    await agent.post(f"/api/v1/workorders/{complaints[0]}/dispatch", json={"lead": "scjgj"})

    seen, cursor = [], None
    while True:
        status, page = await agent.get("/api/v1/workorders", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert status == 200
        seen += [o["number"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(complaints + inquiries, reverse=True)  # newest first, each once

    async def numbers(**params) -> list[str]:
        status, page = await agent.get("/api/v1/workorders", params=params)
        assert status == 200, page
        return [o["number"] for o in page["items"]]

    assert await numbers(category="inquiry") == sorted(inquiries, reverse=True)
    assert await numbers(area="qingxi", status="registered") == sorted(complaints[1:], reverse=True)
    assert await numbers(status="dispatched,registered", category="complaint") == sorted(complaints, reverse=True)
    assert await numbers(department="scjgj") == [complaints[0]]
    assert await numbers(q="诉求 2") == sorted([complaints[2], inquiries[2]], reverse=True)
    assert await numbers(q=complaints[3]) == [complaints[3]]
    assert await numbers(**{"from": clock.now.isoformat()}) == sorted(inquiries, reverse=True)
    assert await numbers(overdue="true") == []
    clock.advance(hours=6)  # 4 working hours to sign for a complaint: due 16:30, now 17:00
    assert await numbers(overdue="true") == [complaints[0]]
    status, problem = await agent.get("/api/v1/workorders", params={"cursor": "%%%"})
    assert (status, problem["code"]) == (422, "bad_cursor")
    status, problem = await agent.get("/api/v1/workorders", params={"limit": 1000})
    assert status == 422 and problem["errors"][0]["loc"] == ["query", "limit"]


async def test_cookie_session_needs_the_csrf_token_for_writes(hotline, client, agent):
    async with hotline.sessions() as session, session.begin():
        from hotline.domain.vocabulary import UserRole

        await hotline.auth.add_user(session, username="zhangmin", password="password-123", role=UserRole.AGENT,
                                    now=hotline.clock())
    async with client.post("/api/v1/auth/login", json={"username": "zhangmin", "password": "password-123"}) as r:
        login = await r.json()
        assert r.cookies["hotline_session"]["httponly"]
    # The test client keeps the cookie now.
    async with client.get("/api/v1/auth/me") as r:
        assert r.status == 200 and (await r.json())["user"]["username"] == "zhangmin"
    body = {"text": "测试", "category": "inquiry"}
    async with client.post("/api/v1/workorders", json=body) as r:
        assert r.status == 403 and (await r.json())["code"] == "csrf_failed"
    async with client.post("/api/v1/workorders", json=body, headers={"X-CSRF-Token": login["csrf_token"]}) as r:
        assert r.status == 201
    async with client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": login["csrf_token"]}) as r:
        assert r.status == 204
    async with client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login['token']}"}) as r:
        assert r.status == 401 and (await r.json())["code"] == "session_expired"


async def test_login_failures_are_uniform_and_limited(client):
    for _ in range(10):
        async with client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-pass"}) as r:
            assert r.status == 401 and (await r.json())["code"] == "bad_credentials"
    async with client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-pass"}) as r:
        assert r.status == 429 and (await r.json())["code"] == "too_many_attempts"


async def test_errors_are_problem_details_never_tracebacks(hotline, client, agent):
    cases = [
        ("POST", "/api/v1/workorders", {"data": "text=1", "headers": {"Content-Type": "text/plain"}}, 415,
         "unsupported_media_type"),
        ("POST", "/api/v1/workorders", {"data": b"\xff\xfe{", "headers": {"Content-Type": "application/json"}}, 400,
         "malformed_json"),
        ("POST", "/api/v1/workorders", {"json": {"text": ""}}, 422, "validation_failed"),
        ("POST", "/api/v1/workorders", {"json": {"text": "x", "surprise": 1}}, 422, "validation_failed"),
        ("POST", "/api/v1/workorders", {"data": io.BytesIO(b"{" + b" " * (11 * 1024 * 1024) + b"}"),
                                        "headers": {"Content-Type": "application/json"}}, 413, "payload_too_large"),
        ("GET", "/api/v1/workorders/20990101000001", {}, 404, "workorder_not_found"),
        ("GET", "/api/v1/nothing-here", {}, 404, "not_found"),
        ("DELETE", "/api/v1/workorders", {}, 405, "method_not_allowed"),
        ("POST", "/api/v1/workorders/20990101000001/close", {"json": {}}, 404, "workorder_not_found"),
    ]
    for method, path, kw, status, code in cases:
        got, body = await agent.call(method, path, **kw)
        assert (got, body["code"]) == (status, code), (path, body)
        assert body["type"] == f"urn:hotline:problem:{code}" and body["status"] == status
        assert "Traceback" not in json.dumps(body)
    got, body = await agent.call("GET", "/api/v1/workorders/20990101000001?lang=en")
    assert body["title"] == "Not found"


async def test_health_metrics_openapi_and_reference(hotline, client, agent):
    async with client.get("/healthz") as r:
        assert r.status == 200
    async with client.get("/readyz") as r:
        assert r.status == 200 and (await r.json())["status"] == "ready"
    await _orders(agent, 2)
    async with client.get("/metrics") as r:
        metrics = await r.text()
    for name in ("hotline_workorders_created_total", "hotline_contacts_total", "hotline_ami_connected",
                 "hotline_outbox_pending", "hotline_workorders_overdue", "hotline_calls_total",
                 "hotline_webhook_deliveries_total", "hotline_timers_fired_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in metrics or f"# TYPE {name}" in metrics, name
    assert 'hotline_workorders_created_total{channel="phone"} 2.0' in metrics
    async with client.get("/api/v1/openapi.json") as r:
        doc = await r.json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in ("/api/v1/workorders", "/api/v1/workorders/{number}", "/api/v1/workorders/{number}/dispatch",
                 "/api/v1/workorders/{number}/review-return", "/api/v1/department/orders/{number}/reply",
                 "/api/v1/auth/login"):
        assert path in paths, path
    create = paths["/api/v1/workorders"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "text" in doc["components"]["schemas"][ref]["properties"]
    assert "application/problem+json" in create["responses"]["422"]["content"]
    async with client.get("/api/v1/reference?lang=en") as r:
        ref_data = await r.json()
    assert {"code": "complaint", "name": "Complaint"} in ref_data["categories"]


async def test_live_events_reach_a_websocket(hotline, client, agent):
    token = agent.headers["Authorization"].split()[1]
    async with client.ws_connect(f"/api/v1/live?token={token}") as ws:
        await asyncio.sleep(0.05)
        number = (await _orders(agent, 1))[0]
        await agent.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
        created = json.loads((await ws.receive(timeout=5)).data)
        dispatched = json.loads((await ws.receive(timeout=5)).data)
        assert created == {"topic": "workorder", "number": number, "status": "registered", "event": "created",
                           "department": None, "version": 1}
        assert dispatched == {"topic": "workorder", "number": number, "status": "dispatched", "event": "dispatched",
                              "department": "scjgj", "version": 2}


async def test_readyz_says_why_when_not_migrated(tmp_path):
    settings = make_settings(tmp_path)
    async with open_hotline(settings) as h, TestClient(TestServer(create_app(h, run_background=False))) as c:
        async with c.get("/readyz") as r:
            body = await r.json()
            assert r.status == 503 and "hotline db upgrade" in body["reason"]


async def test_an_unreachable_database_is_a_retryable_503(tmp_path):
    settings = make_settings(tmp_path, env={"HOTLINE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    async with open_hotline(settings) as h, TestClient(TestServer(create_app(h, run_background=False))) as c:
        async with c.get("/readyz") as r:
            assert r.status == 503 and "database unreachable" in (await r.json())["reason"]
        async with c.post("/api/v1/auth/login", json={"username": "a", "password": "b"}) as r:
            body = await r.json()
            assert r.status == 503 and body["code"] == "database_unavailable"
            assert r.headers["Retry-After"] == "5"


@pytest.mark.parametrize("db_kind", [pytest.param("pg", marks=pytest.mark.pg)])
async def test_the_event_log_is_append_only_in_postgresql(hotline, agent, db_kind):
    await _orders(agent, 1)
    from sqlalchemy.exc import DBAPIError

    for sql in ("UPDATE order_events SET kind = 'forged'", "DELETE FROM order_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with hotline.engine.begin() as conn:
                await conn.execute(text(sql))


async def test_front_door_and_api_docs_need_no_cdn(client):
    async with client.get("/") as r:
        page = await r.text()
    assert r.status == 200 and "12345" in page and "/portal/" in page and "/api/docs" in page
    async with client.get("/?lang=en") as r:
        assert "Citizens&#x27; portal" in await r.text()
    async with client.get("/api/docs") as r:
        docs = await r.text()
    assert r.status == 200 and "http" not in docs.replace("/api/v1/openapi.json", "")
    for asset in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css", "/static/api-docs.js"):
        async with client.get(asset) as r:
            assert r.status == 200 and len(await r.read()) > 50, asset


@pytest.mark.parametrize("db_kind", ["sqlite"])  # a header check, not storage
async def test_the_live_socket_takes_a_session_cookie_only_from_our_own_pages(hotline, client, agent):
    """Issue 9 item 4: a page on any other site could open /api/v1/live with the agent's cookie."""
    import aiohttp

    assert client.session.cookie_jar.filter_cookies(client.make_url("/"))  # the login left its cookie
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with client.ws_connect("/api/v1/live", headers={"Origin": "https://evil.example"}):
            pass
    assert refused.value.status == 403  # was: 101, the live feed as the logged-in agent
    own = f"http://{client.host}:{client.port}"
    async with client.ws_connect("/api/v1/live", headers={"Origin": own}) as ws:
        assert not ws.closed
    async with client.ws_connect("/api/v1/live") as ws:  # a tool: no Origin, no browser
        assert not ws.closed


def test_allowed_origins_come_from_the_public_url_and_cors_origins(tmp_path):
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from hotline.web.app import allowed_origins
    from hotline.web.context import HOTLINE
    from tests.conftest import make_settings

    s = make_settings(tmp_path, env={"HOTLINE_PUBLIC_URL": "https://12345.example.gov.cn/hotline/"},
                      extra_yaml="http: {cors_origins: ['https://desk.example.gov.cn']}\n")
    app = web.Application()
    app[HOTLINE] = type("H", (), {"settings": s})()  # type: ignore[assignment]
    req = make_mocked_request("GET", "/api/v1/live", headers={"Host": "10.0.0.8:8080"}, app=app)
    assert allowed_origins(req) == {"http://10.0.0.8:8080", "https://12345.example.gov.cn",
                                    "https://desk.example.gov.cn"}


async def test_redirects_and_http_exceptions_are_counted_with_their_status(client, caplog):
    """A raised redirect (the portal's 303 after a submit, /portal → /portal/) is logged and
    counted with its own status, not as a 500 (issue 10, item 14)."""
    import logging

    with caplog.at_level(logging.INFO, logger="hotline.access"):
        async with client.get("/portal", allow_redirects=False) as r:
            assert r.status == 302
    assert [rec.status for rec in caplog.records if getattr(rec, "path", "") == "/portal"] == [302]
    async with client.get("/metrics") as r:
        text = await r.text()
    assert 'hotline_http_request_seconds_count{method="GET",route="/portal",status="302"} 1.0' in text
    assert 'route="/portal",status="500"' not in text


async def test_openapi_is_exact(client):
    """issue 9, item 13: no component overwrites another, the headers and the multipart
    upload are declared, 401/415/503 are documented, 405 names Allow, no aiohttp regex."""
    async with client.get("/api/v1/openapi.json") as r:
        doc = await r.json()
    schemas, paths = doc["components"]["schemas"], doc["paths"]

    def resolve(ref: dict) -> dict:
        return schemas[ref["$ref"].rsplit("/", 1)[1]]

    detail = resolve(paths["/api/v1/workorders/{number}"]["get"]["responses"]["200"]["content"]["application/json"]
                     ["schema"])
    citizen = detail["properties"]["citizen"]["anyOf"][0]
    assert set(resolve(citizen)["properties"]) == {"id", "name", "phone"}  # the order's, not the timeline's
    timeline = resolve(paths["/api/v1/citizens/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
                       ["schema"])
    assert "identities" in timeline["properties"]
    assert not [p for p in paths if ":" in p]
    app_post = paths["/api/v1/app/requests"]["post"]
    assert app_post["security"] == [{"appKey": []}]
    assert doc["components"]["securitySchemes"]["appKey"]["name"] == "X-App-Key"
    assert {(p["name"], p["in"], p["required"]) for p in app_post["parameters"]} >= {("Idempotency-Key", "header", True)}
    assert {"200", "201", "401", "415", "503"} <= set(app_post["responses"])
    upload = paths["/api/v1/department/orders/{number}/attachments"]["post"]
    assert "file" in upload["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert "401" in paths["/api/v1/auth/login"]["post"]["responses"]
    assert all("503" in op["responses"] for ops in paths.values() for op in ops.values())
    assert paths["/api/v1/citizens/{id}"]["get"]["parameters"][0]["schema"]["maximum"] == 2**63 - 1
    async with client.request("TRACE", "/api/v1/workorders") as r:
        assert r.status == 405 and set(r.headers["Allow"].split(",")) >= {"GET", "POST"}


async def test_validation_errors_are_chinese_first_and_english_on_request(agent, supervisor):
    """issue 10, item 15: field errors were pydantic's English inside Chinese problems."""
    status, made = await agent.post("/api/v1/workorders", json={"text": "路灯不亮", "category": "inquiry"})
    assert status == 201
    status, problem = await supervisor.post(f"/api/v1/workorders/{made['number']}/dispatch", json={})
    assert status == 422
    assert problem["title"] == "请求内容不符合要求" and problem["detail"] == "lead：必填字段", problem
    assert problem["errors"] == [{"loc": ["body", "lead"], "msg": "必填字段", "type": "missing"}]
    status, problem = await supervisor.post(f"/api/v1/workorders/{made['number']}/dispatch?lang=en", json={})
    assert problem["detail"] == "lead: Field required" and problem["title"] == "The request body is not valid"
    status, problem = await agent.post("/api/v1/workorders", json={"text": "x", "caller": {"phone": "电话"}})
    assert status == 422 and problem["detail"].startswith("caller.phone：格式不符合要求"), problem
    status, problem = await agent.get("/api/v1/workorders", params={"limit": 1000})
    assert problem["detail"] == "limit：须小于或等于 200", problem
    status, problem = await agent.get("/api/v1/workorders", params={"from": "0001-01-01T00:00:00+08:00"})
    assert problem["detail"].startswith("from：日期超出范围"), problem
    status, problem = await agent.post("/api/v1/workorders", json={"text": "x", "confidential": 0})
    assert problem["detail"] == "confidential：须为布尔值（true 或 false）", problem

"""Issue 9 item 10: credentials are taken away at once on every node, and administrators
manage users and department keys through `/api/v1/admin/…` (admin role only)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import Api, department_api, login_as, migrated_hotline

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def _second_node(settings, clock) -> AsyncIterator[TestClient]:
    """Another web node on the same database (its own process state, caches included)."""
    from hotline.web.app import create_app

    cm, h = await migrated_hotline(settings, clock)
    try:
        async with TestClient(TestServer(create_app(h, run_background=False), host="127.0.0.1")) as c:
            yield c
    finally:
        await cm.__aexit__(None, None, None)


async def test_revoked_keys_and_ended_logins_fail_at_once_on_every_node(hotline, client, settings, clock):
    admin = await login_as(hotline, client, "admin")
    dept = await department_api(hotline, client, "scjgj")
    agent = await login_as(hotline, client, "agent")
    async with _second_node(settings, clock) as other:
        on_b = Api(other, dept.headers)
        agent_b = Api(other, agent.headers)
        assert (await on_b.get("/api/v1/department/me"))[0] == 200  # node B has seen (and cached) the key
        assert (await agent_b.get("/api/v1/auth/me"))[0] == 200
        status, keys = await admin.get("/api/v1/admin/apikeys?department=scjgj")
        (key,) = keys["items"]
        assert dept.headers["X-Api-Key"].startswith(f"hk_{key['prefix']}_")
        status, out = await admin.post(f"/api/v1/admin/apikeys/{key['id']}/revoke")
        assert status == 200 and out["revoked_at"]
        status, problem = await on_b.get("/api/v1/department/me")
        assert (status, problem["code"]) == (401, "bad_api_key")  # was: still accepted for 5 minutes
        # a logout on node A ends the login on node B at once (was: 30 s)
        assert (await agent.post("/api/v1/auth/logout"))[0] == 204
        assert (await agent_b.get("/api/v1/auth/me"))[0] == 401
        # disabling a user ends every login of theirs
        other_agent = await login_as(hotline, client, "agent", username="li-agent")
        assert (await Api(other, other_agent.headers).get("/api/v1/auth/me"))[0] == 200
        _, users = await admin.get("/api/v1/admin/users")
        li = next(u for u in users["items"] if u["username"] == "li-agent")
        status, out = await admin.post(f"/api/v1/admin/users/{li['id']}/disable")
        assert status == 200 and out["active"] is False
        assert (await Api(other, other_agent.headers).get("/api/v1/auth/me"))[0] == 401
        async with other.post("/api/v1/auth/login", json={"username": "li-agent", "password": "password-123"}) as r:
            assert r.status == 401


@pytest.mark.parametrize("db_kind", ["sqlite"])  # plain CRUD through the use cases; revocation runs on both
async def test_the_admin_api_manages_users_and_keys(hotline, client):
    admin = await login_as(hotline, client, "admin")
    supervisor = await login_as(hotline, client, "supervisor")
    for method, path in (("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/apikeys"),
                         ("POST", "/api/v1/admin/apikeys/1/revoke")):
        status, problem = await supervisor.call(method, path)
        assert (status, problem["code"]) == (403, "role_required"), path

    status, user = await admin.post("/api/v1/admin/users", json={
        "username": "zhaoliu", "password": "first-password", "role": "agent", "extension": "8011"})
    assert status == 201 and (user["role"], user["extension"], user["active"]) == ("agent", "8011", True)
    status, problem = await admin.post("/api/v1/admin/users", json={
        "username": "zhaoliu", "password": "first-password", "role": "agent"})
    assert (status, problem["code"]) == (409, "username_taken")
    uid = user["id"]
    assert (await admin.post(f"/api/v1/admin/users/{uid}/role", json={"role": "supervisor"}))[1]["role"] == "supervisor"
    assert (await admin.post(f"/api/v1/admin/users/{uid}/extension", json={"extension": None}))[1]["extension"] is None
    status, problem = await admin.post(f"/api/v1/admin/users/{uid}/role", json={"role": "root"})
    assert status == 422
    status, _ = await admin.post(f"/api/v1/admin/users/{uid}/reset-password", json={"password": "second-password"})
    assert status == 200
    async with client.post("/api/v1/auth/login", json={"username": "zhaoliu", "password": "first-password"}) as r:
        assert r.status == 401
    async with client.post("/api/v1/auth/login", json={"username": "zhaoliu", "password": "second-password"}) as r:
        assert r.status == 200
    assert (await admin.post(f"/api/v1/admin/users/{uid}/disable"))[1]["active"] is False
    assert (await admin.post(f"/api/v1/admin/users/{uid}/enable"))[1]["active"] is True
    _, me = await admin.get("/api/v1/auth/me")
    status, problem = await admin.post(f"/api/v1/admin/users/{me['user']['id']}/disable")
    assert (status, problem["code"]) == (409, "cannot_disable_self")
    for bad in ("0", "9223372036854775808", "x"):
        assert (await admin.post(f"/api/v1/admin/users/{bad}/enable"))[0] == 404

    status, issued = await admin.post("/api/v1/admin/apikeys", json={"department": "jtj", "label": "交通系统"})
    assert status == 201 and issued["key"].startswith(f"hk_{issued['prefix']}_")
    assert (await Api(client, {"X-Api-Key": issued["key"]}).get("/api/v1/department/me"))[1]["code"] == "jtj"
    status, rotated = await admin.post(f"/api/v1/admin/apikeys/{issued['id']}/rotate")
    assert status == 201 and rotated["label"] == "交通系统" and rotated["key"] != issued["key"]
    assert (await Api(client, {"X-Api-Key": issued["key"]}).get("/api/v1/department/me"))[0] == 401
    assert (await Api(client, {"X-Api-Key": rotated["key"]}).get("/api/v1/department/me"))[0] == 200
    status, problem = await admin.post(f"/api/v1/admin/apikeys/{issued['id']}/rotate")
    assert (status, problem["code"]) == (409, "api_key_revoked")
    _, keys = await admin.get("/api/v1/admin/apikeys?department=jtj")
    assert [(k["id"], k["revoked_at"] is None) for k in keys["items"]] == [(issued["id"], False), (rotated["id"], True)]
    assert "key" not in keys["items"][0]  # the secret is shown once, never listed
    status, problem = await admin.post("/api/v1/admin/apikeys", json={"department": "nope"})
    assert (status, problem["code"]) == (422, "unknown_department")

    async with client.get("/api/v1/openapi.json") as r:
        doc = await r.json()
    paths = doc["paths"]
    for p in ("/api/v1/admin/users", "/api/v1/admin/users/{id}/reset-password", "/api/v1/admin/apikeys",
              "/api/v1/admin/apikeys/{id}/rotate"):
        assert p in paths, p
    body = paths["/api/v1/admin/users/{id}/extension"]["post"]["requestBody"]["content"]["application/json"]
    schema = doc["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"extension"}  # its own component, not a namesake's

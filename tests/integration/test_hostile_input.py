"""Hostile input at the HTTP boundary (issue 9, item 11): every request in the table
below is a clear 4xx or a success on SQLite and PostgreSQL, never a 5xx, and nothing
is half-stored. The table is what a fuzzer and a careless integrator sent to main."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from wechatpy.crypto import WeChatCrypto

from hotline.storage.models import Contact, WorkOrder
from tests.channels_support import (  # noqa: F401  (fixtures)
    OPEN311_KEY,
    PUBLIC_URL,
    TWILIO_TOKEN,
    WECHAT_AES,
    WECHAT_APPID,
    WECHAT_TOKEN,
    settings,
    vendors,
)
from tests.conftest import department_api
from tests.integration.test_channels_fax import tiff
from tests.integration.test_channels_wechat import query, text

pytestmark = pytest.mark.timeout(120)

NUL = "\u0000"
HUGE = "9223372036854775808"  # 2**63: one past the largest 64-bit id
HUGE_CURSOR = base64.urlsafe_b64encode(b"99999999999999999999").decode().rstrip("=")
DEEP = "[" * 2000 + "]" * 2000
PAGED = ["/api/v1/workorders", "/api/v1/department/orders", "/api/v1/department/notices",
         "/api/v1/supervisor/dead-letters", "/api/v1/supervisor/overdue", "/api/v1/supervisor/due-soon",
         "/api/v1/supervisor/returns", "/api/v1/supervisor/extensions", "/api/v1/supervisor/follow-ups"]


async def _count(h, model) -> int:
    async with h.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


def _twilio(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    sig = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + "/channels/sms/twilio", params)
    return params, {"X-Twilio-Signature": sig}


def _multipart(parts: list[tuple[bytes, bytes]], boundary: str = "XyZ") -> tuple[bytes, dict[str, str]]:
    """A multipart body written byte by byte, so it can be as broken as an attacker's."""
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts)
    return body + b"--" + boundary.encode() + b"--\r\n", {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_hostile_requests_are_never_a_5xx(hotline, client, clock, supervisor):
    dept = await department_api(hotline, client, "scjgj")
    # One genuine order to aim the reply and the lookups at.
    status, made = await supervisor.post("/api/v1/workorders", json={"text": "噪音扰民", "category": "complaint",
                                                                      "caller": {"phone": "13800138000"}})
    assert status == 201
    number = made["number"]
    await supervisor.post(f"/api/v1/workorders/{number}/dispatch", json={"lead": "scjgj"})
    before_orders, before_contacts = await _count(hotline, WorkOrder), await _count(hotline, Contact)

    cases = _table(number, supervisor.headers, dept.headers, clock)

    failures, statuses = [], {}
    for name, method, path, kw in cases:
        headers = kw.pop("headers", {})
        if any("\udcff" in v or NUL in v for v in headers.values()):
            # Headers the client library refuses to send: write the bytes ourselves.
            status = await _raw(client, method, path, headers, kw.get("params"), kw.get("data"))
        else:
            async with client.request(method, path, headers=headers, **kw) as r:
                status = r.status
                await r.read()
        statuses[name] = status
        if status >= 500:
            failures.append(f"{status} {name}")
    assert failures == [], f"{len(failures)} of {len(cases)} hostile requests answered 5xx:\n" + "\n".join(failures)
    # A NUL in a citizen's text is dropped, the message kept (a refused SMS would be lost).
    for name in ("workorder text NUL", "twilio body NUL", "fax NUL fields", "app text NUL", "open311 NUL"):
        assert statuses[name] in (200, 201), (name, statuses[name])
    for name in ("login NUL", "detail NUL", "wechat AES undecryptable", "fax part without a name",
                 "fax CR/LF/NUL file name", "portal status latin-1", "reply huge attachment",
                 "wechat plain NUL"):  # not XML at all: WeChat never sends it
        assert 400 <= statuses[name] < 500, (name, statuses[name])
    async with hotline.sessions() as s:
        texts = [t for (t,) in (await s.execute(select(Contact.text))).all()]
        names = [n for (n,) in (await s.execute(select(WorkOrder.contact_name))).all() if n]
    assert not [t for t in texts + names if NUL in t]
    assert {"路灯坏了", "路灯不亮", "夜间施工", "噪音扰民"} <= set(texts) and "张三" in names
    # Nothing half-stored: only the accepted ones are new, and no file without its order.
    assert await _count(hotline, WorkOrder) - before_orders == 5
    assert await _count(hotline, Contact) - before_contacts == 5
    assert len(list((hotline.settings.data_dir / "attachments").rglob("*.tif"))) == 1


def _table(number: str, auth: dict[str, str], dept_headers: dict[str, str], clock) -> list[tuple[str, str, str, dict]]:
    """The hostile requests: (name, method, path, client keyword arguments)."""
    app_headers = {"X-App-Key": OPEN311_KEY, "Content-Type": "application/json"}
    crypto = WeChatCrypto(WECHAT_TOKEN, WECHAT_AES, WECHAT_APPID)
    q = query(clock, "aesn0nce")
    junk = base64.b64encode(b"\x00" * 16).decode()  # decrypts to nothing a WeChat message could be
    from wechatpy.utils import WeChatSigner

    signer = WeChatSigner()
    signer.add_data(WECHAT_TOKEN, q["timestamp"], q["nonce"], junk)
    aes_params = {**q, "encrypt_type": "aes", "msg_signature": signer.signature}
    aes_body = f"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[{junk}]]></Encrypt></xml>"
    assert crypto  # the same key the channel has

    cases: list[tuple[str, str, str, dict]] = []

    def case(name: str, method: str, path: str, **kw) -> None:
        cases.append((name, method, path, kw))

    # NUL and control characters in every kind of text the boundary reads.
    case("login NUL", "POST", "/api/v1/auth/login", json={"username": f"a{NUL}b", "password": "x"})
    case("workorder text NUL", "POST", "/api/v1/workorders", headers=auth,
         json={"text": f"噪音{NUL}扰民", "category": "complaint", "caller": {"name": f"张{NUL}三"}})
    case("list q NUL", "GET", "/api/v1/workorders", headers=auth, params={"q": f"a{NUL}b"})
    case("list category NUL", "GET", "/api/v1/workorders", headers=auth, params={"category": NUL})
    case("detail NUL", "GET", f"/api/v1/workorders/{NUL}", headers=auth)
    case("department list NUL", "GET", "/api/v1/department/orders", headers=dept_headers, params={"area": NUL})
    case("app text NUL", "POST", "/api/v1/app/requests", headers={**app_headers, "Idempotency-Key": "k-nul"},
         data=json.dumps({"text": f"路灯{NUL}不亮", "phone": "13800138001"}))
    case("app key NUL", "POST", "/api/v1/app/requests", headers={**app_headers, "Idempotency-Key": f"k{NUL}"},
         data=json.dumps({"text": "路灯不亮", "phone": "13800138001"}))
    case("app status NUL", "GET", f"/api/v1/app/requests/{NUL}", headers=app_headers,
         params={"phone_last4": "8000"})
    case("open311 NUL", "POST", "/open311/v2/requests.json",
         data={"api_key": OPEN311_KEY, "service_code": "env-noise", "description": f"夜间{NUL}施工",
               "address_string": f"幸福{NUL}路1号"})
    case("open311 search NUL", "GET", "/open311/v2/requests.json", params={"service_code": NUL})
    case("twilio body NUL", "POST", "/channels/sms/twilio",
         **dict(zip(("data", "headers"), _twilio({"MessageSid": "SMnul1", "From": "+8613800138002",
                                                  "To": "+8612345", "Body": f"路灯{NUL}坏了"}), strict=True)))
    fax_body, fax_headers = _multipart([
        (b'Content-Disposition: form-data; name="from"', b"1380013\x008000"),
        (b'Content-Disposition: form-data; name="fax_id"', b"f\x00x"),
        (b'Content-Disposition: form-data; name="file"; filename="a.tif"', tiff(1))])
    case("fax NUL fields", "POST", "/channels/fax", data=fax_body, headers=fax_headers)
    # Dates: naive, plain, out of range, on every date filter.
    for path, hdr in (("/api/v1/workorders", auth), ("/api/v1/department/orders", dept_headers)):
        for value in ("2026-12-01", "2026-12-01T08:00:00", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"):
            case(f"{path} from={value}", "GET", path, headers=hdr, params={"from": value, "to": value})
    for value in ("2026-12-01", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"):
        case(f"open311 start_date={value}", "GET", "/open311/v2/requests.json",
             params={"start_date": value, "end_date": value})
    # Ids and cursors past 64 bits.
    for path in PAGED:
        case(f"{path} huge cursor", "GET", path, headers=dept_headers if "department" in path else auth,
             params={"cursor": HUGE_CURSOR})
    case("reply huge attachment", "POST", f"/api/v1/workorders/{number}/reply", headers=auth,
         json={"department": "scjgj", "result": "已处理", "attachments": [int(HUGE)]})
    case("department reply huge attachment", "POST", f"/api/v1/department/orders/{number}/reply",
         headers=dept_headers, json={"result": "已处理", "attachments": [int(HUGE)]})
    case("department attachment huge id", "GET", f"/api/v1/department/orders/{number}/attachments/{HUGE}",
         headers=dept_headers)
    case("citizen huge id", "GET", f"/api/v1/citizens/{HUGE}", headers=auth)
    case("callback huge id", "POST", f"/api/v1/telephony/callbacks/{HUGE}/close", headers=auth, json={})
    case("dead letter huge id", "POST", f"/api/v1/supervisor/dead-letters/{HUGE}/retry", headers=auth, json={})
    # JSON nested 2,000 deep.
    for path, hdr in (("/api/v1/auth/login", {}), ("/api/v1/app/requests", {**app_headers, "Idempotency-Key": "d"}),
                      ("/api/v1/workorders", auth), (f"/api/v1/department/orders/{number}/progress", dept_headers)):
        case(f"{path} deep JSON", "POST", path, data=DEEP, headers={"Content-Type": "application/json", **hdr})
    # Malformed multipart on fax and portal.
    nameless, mp = _multipart([(b"Content-Disposition: form-data", b"x")])
    case("fax part without a name", "POST", "/channels/fax", data=nameless, headers=mp)
    case("portal part without a name", "POST", "/portal/submit", data=nameless, headers=mp)
    crlf, mp = _multipart([(b'Content-Disposition: form-data; name="file"; filename="a\r\nb\x00.tif"', b"II*\x00")])
    case("fax CR/LF/NUL file name", "POST", "/channels/fax", data=crlf, headers=mp)
    case("portal CR/LF/NUL file name", "POST", "/portal/submit", data=crlf.replace(b'"file"', b'"photos"'), headers=mp)
    junk_mp = {"Content-Type": "multipart/form-data; boundary=XyZ", "Transfer-Encoding": "chunked"}
    case("fax chunked junk", "POST", "/channels/fax", data=b"--XyZ\r\n\xff\xfe junk \r\n--Xy", headers=junk_mp)
    case("portal chunked junk", "POST", "/portal/submit", data=b"--XyZ\r\n\xff\xfe junk", headers=junk_mp)
    case("department upload junk", "POST", f"/api/v1/department/orders/{number}/attachments",
         data=b"--XyZ\r\n\xff\xfe junk", headers={**junk_mp, "X-Api-Key": dept_headers["X-Api-Key"]})
    # Non-UTF-8 bytes in form fields and in credential headers.
    form_ct = {"Content-Type": "application/x-www-form-urlencoded"}
    case("portal status latin-1", "POST", "/portal/status", data=b"number=\xff\xfe&last4=1234&csrf=x", headers=form_ct)
    case("portal rate latin-1", "POST", "/portal/rate", data=b"number=\xff&level=5&csrf=x", headers=form_ct)
    for header in ("Authorization", "X-Api-Key", "X-App-Key"):
        for path in ("/api/v1/workorders", "/api/v1/department/orders", f"/api/v1/app/requests/{number}"):
            case(f"{header} non-UTF-8 on {path}", "GET", path, headers={header: "Bearer \udcff\udcfe"},
                 params={"phone_last4": "8000"})
    # WeChat AES: signed, undecryptable.
    case("wechat AES undecryptable", "POST", "/channels/wechat?" + urlencode(aes_params), data=aes_body.encode(),
         headers={"Content-Type": "text/xml"})
    case("wechat plain NUL", "POST", "/channels/wechat?" + urlencode(query(clock)),
         data=text(f"路灯{NUL}坏了", 9001, clock=clock).encode(), headers={"Content-Type": "text/xml"})

    return cases


async def _raw(client, method: str, path: str, headers: dict[str, str], params: dict | None,
               data: str | bytes | None) -> int:
    """Send a request whose headers carry raw bytes (0xFF, NUL) as they are."""
    import asyncio

    host, port = client.server.host, client.server.port
    target = path + ("?" + urlencode(params) if params else "")
    body = data.encode() if isinstance(data, str) else (data or b"")
    reader, writer = await asyncio.open_connection(host, port)
    lines = [f"{method} {target} HTTP/1.1".encode(), f"Host: {host}".encode(), b"Connection: close",
             f"Content-Length: {len(body)}".encode()]
    lines += [k.encode() + b": " + v.encode("utf-8", "surrogateescape") for k, v in headers.items()]
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    head = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(head.split()[1])


async def test_a_plain_date_is_that_day_in_the_county(hotline, client, clock, supervisor):
    """00:30 in Beijing on 26 November is still the 25th in UTC: a plain date means the
    county's day, on the staff list, the department list and Open311 alike."""
    from datetime import UTC, datetime

    clock.now = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
    status, made = await supervisor.post("/api/v1/workorders", json={"text": "夜间施工", "category": "complaint",
                                                                      "subject": "env-noise"})
    assert status == 201, made
    await supervisor.post(f"/api/v1/workorders/{made['number']}/dispatch", json={"lead": "scjgj"})
    dept = await department_api(hotline, client, "scjgj")
    for api, path in ((supervisor, "/api/v1/workorders"), (dept, "/api/v1/department/orders")):
        async def numbers(api=api, path=path, **params) -> list[str]:
            status, page = await api.get(path, params=params)
            assert status == 200, page
            return [o["number"] for o in page["items"]]
        assert await numbers(**{"from": "2026-11-26"}) == [made["number"]]
        assert await numbers(**{"from": "2026-11-26", "to": "2026-11-26"}) == [made["number"]]
        assert await numbers(to="2026-11-25") == []
        assert await numbers(**{"from": "2026-11-26T00:00:00"}) == [made["number"]]  # naive: county time
        assert await numbers(**{"from": "2026-11-26T01:00:00"}) == []
        status, problem = await api.get(path, params={"from": "0001-01-01T00:00:00+08:00"})
        assert status == 422 and "超出范围" in problem["detail"], problem
    async with client.get("/open311/v2/requests.json", params={"start_date": "2026-11-26"}) as r:
        assert r.status == 200 and [x["service_request_id"] for x in await r.json()] == [made["number"]]
    async with client.get("/open311/v2/requests.json", params={"start_date": "2026-11-25",
                                                               "end_date": "2026-11-25"}) as r:
        assert r.status == 200 and await r.json() == []
    async with client.get("/open311/v2/requests.json", params={"start_date": "0001-01-01T00:00:00+08:00"}) as r:
        assert r.status == 400


async def test_stored_control_characters_never_reach_xml(hotline, client, clock):
    """Text that came in by another door (an old row, AMI, a migration) is made XML-safe
    on the way out: one vertical tab must not make the whole public feed ill-formed."""
    import xml.etree.ElementTree as ET

    from hotline.contact import Contact as NewContact
    from hotline.domain.vocabulary import Channel

    await hotline.intake.receive(NewContact(channel=Channel.PHONE, external_id="vt-1", received_at=clock(),
                                            text="井盖\x0b丢失\x01了", subject="traffic-roads"))
    async with client.get("/open311/v2/requests.xml") as r:
        assert r.status == 200
        body = await r.read()
    descriptions = [e.text for e in ET.fromstring(body).iter("description")]
    assert "井盖丢失了" in descriptions

"""Open311 GeoReport v2 (`/open311/v2/`), so existing Open311 apps and tools work unchanged.

Services are the leaf subjects of the taxonomy (their codes are the service codes);
a service request is a work order, its `service_request_id` the order number. Every
method answers JSON or XML by the suffix (``requests.json`` / ``requests.xml``), and
errors take the spec's shape, with the HTTP status as the code::

    [{"code": 403, "description": "api_key 无效"}]
    <?xml version="1.0" encoding="utf-8"?><errors><error><code>403</code><description>…</description></error></errors>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import MultiDict
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from channels import queries
from channels.identity import APP_USER, phone_identity
from channels.publicview import CLOSED, dept_name, open_or_closed, status_notes
from channels.web_util import MAX_FIELDS, read_form
from hotline.channel import handler as channel_handler
from hotline.contact import Contact, Identity
from hotline.domain.vocabulary import Channel
from hotline.errors import HotlineError, PayloadTooLarge
from hotline.masking import coarse_address, coarse_point, names_in
from hotline.redaction import Audience, redact_text
from hotline.storage.engine import database_unavailable
from hotline.web.boundary import parse_when, xml_safe
from hotline.web.multipart import parts

if TYPE_CHECKING:
    from multidict import MultiDictProxy

    from hotline.clock import Clock
    from hotline.intake import Intake
    from hotline.ports import Hotline
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import OrderEvent, WorkOrder

log = logging.getLogger(__name__)
BASE = "/open311/v2"
FMT = "{format:json|xml}"
MAX_FORM = 64 * 1024
# The public feed is paged (`page`, `page_size`): nobody reads the whole register in one go.
PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_PAGE = 200
DEFAULT_SPAN = timedelta(days=90)
RECORD_FIELDS = ("service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                 "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                 "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url")


@dataclass(frozen=True)
class Open311Request:
    """One verified GeoReport v2 service request, as a contact for intake."""

    contact: Contact
    account_id: str | None


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# ---------------------------------------------------------------- rendering

def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    el = ET.SubElement(parent, key)
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif isinstance(value, list):
        item_tag = {"attributes": "attribute", "values": "value"}.get(key, "item")
        for item in value:
            child = ET.SubElement(el, item_tag)
            for k, v in item.items():
                _xml_value(child, k, v)
    elif value is not None:
        el.text = xml_safe(str(value))  # one stray \x0b in a stored text must not break the whole feed


def render(fmt: str, root: str, item: str, items: list[dict[str, Any]] | dict[str, Any], status: int = 200
           ) -> web.Response:
    if fmt == "json":
        return web.Response(text=json.dumps(items, ensure_ascii=False), status=status,
                            content_type="application/json", charset="utf-8")
    top = ET.Element(root)
    if isinstance(items, dict):  # a single document (service definition)
        for k, v in items.items():
            _xml_value(top, k, v)
    else:
        for it in items:
            el = ET.SubElement(top, item)
            for k, v in it.items():
                _xml_value(el, k, v)
    body = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return web.Response(body=body, status=status, content_type="text/xml", charset="utf-8")


def error(fmt: str, status: int, description: str) -> web.Response:
    return render(fmt, "errors", "error", [{"code": status, "description": description}], status)


# ---------------------------------------------------------------- the API

class Open311:
    def __init__(self, settings: Settings, *, sessions: SessionFactory, clock: Clock, intake: Intake) -> None:
        self.settings = settings
        self.sessions, self.clock, self.intake = sessions, clock, intake
        self.keys = settings.open311.api_keys
        self.tz = settings.tz

    def _check_jurisdiction(self, params: Any) -> None:
        wanted = params.get("jurisdiction_id")
        ours = self.settings.open311.jurisdiction_id
        if wanted and ours and wanted != ours:
            raise Open311Error(404, f"jurisdiction_id {wanted} 不在本平台")

    def key_id(self, key: str | None) -> str:
        """Which configured key this is (its short hash), or a 403."""
        if not key:
            raise Open311Error(403, "缺少 api_key")
        for k in self.keys:
            if hmac.compare_digest(k.encode(), key.encode()):
                return hashlib.sha256(k.encode()).hexdigest()[:8]
        raise Open311Error(403, "api_key 无效")

    # services --------------------------------------------------------
    def services(self) -> list[dict[str, Any]]:
        return [{"service_code": leaf.code, "service_name": leaf.name,
                 "description": f"{group.name} / {leaf.name}" + (f" ({leaf.name_en})" if leaf.name_en else ""),
                 "metadata": True, "type": "realtime", "keywords": ",".join(leaf.keywords), "group": group.name}
                for group, leaf in self.settings.leaf_subjects()]

    def definition(self, code: str) -> dict[str, Any]:
        if code not in {leaf.code for _, leaf in self.settings.leaf_subjects()}:
            raise Open311Error(404, f"service_code {code} 不存在")
        s = self.settings
        areas = [d for d in s.departments if d.level in ("town", "village")]
        return {"service_code": code, "attributes": [
            {"variable": True, "code": "category", "datatype": "singlevaluelist", "required": False,
             "datatype_description": "诉求类型", "order": 1, "description": "诉求类型（咨询、求助、投诉……）",
             "values": [{"key": c.code, "name": c.name} for c in s.categories]},
            {"variable": True, "code": "area", "datatype": "singlevaluelist", "required": False,
             "datatype_description": "所在乡镇（街道）或村（社区）", "order": 2, "description": "所在区域",
             "values": [{"key": d.code, "name": d.name} for d in areas]},
            {"variable": True, "code": "confidential", "datatype": "singlevaluelist", "required": False,
             "datatype_description": "举报人信息保密", "order": 3, "description": "是否对承办部门隐去反映人信息",
             "values": [{"key": "false", "name": "否"}, {"key": "true", "name": "是"}]},
        ]}

    # requests: the channel port (verify → receive → acknowledge) ------
    async def verify(self, request: web.Request) -> Open311Request:
        """`POST requests.{format}`: the client's api_key and the request's fields."""
        return self.parse(await _form(request), request.headers.get("Idempotency-Key"))

    async def receive(self, req: Open311Request) -> list[dict[str, Any]]:
        result = await self.intake.receive(req.contact)
        return [{"service_request_id": result.number, "service_notice": "已受理，请留意短信通知",
                 "account_id": req.account_id}]

    def acknowledge(self, request: web.Request, req: Open311Request, out: list[dict[str, Any]]) -> web.Response:
        return render(request.match_info["format"], "service_requests", "request", out)

    def parse(self, params: MultiDictProxy[str] | Any, idempotency_key: str | None) -> Open311Request:
        key = self.key_id(params.get("api_key"))
        self._check_jurisdiction(params)
        s = self.settings
        code = params.get("service_code") or ""
        leaves = {leaf.code: leaf for _, leaf in s.leaf_subjects()}
        if not code:
            raise Open311Error(400, "缺少 service_code")
        if code not in leaves:
            raise Open311Error(404, f"service_code {code} 不存在")
        lat, lng = _coord(params.get("lat"), -90, 90, "lat"), _coord(params.get("long"), -180, 180, "long")
        address = (params.get("address_string") or "").strip()[:300] or None
        if (lat is None or lng is None) and not address and not params.get("address_id"):
            raise Open311Error(400, "需要 lat 与 long，或 address_string / address_id 之一")
        description = (params.get("description") or "").strip()
        if len(description) > 4000:
            raise Open311Error(400, "description 过长（最多 4000 字）")
        category = params.get("attribute[category]") or None
        if category and category not in {c.code for c in s.categories}:
            raise Open311Error(400, f"attribute[category] {category} 不存在")
        area = params.get("attribute[area]") or None
        if area and area not in s.area_codes():
            raise Open311Error(400, f"attribute[area] {area} 不存在")
        confidential = (params.get("attribute[confidential]") or "").lower() == "true"
        identities = [i for i in (
            phone_identity(params.get("phone")),
            Identity("email", params["email"].strip().lower()) if params.get("email") else None,
            Identity(APP_USER, f"{key}:{params['account_id']}") if params.get("account_id") else None,
        ) if i is not None]
        name = " ".join(x for x in (params.get("last_name"), params.get("first_name")) if x) or None
        media = (params.get("media_url") or "").strip()
        from channels import files

        attachments = (files.remote(media, kind="photo", content_type="image/jpeg", filename="media_url"),) \
            if media.startswith(("https://", "http://")) and len(media) <= 1000 else ()
        external = f"open311:{key}:{idempotency_key}" if idempotency_key else f"open311:{uuid.uuid4()}"
        contact = Contact(channel=Channel.APP, external_id=external[:200], received_at=self.clock(),
                          text=description or leaves[code].name, sender=identities[0] if identities else None,
                          other_identities=tuple(identities[1:]), sender_name=name,
                          title=f"{leaves[code].name}：{description[:30]}" if description else leaves[code].name,
                          category=category or s.default_category(code), subject=code, area=area, address=address,
                          latitude=lat, longitude=lng,
                          confidential=confidential, attachments=attachments,
                          raw={"open311": {k: params.get(k) for k in ("service_code", "device_id", "account_id")
                                           if params.get(k)}, "api_key": key})
        return Open311Request(contact, params.get("account_id") or None)

    async def search(self, params: Any) -> list[dict[str, Any]]:
        self._check_jurisdiction(params)
        size = _int(params.get("page_size"), PAGE_SIZE, MAX_PAGE_SIZE, "page_size")
        page = _int(params.get("page"), 1, MAX_PAGE, "page")
        ids = _csv(params.get("service_request_id"))
        if len(ids) > size:
            raise Open311Error(400, f"service_request_id 一次最多 {size} 个")
        if ids:  # "overrides all other parameters", as the spec says
            search = queries.OrderSearch(numbers=ids)
        else:
            start = _when(params.get("start_date"), "start_date", self.tz)
            end = _when(params.get("end_date"), "end_date", self.tz, end=True)
            if start is None and end is None:
                start = self.clock() - DEFAULT_SPAN
            statuses = set(_csv(params.get("status")))
            if statuses - {"open", "closed"}:
                raise Open311Error(400, "status 只能是 open 或 closed")
            closed = True if statuses == {"closed"} else False if statuses == {"open"} else None
            search = queries.OrderSearch(start=start, end=end, subjects=_csv(params.get("service_code")),
                                         closed=closed, closed_statuses=[x.value for x in CLOSED])
        async with self.sessions() as session:
            orders, events, media = await queries.public_orders(session, search, size, offset=(page - 1) * size)
        return [self.record(o, events[o.id], media.get(o.id, "")) for o in orders]

    def record(self, o: WorkOrder, events: list[OrderEvent], media_url: str) -> dict[str, Any]:
        """One request as the public sees it: masked words, a road-level place, never the original."""
        leaves = {leaf.code: leaf.name for _, leaf in self.settings.leaf_subjects()}
        secret = bool(o.confidential)

        # The names the citizen gave anywhere are masked everywhere (a reply that names them).
        names = (o.contact_name, *names_in(o.description))

        def public(text: str) -> str:
            return redact_text(text, confidential=secret, audience=Audience.PUBLIC, names=names)

        lat, lng = (None, None) if secret else coarse_point(o.latitude, o.longitude)
        return {
            "service_request_id": o.number, "status": open_or_closed(o.status),
            "status_notes": public(status_notes(self.settings, events)),
            "service_name": leaves.get(o.subject or "", ""), "service_code": o.subject or "",
            "description": "（保密）" if secret else public(o.description),
            "agency_responsible": dept_name(self.settings, o.lead_department), "service_notice": "",
            "requested_datetime": self._iso(o.created_at), "updated_datetime": self._iso(o.updated_at),
            "expected_datetime": self._iso(o.reply_by), "address": None if secret else coarse_address(o.address),
            "address_id": None, "zipcode": None, "lat": lat, "long": lng,
            "media_url": None if secret else (media_url or None)}

    def _iso(self, t: datetime | None) -> str | None:
        return t.astimezone(self.tz).isoformat(timespec="seconds") if t else None


def _csv(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]


def _int(value: str | None, default: int, most: int, name: str) -> int:
    if value in (None, ""):
        return default
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= most:
        raise Open311Error(400, f"{name} 须为 1 至 {most} 的整数")
    return int(value)


def _coord(value: str | None, lo: float, hi: float, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        v = float(value)
    except ValueError:
        raise Open311Error(400, f"{name} 不是数字") from None
    if not lo <= v <= hi:
        raise Open311Error(400, f"{name} 超出范围")
    return v


def _when(value: str | None, name: str, zone: tzinfo, *, end: bool = False) -> datetime | None:
    """A W3C date-time; a plain date (what most integrations send) is that day in the
    county's zone, as the boundary reads every date filter."""
    if not value:
        return None
    try:
        t = parse_when(value, zone, end_of_day=end)
    except ValueError as exc:
        raise Open311Error(400, f"{name} {exc}") from None
    # end_date is inclusive in GeoReport v2: a plain end date ends just before the next day.
    return t - timedelta(microseconds=1) if end and len(value.strip()) == 10 else t


# ---------------------------------------------------------------- routes

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guard(fn: Handler) -> Handler:
    """Every failure in the spec's error format, never the core's problem+json."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        fmt = request.match_info.get("format", "json")
        try:
            return await fn(request)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        except HotlineError as exc:
            return error(fmt, exc.status if exc.status < 500 else 503, exc.detail)
        except (DBAPIError, PoolTimeout, ConnectionError, OSError) as exc:
            if not database_unavailable(exc):
                log.exception("open311: database error")
                return error(fmt, 500, "服务器内部错误")
            log.error("open311: database unavailable: %s", exc)
            response = error(fmt, 503, "服务暂时不可用，请稍后重试")
            response.headers["Retry-After"] = "5"
            return response
    return wrapped


async def _form(request: web.Request) -> Any:
    if request.content_type == "multipart/form-data":
        if request.content_length is not None and request.content_length > MAX_FORM:
            raise PayloadTooLarge(f"请求体超过上限 {MAX_FORM} 字节")
        # The fields only: a file part (some clients send `media`) is not read; media_url is.
        return MultiDict([(p.name, await p.text(MAX_FORM)) async for p in parts(request, max_parts=MAX_FIELDS)
                          if p.filename is None])
    return await read_form(request, MAX_FORM)


def install_routes(h: Hotline, api: Open311) -> None:
    async def discovery(request: web.Request) -> web.Response:
        base = (h.settings.http.public_url or f"{request.scheme}://{request.host}").rstrip("/")
        return web.json_response({
            "changeset": "2026-11-26T00:00:00+08:00", "contact": h.settings.hotline.name,
            "key_service": "向热线中心申请 api_key", "endpoints": [{
                "specification": "http://wiki.open311.org/GeoReport_v2", "url": base + BASE,
                "changeset": "2026-11-26T00:00:00+08:00", "type": "production",
                "formats": ["application/json", "text/xml"]}]})

    @_guard
    async def services(request: web.Request) -> web.Response:
        api._check_jurisdiction(request.query)
        return render(request.match_info["format"], "services", "service", api.services())

    @_guard
    async def definition(request: web.Request) -> web.Response:
        api._check_jurisdiction(request.query)
        return render(request.match_info["format"], "service_definition", "",
                      api.definition(request.match_info["code"]))

    @_guard
    async def requests_get(request: web.Request) -> web.Response:
        return render(request.match_info["format"], "service_requests", "request", await api.search(request.query))


    @_guard
    async def request_one(request: web.Request) -> web.Response:
        found = await api.search({"service_request_id": request.match_info["id"],
                                  "jurisdiction_id": request.query.get("jurisdiction_id")})
        if not found:
            raise Open311Error(404, f"service_request_id {request.match_info['id']} 不存在")
        return render(request.match_info["format"], "service_requests", "request", found)

    def add(app: web.Application) -> None:
        app.router.add_get("/open311/discovery.json", discovery)
        app.router.add_get(f"{BASE}/services.{FMT}", services)
        app.router.add_get(BASE + "/services/{code:[A-Za-z0-9_-]+}." + FMT, definition)
        app.router.add_get(f"{BASE}/requests.{FMT}", requests_get)
        app.router.add_post(f"{BASE}/requests.{FMT}", _guard(channel_handler(api)))
        app.router.add_get(BASE + "/requests/{id:[0-9A-Za-z_-]+}." + FMT, request_one)
    h.routes.append(add)

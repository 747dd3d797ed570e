"""The convenience-service directory (便民服务企业库) and its 15-minute circle
(15分钟热线便民生活服务圈): companies, search by type and distance, convenience requests
handed to a company, the company's confirmation and completion, the citizen's rating, the
monthly assessment (加盟商考评), and the directory as CSV / XLSX.

A request reaches the company through the outbox, in the transaction that records it: a
signed webhook (kind `directory`, signed like departments' webhooks with the company's own
secret) when the company has a URL, else an SMS (kind `sms`, channels' sender) to its phone.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from hotline.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from hotline.outbox import DeliveryFailed, enqueue
from hotline.public import queries
from hotline.public.circle import MonthFigures, Verdict, judge, minutes_away
from hotline.public.keys import matches, new_key, split_key
from hotline.public.models import Company, CompanyAssessment, ServiceRequest
from hotline.settings.secret import ensure_secret_key
from hotline.signed import post_signed

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from hotline.clock import Clock
    from hotline.public.config import Directory
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import OutboxMessage

KIND = "directory"
SMS_KIND = "sms"  # channels' SMS sender: payload {"text"}
KEY_PREFIX = "hlc_"
COLUMNS = ("code", "name", "service_types", "areas", "address", "latitude", "longitude", "hours", "contact_name",
           "phone", "price_guidance", "member", "status", "webhook_url")
STATUSES = ("active", "warned", "suspended")
_PHONE = re.compile(r"^\+?[0-9-]{5,32}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_ROWS = 5000


@dataclass(frozen=True)
class Found:
    company: Company
    minutes: float | None  # None: no location given, or the company has none


def month_bounds(month: str, tz: Any) -> tuple[datetime, datetime]:
    try:
        start = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValidationFailed("月份须为 YYYY-MM", code="bad_month", title_en="A month is YYYY-MM") from None
    if not 1900 <= start.year <= 9998:
        raise ValidationFailed("月份超出范围", code="bad_month", title_en="Month out of range")
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return (datetime.combine(start, time(), tz).astimezone(UTC), datetime.combine(end, time(), tz).astimezone(UTC))


def figures(rows: Sequence[ServiceRequest]) -> MonthFigures:
    waits = [(r.confirmed_at - r.created_at).total_seconds() / 60 for r in rows if r.confirmed_at]
    return MonthFigures(requests=len(rows), confirmed=sum(1 for r in rows if r.confirmed_at),
                        done=sum(1 for r in rows if r.done_at), response_minutes=sum(waits) / len(waits) if waits else None,
                        complaints=sum(1 for r in rows if r.complaint),
                        ratings=tuple(r.rating for r in rows if r.rating is not None))


class DirectoryService:
    def __init__(self, cfg: Directory, settings: Settings, sessions: SessionFactory, clock: Clock,
                 nudge: Callable[[], Awaitable[None]]) -> None:
        self.cfg, self.settings, self.sessions, self.clock, self.nudge = cfg, settings, sessions, clock, nudge
        self.types = {t.code: t for t in cfg.service_types}
        self.secret = ensure_secret_key(settings).encode()

    # ------------------------------------------------------------ companies

    def check_row(self, row: dict[str, Any]) -> list[str]:
        """What is wrong with one company's fields (import rows and the API alike)."""
        problems = []
        if not _CODE.match(str(row.get("code") or "")):
            problems.append("code 须为小写字母、数字、-、_")
        if not str(row.get("name") or "").strip():
            problems.append("name 不能为空")
        unknown = [t for t in row.get("service_types") or [] if t not in self.types]
        if unknown or not row.get("service_types"):
            problems.append(f"service_types 须为 {', '.join(self.types)} 中的一个或多个"
                            + (f"（未知：{', '.join(unknown)}）" if unknown else ""))
        areas = self.settings.area_codes()
        bad_areas = [a for a in row.get("areas") or [] if a not in areas]
        if bad_areas:
            problems.append(f"areas 中的 {', '.join(bad_areas)} 不是镇/村代码")
        lat, lon = row.get("latitude"), row.get("longitude")
        if lat is None or lon is None:
            if (lat is None) != (lon is None):
                problems.append("latitude/longitude 须同时给出")
        elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
            problems.append("latitude/longitude 超出范围")
        if row.get("phone") and not _PHONE.match(str(row["phone"])):
            problems.append("phone 格式不正确")
        if row.get("status", "active") not in STATUSES:
            problems.append(f"status 须为 {', '.join(STATUSES)}")
        url = row.get("webhook_url")
        if url and not str(url).startswith(("https://", "http://")):
            problems.append("webhook_url 须为 http(s) 地址")
        return problems

    def _apply(self, c: Company, row: dict[str, Any], now: datetime) -> None:
        for k in ("name", "address", "hours", "contact_name", "phone", "price_guidance"):
            setattr(c, k, str(row.get(k) or ""))
        c.service_types, c.areas = list(row.get("service_types") or []), list(row.get("areas") or [])
        c.latitude, c.longitude = row.get("latitude"), row.get("longitude")
        c.member = bool(row.get("member", True))
        c.status = row.get("status") or c.status or "active"
        c.webhook_url = row.get("webhook_url") or None
        c.updated_at = now

    async def upsert(self, rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
        """Create or update companies by code, all or none: a problem in any row writes nothing."""
        problems = [f"第 {i} 行：{p}" for i, row in enumerate(rows, start=1) for p in self.check_row(row)]
        codes = [r.get("code") for r in rows]
        problems += [f"code {c} 重复" for c in sorted({c for c in codes if codes.count(c) > 1}, key=str)]
        if problems:
            raise ValidationFailed("；".join(problems[:50]), code="bad_companies", title_en="Invalid company rows")
        created = updated = 0
        now = self.clock()
        async with self.sessions() as session, session.begin():
            for row in rows:
                c = await queries.company(session, str(row["code"]), for_update=True)
                if c is None:
                    c = Company(code=row["code"], webhook_secret=secrets.token_urlsafe(24), created_at=now,
                                failed_months=0, status="active")
                    session.add(c)
                    created += 1
                else:
                    updated += 1
                self._apply(c, row, now)
        return created, updated

    async def get(self, code: str) -> Company:
        async with self.sessions() as session:
            c = await queries.company(session, code)
        if c is None:
            raise NotFound(f"企业 {code[:64]} 不存在", title_en="No such company")
        return c

    async def issue_key(self, code: str) -> str:
        prefix, digest, key = new_key(KEY_PREFIX)
        async with self.sessions() as session, session.begin():
            c = await queries.company(session, code, for_update=True)
            if c is None:
                raise NotFound(f"企业 {code[:64]} 不存在", title_en="No such company")
            c.key_prefix, c.key_hash = prefix, digest  # the old key stops at once
        return key

    async def company_for_key(self, key: str | None) -> Company:
        parts = split_key(key, KEY_PREFIX)
        c = None
        if parts is not None:
            async with self.sessions() as session:
                c = await queries.company_by_key(session, parts[0])
        if c is None or parts is None or not matches(c.key_hash, parts[1]):
            raise Unauthorized("X-Company-Key 无效", code="bad_company_key", title_en="Invalid X-Company-Key")
        return c

    async def set_status(self, code: str, status: str) -> Company:
        async with self.sessions() as session, session.begin():
            c = await queries.company(session, code, for_update=True)
            if c is None:
                raise NotFound(f"企业 {code[:64]} 不存在", title_en="No such company")
            c.status, c.updated_at = status, self.clock()
            if status == "active":
                c.failed_months = 0
            return c

    # ------------------------------------------------------------ search

    async def search(self, service_type: str | None, lat: float | None, lon: float | None, area: str | None,
                     within: float | None) -> list[Found]:
        """Companies that may be referred (not suspended), of the type, serving the area, within
        `within` minutes (default: the circle) when a location is given; nearest first."""
        if service_type is not None and service_type not in self.types:
            raise ValidationFailed(f"服务类型 {service_type[:32]} 不存在", code="unknown_service_type",
                                   title_en="No such service type")
        limit = within if within is not None else self.cfg.circle_minutes
        async with self.sessions() as session:
            rows = await queries.companies(session, referable=True)
        found = []
        for c in rows:
            if service_type and service_type not in c.service_types:
                continue
            if area and c.areas and area not in c.areas:
                continue
            minutes = None
            if lat is not None and lon is not None:
                if c.latitude is None or c.longitude is None:
                    continue
                minutes = minutes_away(lat, lon, c.latitude, c.longitude, road_factor=self.cfg.road_factor,
                                       kmh=self.cfg.travel_kmh)
                if minutes > limit:
                    continue
            found.append(Found(c, None if minutes is None else round(minutes, 1)))
        # Members first at equal distance: the association's companies are the ones assessed.
        found.sort(key=lambda f: (f.minutes if f.minutes is not None else 0.0, not f.company.member, f.company.code))
        return found

    # ------------------------------------------------------------ requests

    def rating_token(self, request_id: int) -> str:
        """What the citizen presents to rate (sent to them by SMS): only they can rate."""
        return hmac.new(self.secret, f"directory-rate:{request_id}".encode(), hashlib.sha256).hexdigest()[:20]

    async def hand_over(self, code: str, service_type: str, phone: str, name: str, address: str, text: str,
                        order_number: str | None) -> ServiceRequest:
        if service_type not in self.types:
            raise ValidationFailed(f"服务类型 {service_type[:32]} 不存在", code="unknown_service_type",
                                   title_en="No such service type")
        now = self.clock()
        async with self.sessions() as session, session.begin():
            c = await queries.company(session, code)
            if c is None:
                raise NotFound(f"企业 {code[:64]} 不存在", title_en="No such company")
            if c.status == "suspended":
                raise Conflict(f"企业 {c.name} 已暂停派单", code="company_suspended", title_en="Suspended from referrals")
            if service_type not in c.service_types:
                raise Conflict(f"企业 {c.name} 不提供该服务", code="service_not_offered",
                               title_en="The company does not offer this service")
            work_order_id = await queries.order_id(session, order_number) if order_number else None
            if order_number and work_order_id is None:
                raise NotFound(f"工单 {order_number} 不存在", title_en="No such work order")
            row = ServiceRequest(company_id=c.id, service_type=service_type, text=text, citizen_name=name,
                                 citizen_phone=phone, address=address, work_order_id=work_order_id, status="sent",
                                 created_at=now, complaint=False, comment="")
            session.add(row)
            await session.flush()
            payload = {"company": c.code, "request": {"id": row.id, "service_type": service_type, "text": text,
                                                      "citizen_name": name, "citizen_phone": phone,
                                                      "address": address, "created_at": now.isoformat()}}
            if c.webhook_url:
                enqueue(session, kind=KIND, target=c.code, event="convenience.request", payload=payload, now=now,
                        work_order_id=work_order_id, ordering_key=f"company:{c.code}")
            elif c.phone:
                label = self.types[service_type].name
                enqueue(session, kind=SMS_KIND, target=c.phone, event="convenience.request", now=now,
                        work_order_id=work_order_id,
                        payload={"text": f"【12345便民服务】{label}：{text[:60]} 地址：{address[:60]} "
                                         f"联系人：{name or '市民'} {phone}（单号 {row.id}）"})
        await self.nudge()
        return row

    async def confirm(self, company: Company, request_id: int) -> ServiceRequest:
        return await self._company_step(company, request_id, "confirmed")

    async def done(self, company: Company, request_id: int) -> ServiceRequest:
        return await self._company_step(company, request_id, "done")

    async def _company_step(self, company: Company, request_id: int, to: str) -> ServiceRequest:
        async with self.sessions() as session, session.begin():
            row = await queries.service_request(session, request_id, company.id)
            if row is None:
                raise NotFound(f"便民服务单 {request_id} 不存在", title_en="No such request")
            now = self.clock()
            if to == "confirmed":
                if row.status != "sent":
                    raise Conflict("该服务单已确认", code="already_confirmed", title_en="Already confirmed")
                row.confirmed_at = now
            else:
                if row.status == "done":
                    raise Conflict("该服务单已完成", code="already_done", title_en="Already done")
                row.confirmed_at = row.confirmed_at or now
                row.done_at = now
            row.status = to
            return row

    async def rate(self, request_id: int, token: str, level: int, complaint: bool, comment: str) -> ServiceRequest:
        if not hmac.compare_digest(token, self.rating_token(request_id)):
            raise NotFound(f"便民服务单 {request_id} 不存在", title_en="No such request")
        async with self.sessions() as session, session.begin():
            row = await queries.service_request(session, request_id)
            if row is None:
                raise NotFound(f"便民服务单 {request_id} 不存在", title_en="No such request")
            if row.rated_at is not None:
                raise Conflict("已评价", code="already_rated", title_en="Already rated")
            row.rating, row.complaint, row.comment, row.rated_at = level, complaint, comment, self.clock()
            return row

    # ------------------------------------------------------------ assessment (加盟商考评)

    async def assess(self, month: str) -> list[tuple[CompanyAssessment, str]]:
        """Judge every company's month once (a repeat returns the stored verdicts), and warn or
        suspend by the rules; a passed month after a warning makes the company active again."""
        start, end = month_bounds(month, self.settings.tz)
        now = self.clock()
        if end > now:
            raise ValidationFailed("只能考评已结束的月份", code="month_not_over", title_en="The month is not over")
        out = []
        async with self.sessions() as session, session.begin():
            rows = await queries.requests_between(session, start, end)
            for c in await queries.companies(session):
                done = await queries.assessment(session, c.id, month)
                if done is not None:
                    out.append((done, c.code))
                    continue
                f = figures([r for r in rows if r.company_id == c.id])
                verdict: Verdict = judge(f, self.cfg.assessment, failed_before=c.failed_months)
                a = CompanyAssessment(company_id=c.id, month=month, requests=f.requests, confirmed=f.confirmed,
                                      done=f.done, response_minutes=f.response_minutes, complaints=f.complaints,
                                      ratings=len(f.ratings), rating=f.rating, action=verdict.action,
                                      reasons=list(verdict.reasons), created_at=now)
                session.add(a)
                c.failed_months = verdict.failed
                if verdict.action in ("warned", "suspended"):
                    c.status = verdict.action
                elif verdict.action == "ok" and c.status == "warned":
                    c.status = "active"
                c.updated_at = now
                out.append((a, c.code))
            await session.flush()
        return out

    # ------------------------------------------------------------ CSV / XLSX

    async def export(self, fmt: str) -> bytes:
        async with self.sessions() as session:
            rows = [[_cell(getattr(c, k)) for k in COLUMNS] for c in await queries.companies(session)]
        if fmt == "csv":
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(COLUMNS)
            w.writerows(rows)
            return ("\ufeff" + buf.getvalue()).encode()  # the BOM: Excel reads UTF-8 Chinese right
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "companies"
        ws.append(list(COLUMNS))
        for r in rows:
            ws.append(r)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()

    def parse(self, data: bytes, fmt: str) -> list[dict[str, Any]]:
        """The rows of an uploaded file as company fields; ValidationFailed for an unreadable file."""
        try:
            if fmt == "csv":
                text = data.decode("utf-8-sig")
                table = list(csv.reader(io.StringIO(text)))
            else:
                from openpyxl import load_workbook

                wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
                ws = wb.worksheets[0]
                table = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
        except Exception as exc:  # any parser failure of an uploaded file is the sender's 422, not ours
            raise ValidationFailed(f"文件无法读取：{type(exc).__name__}", code="bad_file",
                                   title_en="The file cannot be read") from None
        if not table or [h.strip() for h in table[0][:len(COLUMNS)]] != list(COLUMNS[:len(table[0])]) \
                or "code" not in table[0]:
            raise ValidationFailed(f"第一行须为列名：{','.join(COLUMNS)}", code="bad_file",
                                   title_en=f"The first row names the columns: {','.join(COLUMNS)}")
        if len(table) - 1 > MAX_ROWS:
            raise ValidationFailed(f"最多 {MAX_ROWS} 行", code="bad_file", title_en=f"At most {MAX_ROWS} rows")
        head = [h.strip() for h in table[0]]
        rows = []
        for i, values in enumerate(table[1:], start=2):
            if not any(str(v).strip() for v in values):
                continue
            cell = dict(zip(head, (str(v).strip() for v in values), strict=False))
            rows.append(_row(cell, i))
        return rows


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else value


def _row(cell: dict[str, str], line: int) -> dict[str, Any]:
    def number(key: str) -> float | None:
        raw = cell.get(key, "")
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            raise ValidationFailed(f"第 {line} 行：{key} 不是数字", code="bad_file",
                                   title_en=f"Row {line}: {key} is not a number") from None

    def items(key: str) -> list[str]:
        return [x.strip() for x in re.split(r"[;；,，]", cell.get(key, "")) if x.strip()]

    return {"code": cell.get("code", ""), "name": cell.get("name", ""), "service_types": items("service_types"),
            "areas": items("areas"), "address": cell.get("address", ""), "latitude": number("latitude"),
            "longitude": number("longitude"), "hours": cell.get("hours", ""),
            "contact_name": cell.get("contact_name", ""), "phone": cell.get("phone", ""),
            "price_guidance": cell.get("price_guidance", ""),
            "member": cell.get("member", "1").lower() not in ("0", "false", "否", "no"),
            "status": cell.get("status") or "active", "webhook_url": cell.get("webhook_url") or None}


class CompanySender:
    """The outbox strategy for kind `directory`: the company's webhook, signed with its secret."""

    def __init__(self, sessions: SessionFactory, clock: Clock, http: aiohttp.ClientSession, timeout: float = 10.0
                 ) -> None:
        self.sessions, self.clock, self.http = sessions, clock, http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: OutboxMessage) -> None:
        async with self.sessions() as session:
            c = await queries.company(session, message.target)
        if c is None or not c.webhook_url:
            raise DeliveryFailed(f"company {message.target!r} has no webhook URL", retryable=False)
        await post_signed(self.http, c.webhook_url, c.webhook_secret, message, self.clock, self.timeout)


DIRECTORY: web.AppKey[DirectoryService] = web.AppKey("public.directory")

"""The portal's pages, server-rendered (Jinja2), Chinese first, usable on a phone.

Writes are protected by a signed double-submit CSRF token and rate-limited per client;
a submission carries a one-time id from the form, so a double click or a browser retry
gives the same work order. Status lookup needs the number and the last 4 digits of the
phone number left with it, and the same answer is given for "no such order" and "wrong
digits", so numbers cannot be probed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from aiohttp import web

from channels import files
from channels.identity import last4_matches, normalise_phone, phone_identity
from channels.inbox import RATEABLE
from channels.portal.i18n import WORDS
from channels.publicview import dept_name, public_history
from channels.web_util import client_key
from hotline.contact import AttachmentIn, Contact
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import SATISFACTION, ActorKind, Channel
from hotline.errors import NotFound, PayloadTooLarge
from hotline.ratelimit import RateLimiter
from hotline.settings import ensure_secret_key
from hotline.storage.orders import order_history
from hotline.web.boundary import xml_safe
from hotline.web.context import LANG_COOKIE, lang_of
from hotline.web.multipart import parts
from hotline.web.serialize import status_name

if TYPE_CHECKING:
    from channels.config import PortalConfig
    from hotline.clock import Clock
    from hotline.intake import Intake
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.workorders import WorkOrderService

HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "hotline_portal_csrf"
FIELDS = ("category", "subject", "area", "address", "text", "name", "phone", "confidential", "csrf",
          "submission_id")


@dataclass
class Submission:
    """The submission form as read, and what is wrong with it (an empty `errors`: accepted)."""

    fields: dict[str, str] = field(default_factory=dict)
    photos: list[tuple[str, bytes]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    status: int = 422  # the page's status when refused
    client: str = ""
    user_agent: str = ""

    def refuse(self, status: int, error: str) -> None:
        self.status, self.errors = status, [error]


class Portal:
    def __init__(self, cfg: PortalConfig, settings: Settings, *, sessions: SessionFactory, clock: Clock,
                 intake: Intake, orders: WorkOrderService) -> None:
        self.settings = settings
        self.sessions, self.clock, self.intake, self.orders = sessions, clock, intake, orders
        self.cfg = cfg
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                      autoescape=jinja2.select_autoescape(["html"]), enable_async=False,
                                      # HTML must not carry what XML 1.0 forbids either (a stray \x0b)
                                      finalize=lambda v: type(v)(xml_safe(v)) if isinstance(v, str) else v)
        self.secret = ensure_secret_key(settings).encode()
        self.submit_limit = RateLimiter(cfg.submissions_per_client, cfg.window_seconds)
        self.lookup_limit = RateLimiter(cfg.lookups_per_client, cfg.window_seconds)

    # ------------------------------------------------------------ rendering
    def _words(self, lang: str) -> dict[str, str]:
        return WORDS["en" if lang == "en" else "zh"]

    def page(self, request: web.Request, template: str, *, status: int = 200, **ctx: Any) -> web.Response:
        lang = lang_of(request)
        token = self._csrf_for(request)
        s = self.settings
        html = self.env.get_template(template).render(
            lang=lang, t=self._words(lang), csrf=token, hotline_name=s.hotline.name_en if lang == "en" else s.hotline.name,
            hotline_number=s.hotline.number, lang_href=self._lang_href(request, str(ctx.get("tab", "submit")), lang), **ctx)
        resp = web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                     "Content-Security-Policy": "default-src 'self'; img-src 'self' data:"})
        resp.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Lax", path="/portal")
        if request.query.get("lang") in ("zh", "en"):
            resp.set_cookie(LANG_COOKIE, request.query["lang"], samesite="Lax", max_age=365 * 86400)
        return resp

    @staticmethod
    def _lang_href(request: web.Request, tab: str, lang: str) -> str:
        """The language link: this page again, or for a POST result its tab's page."""
        other = "zh" if lang == "en" else "en"
        if request.method == "GET":
            return str(request.rel_url.update_query(lang=other))
        return ("/portal/status" if tab == "status" else "/portal/") + f"?lang={other}"

    def _label(self, item: Any, lang: str) -> str:
        return str(item.name_en) if lang == "en" and item.name_en else str(item.name)

    def _form_ctx(self, request: web.Request, form: dict[str, str] | None = None) -> dict[str, Any]:
        lang = lang_of(request)
        s = self.settings
        towns = [d for d in s.departments if d.level == "town"]
        villages = [d for d in s.departments if d.level == "village"]
        t = self._words(lang)
        return {
            "tab": "submit", "form": form or {}, "submission_id": (form or {}).get("submission_id") or uuid.uuid4(),
            "categories": [{"code": c.code, "label": self._label(c, lang)} for c in s.categories],
            "subjects": [{"label": self._label(g, lang), "children": [
                {"code": leaf.code, "label": self._label(leaf, lang)} for leaf in g.children]} for g in s.subjects],
            "areas": [{"code": town.code, "label": self._label(town, lang), "children": [
                {"code": v.code, "label": self._label(v, lang)} for v in villages if v.parent == town.code]}
                for town in towns],
            "max_text": self.cfg.max_text_chars, "photo_types": ",".join(self.cfg.photo_types),
            "photos_hint": t["photos_hint"].format(n=self.cfg.max_photos, mb=self.cfg.max_photo_bytes // (1024 * 1024)),
        }

    # ------------------------------------------------------------ CSRF (signed double submit)
    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret, f"portal-csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]

    def _csrf_for(self, request: web.Request) -> str:
        existing = request.cookies.get(CSRF_COOKIE, "")
        if self._valid_token(existing):
            return existing
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._sign(nonce)}"

    def _valid_token(self, token: str) -> bool:
        nonce, _, sig = token.partition(".")
        return bool(nonce) and hmac.compare_digest(sig, self._sign(nonce))

    def csrf_ok(self, request: web.Request, submitted: str | None) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return bool(submitted) and self._valid_token(cookie) and hmac.compare_digest(cookie, submitted or "")

    def done_sig(self, number: str) -> str:
        return hmac.new(self.secret, f"portal-done:{number}".encode(), hashlib.sha256).hexdigest()[:24]

    # ------------------------------------------------------------ submission
    async def read_submission(self, request: web.Request, lang: str) -> Submission:
        t = self._words(lang)
        sub = Submission()
        limit = self.cfg.max_photos * self.cfg.max_photo_bytes + 256 * 1024
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(t["err_too_large"])
        mb = self.cfg.max_photo_bytes // (1024 * 1024)
        # Every field once, the photos, and a few spare (a browser's empty file input).
        async for part in parts(request, max_parts=len(FIELDS) + self.cfg.max_photos + 4):
            if part.name == "photos":
                try:
                    data = await part.read(self.cfg.max_photo_bytes)
                except PayloadTooLarge:
                    sub.errors.append(t["err_photo_size"].format(name=files.safe_name(part.filename, "photo"), mb=mb))
                    continue
                if not data and not part.filename:
                    continue  # the empty file input
                name = files.safe_name(part.filename, "photo")
                if len(sub.photos) >= self.cfg.max_photos:
                    sub.errors.append(t["err_photo_count"].format(n=self.cfg.max_photos))
                else:
                    sub.photos.append((name, data))
            elif part.name in FIELDS:
                sub.fields[part.name] = await part.text(4 * self.cfg.max_text_chars)
        return sub

    def validate(self, sub: Submission, lang: str) -> None:
        t = self._words(lang)
        s = self.settings
        f = sub.fields
        text = f.get("text", "").strip()
        if not text or len(text) > self.cfg.max_text_chars:
            sub.errors.append(t["err_text"].format(n=self.cfg.max_text_chars))
        if f.get("phone", "").strip() and not re.fullmatch(r"1[3-9]\d{9}", normalise_phone(f["phone"]) or ""):
            sub.errors.append(t["err_phone"])
        for key, known in (("category", {c.code for c in s.categories}), ("subject", s.subject_codes()),
                           ("area", s.area_codes())):
            if f.get(key) and f[key] not in known:
                sub.errors.append(t["err_choice"].format(field=t[key]))
        for name, data in sub.photos:
            ctype = files.sniff_image(data)
            if ctype is None or ctype not in self.cfg.photo_types:
                sub.errors.append(t["err_photo_type"].format(name=name))

    # ------------------------------------------------------------ the channel port (the submission form)
    async def verify(self, request: web.Request) -> Submission:
        """Read the form and check it: CSRF token, rate limit, fields, photos. A refused
        submission is not an error here: it comes back as the form, with the reasons."""
        lang = lang_of(request)
        t = self._words(lang)
        if request.content_type != "multipart/form-data":
            sub = Submission()
            sub.refuse(415, t["err_too_large"])
            return sub
        sub = await self.read_submission(request, lang)
        sub.client, sub.user_agent = client_key(request), request.headers.get("User-Agent", "")[:200]
        if not self.csrf_ok(request, sub.fields.get("csrf")):
            sub.refuse(403, t["err_csrf"])
        elif not self.submit_limit.allow(sub.client):
            sub.refuse(429, t["err_rate"])
        else:
            self.validate(sub, lang)
        return sub

    async def receive(self, sub: Submission) -> str | None:
        """The new order's number, or None for a refused submission (nothing stored)."""
        return None if sub.errors else await self.submit(sub)

    def acknowledge(self, request: web.Request, sub: Submission, number: str | None) -> web.StreamResponse:
        if number is None:
            form = {k: v for k, v in sub.fields.items() if k != "csrf"}
            return self.page(request, "submit.html", status=sub.status, errors=sub.errors,
                             **self._form_ctx(request, form))
        has_phone = "1" if sub.fields.get("phone", "").strip() else "0"
        location = f"/portal/done/{number}?p={has_phone}&sig={self.done_sig(number)}"
        return web.Response(status=303, text="303: See Other", headers={"Location": location})

    async def submit(self, sub: Submission) -> str:
        f = sub.fields
        now = self.clock()
        attachments: list[AttachmentIn] = []
        for name, data in sub.photos:
            ctype = files.sniff_image(data) or "application/octet-stream"
            attachments.append(await files.store(self.settings.data_dir, data, kind="photo", content_type=ctype,
                                                 filename=name, now=now))
        try:
            submission = str(uuid.UUID(f.get("submission_id", "")))
        except ValueError:
            submission = str(uuid.uuid4())
        contact = Contact(channel=Channel.WEB, external_id=f"portal:{submission}", received_at=now,
                          text=f["text"].strip(), sender=phone_identity(f.get("phone")),
                          sender_name=(f.get("name") or "").strip()[:100] or None, category=f.get("category") or None,
                          subject=f.get("subject") or None, area=f.get("area") or None,
                          address=(f.get("address") or "").strip()[:300] or None,
                          confidential=f.get("confidential") == "1", attachments=tuple(attachments),
                          raw={"client": sub.client, "user_agent": sub.user_agent})
        result = await self.intake.receive(contact)
        return result.number

    # ------------------------------------------------------------ status + rating
    async def order_view(self, request: web.Request, number: str, last4: str) -> dict[str, Any] | None:
        lang = lang_of(request)
        async with self.sessions() as session:
            try:
                hist = await order_history(session, number)
            except NotFound:
                return None
        o = hist.order
        if not last4_matches(o.contact_phone, last4):
            return None
        en = lang == "en"
        tz = self.settings.tz
        return {"number": o.number, "status_name": status_name(o.status, lang),
                "department": dept_name(self.settings, o.lead_department, lang),
                "history": [{"at": e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "note": n}
                            for e, n in public_history(self.settings, hist.events, lang)],
                "rating": o.rating, "rating_name": SATISFACTION[o.rating][1 if en else 0] if o.rating else None,
                "can_rate": o.status in RATEABLE and o.rating is None}

    async def rate(self, number: str, level: int, comment: str) -> None:
        actor = wo.Actor(ActorKind.CITIZEN, None, None)

        async def build(session: Any, order: Any, state: wo.OrderState) -> wo.Command:
            return wo.Rate(actor, level, comment[:500])
        await self.orders.execute(number, build)

    def levels(self, lang: str) -> list[tuple[int, str]]:
        return [(k, v[1] if lang == "en" else v[0]) for k, v in sorted(SATISFACTION.items(), reverse=True)]



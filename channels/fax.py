"""Fax (传真): uploads from a fax gateway and Asterisk ReceiveFAX's spool folder.

    POST /channels/fax   multipart: file=<PDF|TIFF>, from=13800138000, pages=3, fax_id=1700000000.12
    → 201 {"number": "20261126000001", "pages": 3, "receipt": "…"}

The spool folder (``channels.fax.spool_dir``, default ``<data_dir>/fax-spool``) takes
``NAME.tif`` (or .tiff/.pdf) and, written last by the dialplan, ``NAME.json`` —
``{"from": "...", "pages": "3", "fax_id": "..."}`` — or ``NAME.meta`` with ``key=value``
lines; while the call is on the line a ``NAME.receiving`` marker says not to touch the file.
Page 1 becomes a PNG preview; the original is kept. An unreadable file answers 422 (or, from
the spool, leaves the spool) and is kept in ``<data_dir>/fax-quarantine``
with a JSON file saying why: never dropped silently.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from channels import files, texts
from channels.errors import ChannelAuthError
from channels.faxdoc import FaxDocument, Unreadable, read_fax
from channels.identity import phone_identity
from hotline.channel import handler as channel_handler
from hotline.contact import Contact
from hotline.domain.vocabulary import Channel
from hotline.errors import HotlineError, PayloadTooLarge, ValidationFailed
from hotline.web.multipart import parts

if TYPE_CHECKING:
    from pathlib import Path

    from channels.config import FaxConfig
    from hotline.clock import Clock
    from hotline.intake import Intake, IntakeResult
    from hotline.ports import Hotline

log = logging.getLogger(__name__)
PATH = "/channels/fax"
FAX_SUFFIXES = (".tif", ".tiff", ".pdf")
META_SUFFIXES = (".json", ".meta")
# The dialplan's "still on the line" marker, beside NAME.tif until the call's hangup handler
# writes NAME.json. Older than this, the call cannot still be running (Asterisk died mid-fax):
# the file is then an orphan like any other.
RECEIVING = ".receiving"
RECEIVING_STALE_SECONDS = 2 * 3600
MAX_PARTS = 8  # file, from, pages, fax_id and room for a gateway's extras; more is an attack


@dataclass(frozen=True)
class FaxIn:
    data: bytes
    sender: str | None = None
    pages: int | None = None
    fax_id: str | None = None
    filename: str | None = None
    source: str = "gateway"  # gateway | spool


@dataclass(frozen=True)
class FaxReceipt:
    result: IntakeResult
    document: FaxDocument


class FaxChannel:
    """The fax channel port: a gateway's upload (`verify` → `receive` → `acknowledge`), and
    the spool folder that Asterisk's ReceiveFAX writes to (`watch_spool`)."""

    def __init__(self, cfg: FaxConfig, spool: Path, *, data_dir: Path, clock: Clock, intake: Intake,
                 hotline_name: str) -> None:
        self.cfg = cfg
        self.hotline_name = hotline_name
        self.spool = spool
        self.data_dir = data_dir
        self.quarantine_dir = data_dir / "fax-quarantine"
        self.clock, self.intake = clock, intake

    # ------------------------------------------------------------ verify + parse (gateway)
    async def verify(self, request: web.Request) -> FaxIn:
        """The gateway's key (`X-Fax-Key`, when keys are configured), then its upload."""
        if self.cfg.gateway_keys:
            key = request.headers.get("X-Fax-Key", "")
            if not any(hmac.compare_digest(key.encode(), k.encode()) for k in self.cfg.gateway_keys):
                raise ChannelAuthError("X-Fax-Key 无效", code="bad_fax_key")
        elif not self.cfg.open_without_key:
            raise ChannelAuthError("传真网关须配置密钥（channels.fax.gateway_keys），或在可信内网显式开放"
                                   "（channels.fax.open_without_key: true）", code="fax_key_required")
        return await self._upload(request)

    async def _upload(self, request: web.Request) -> FaxIn:
        if request.content_length is not None and request.content_length > self.cfg.max_bytes + 64 * 1024:
            raise PayloadTooLarge(f"传真文件超过上限 {self.cfg.max_bytes} 字节")
        fields: dict[str, str] = {}
        data: bytes | None = None
        filename = None
        async for part in parts(request, max_parts=MAX_PARTS):
            if part.name == "file":
                filename = part.filename
                data = await part.read(self.cfg.max_bytes, what="传真文件")
            elif part.name in ("from", "pages", "fax_id"):
                fields[part.name] = (await part.text(256)).strip()
        if not data:
            raise ValidationFailed("缺少 file（PDF 或 TIFF 传真文件）", code="fax_file_required")
        pages = None
        if fields.get("pages"):
            if not fields["pages"].isdigit():
                raise ValidationFailed("pages 须为整数", code="bad_pages")
            pages = int(fields["pages"])
        return FaxIn(data, fields.get("from") or None, pages, (fields.get("fax_id") or None), filename)

    # ------------------------------------------------------------ intake
    async def receive(self, fax: FaxIn) -> FaxReceipt:
        try:
            result, doc = await self.take(fax)
        except Unreadable as exc:
            raise ValidationFailed(f"传真文件无法读取（{exc}），已转入隔离区待人工处理",
                                   code="fax_unreadable") from None
        return FaxReceipt(result, doc)

    def acknowledge(self, request: web.Request, fax: FaxIn, receipt: FaxReceipt) -> web.Response:
        number = receipt.result.number
        body = {"number": number, "pages": receipt.document.pages, "repeated": receipt.result.repeated,
                "receipt": texts.fax_receipt(self.hotline_name, number)}
        return web.json_response(body, status=200 if receipt.result.repeated else 201,
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def take(self, fax: FaxIn) -> tuple[IntakeResult, FaxDocument]:
        """Read, store and register one fax; `Unreadable` after quarantining it."""
        now = self.clock()
        try:
            doc = await asyncio.to_thread(read_fax, fax.data, self.cfg.max_pages)
        except Unreadable as exc:
            meta = {"from": fax.sender, "pages": fax.pages, "fax_id": fax.fax_id, "source": fax.source}
            room = await asyncio.to_thread(files.prune, self.quarantine_dir, now=now,
                                           max_age_days=self.cfg.quarantine_max_age_days,
                                           max_bytes=self.cfg.quarantine_max_bytes)
            if len(fax.data) > room:
                log.warning("fax: quarantine full (%d bytes max): unreadable %s from %s not kept",
                            self.cfg.quarantine_max_bytes, fax.fax_id or fax.filename, fax.sender)
                raise HotlineError("传真隔离区已满，文件未保留，请联系热线管理员", code="quarantine_full",
                                   status=507, title="存储空间不足", title_en="Insufficient storage") from None
            where = await asyncio.to_thread(files.quarantine, self.quarantine_dir, fax.data, filename=fax.filename,
                                            reason=str(exc), meta=meta, now=now)
            log.warning("fax: unreadable %s from %s (%s): kept in %s", fax.fax_id or fax.filename, fax.sender,
                        exc, where)
            raise
        external = f"fax:{fax.fax_id}" if fax.fax_id else "sha256:" + hashlib.sha256(fax.data).hexdigest()
        data_dir = self.data_dir
        original = await files.store(data_dir, fax.data, kind="fax", content_type=doc.content_type,
                                     filename=fax.filename or f"fax{'.pdf' if doc.content_type.endswith('pdf') else '.tif'}",
                                     now=now)
        preview = await files.store(data_dir, doc.preview_png, kind="fax_preview", content_type="image/png",
                                    filename="page-1.png", now=now)
        if fax.pages is not None and fax.pages != doc.pages:
            log.info("fax %s: the sender said %d pages, the file has %d", fax.fax_id, fax.pages, doc.pages)
        contact = Contact(channel=Channel.FAX, external_id=external[:200], received_at=now,
                          text=f"[传真] 共 {doc.pages} 页，见附件", title=f"传真来件（{doc.pages} 页）",
                          sender=phone_identity(fax.sender), attachments=(original, preview),
                          raw={"from": fax.sender, "pages": doc.pages, "pages_declared": fax.pages,
                               "fax_id": fax.fax_id, "source": fax.source})
        return await self.intake.receive(contact), doc

    # ------------------------------------------------------------ the spool folder
    async def watch_spool(self) -> None:
        """Background loop: take what ReceiveFAX left in the spool folder."""
        try:  # ReceiveFAX does not create it; on one host the hotline does, for Asterisk too
            self.spool.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("fax: cannot create the spool folder %s (%s); waiting for it", self.spool, exc.strerror)
        while True:
            try:
                await self.scan_spool()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be down: the files wait in the spool
                log.exception("fax: spool scan failed; retrying")
            await asyncio.sleep(self.cfg.scan_seconds)

    async def scan_spool(self) -> int:
        """One pass over the spool; returns how many faxes it took (registered or quarantined)."""
        if not self.spool.is_dir():
            return 0
        taken = 0
        now = self.clock().timestamp()
        for path in sorted(p for p in self.spool.iterdir() if p.suffix.lower() in FAX_SUFFIXES):
            meta_path = next((path.with_suffix(s) for s in META_SUFFIXES if path.with_suffix(s).exists()), None)
            marker = path.with_suffix(RECEIVING)
            if meta_path is None and not self._orphan(path, marker, now):
                continue  # ReceiveFAX may still be writing it
            meta = _read_meta(meta_path) if meta_path else {}
            data = path.read_bytes()
            fax = FaxIn(data, meta.get("from") or None, _int(meta.get("pages")), meta.get("fax_id") or path.stem,
                        path.name, "spool")
            try:
                if len(data) > self.cfg.max_bytes:
                    await asyncio.to_thread(files.quarantine, self.quarantine_dir, data, filename=path.name,
                                            reason=f"超过上限 {self.cfg.max_bytes} 字节", meta=meta,
                                            now=self.clock())
                else:
                    result, _ = await self.take(fax)
                    log.info("fax: spool %s → order %s", path.name, result.number)
            except Unreadable:
                pass  # quarantined by take
            for p in (path, meta_path, marker):  # only after the order (or quarantine) is committed
                if p is not None:
                    p.unlink(missing_ok=True)
            taken += 1
        return taken

    def _orphan(self, path: Path, marker: Path, now: float) -> bool:
        """A file without its sidecar: taken only once nothing can still be writing it. While the
        call is on the line (the dialplan's marker) that is never, however short
        `orphan_after_seconds` is, but for a marker so old that Asterisk must have died."""
        try:
            if marker.exists():
                return now - marker.stat().st_mtime >= max(RECEIVING_STALE_SECONDS, self.cfg.orphan_after_seconds)
            return now - path.stat().st_mtime >= self.cfg.orphan_after_seconds
        except FileNotFoundError:  # taken away meanwhile
            return False


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _read_meta(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".json":
            data = json.loads(text)
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        return {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in text.splitlines()) if k.strip()}
    except (OSError, ValueError):
        log.warning("fax: unreadable metadata %s; taking the fax without it", path)
        return {}


def install(h: Hotline, channel: FaxChannel) -> None:
    def add(app: web.Application) -> None:
        app.router.add_post(PATH, channel_handler(channel))
    h.routes.append(add)
    h.background["fax-spool"] = channel.watch_spool

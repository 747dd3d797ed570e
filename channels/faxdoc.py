"""Reading a received fax (PDF from a gateway, TIFF from Asterisk's ReceiveFAX): how many
pages, and page 1 as a PNG preview for the agent. Synchronous and CPU-bound: callers run
it in a thread. Anything we cannot read raises `Unreadable` with the reason."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageSequence

PREVIEW_WIDTH = 1200


class Unreadable(Exception):
    """The file is not a fax we can read; the reason is kept with it in quarantine."""


@dataclass(frozen=True)
class FaxDocument:
    content_type: str  # application/pdf | image/tiff
    pages: int
    preview_png: bytes


def kind_of(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return None


def _png(img: Image.Image) -> bytes:
    if img.mode not in ("L", "RGB"):
        img = img.convert("L")  # fax pages are 1-bit; PNG viewers prefer grey
    if img.width > PREVIEW_WIDTH:
        img = img.resize((PREVIEW_WIDTH, max(1, img.height * PREVIEW_WIDTH // img.width)))
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def _tiff(data: bytes, max_pages: int) -> FaxDocument:
    try:
        with Image.open(io.BytesIO(data)) as img:
            pages = getattr(img, "n_frames", 1)
            if pages > max_pages:
                raise Unreadable(f"{pages} 页，超过上限 {max_pages} 页")
            preview = None
            for i, frame in enumerate(ImageSequence.Iterator(img)):
                frame.load()  # decode every page: a truncated one fails here, not later
                if i == 0:
                    preview = _png(frame.copy())
    except Unreadable:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise Unreadable(f"TIFF 无法解码：{exc}") from None
    assert preview is not None
    return FaxDocument("image/tiff", pages, preview)


def _pdf(data: bytes, max_pages: int) -> FaxDocument:
    import pypdfium2 as pdfium
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = len(PdfReader(io.BytesIO(data), strict=False).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise Unreadable(f"PDF 无法解析：{exc}") from None
    if pages == 0:
        raise Unreadable("PDF 没有页面")
    if pages > max_pages:
        raise Unreadable(f"{pages} 页，超过上限 {max_pages} 页")
    try:
        doc = pdfium.PdfDocument(data)
        try:
            bitmap = doc[0].render(scale=150 / 72)
            preview = _png(bitmap.to_pil())
        finally:
            doc.close()
    except pdfium.PdfiumError as exc:
        raise Unreadable(f"PDF 第 1 页无法渲染：{exc}") from None
    return FaxDocument("application/pdf", pages, preview)


def read_fax(data: bytes, max_pages: int) -> FaxDocument:
    kind = kind_of(data)
    if kind == "application/pdf":
        return _pdf(data, max_pages)
    if kind == "image/tiff":
        return _tiff(data, max_pages)
    raise Unreadable("不是 PDF 或 TIFF 文件")

"""Files citizens send (photos, MMS media, fax pages) kept under the data dir.

Each file is written once under ``attachments/YYYY/MM/DD/`` with a random name (never
the sender's filename, which is untrusted) and handed to intake as an `AttachmentIn`
whose location is relative to the data dir.

`store` is the one way a channel keeps a file, so it is where an image loses what would
identify the person who took it (EXIF with GPS, camera owner and Artist, XMP, IPTC, PNG
text chunks, comments): the attachment everyone downstream sees is the clean copy. The
original goes to ``originals/`` under the same relative name, which no route serves; only
the hotline's staff (tools on the server, later the desk) may open it.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from hotline.contact import AttachmentIn

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

# Pillow's format name → the MIME type we store and serve.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif",
               "TIFF": "image/tiff"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif",
              "image/tiff": ".tif", "application/pdf": ".pdf", "audio/amr": ".amr"}
Image.MAX_IMAGE_PIXELS = 80_000_000  # a decompression bomb is refused, not rendered


def sniff_image(data: bytes) -> str | None:
    """The real type of an image from its bytes (the declared type is untrusted), or None."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return IMAGE_TYPES.get(fmt or "")


# What survives cleaning: how the picture looks, nothing about who took it or where.
_KEEP_INFO = ("icc_profile", "transparency", "dpi", "duration", "loop", "background")
ORIGINALS = "originals"
_TIFF_COMPRESSIONS = {"group4", "group3", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits", "raw"}


def clean_image(data: bytes) -> tuple[bytes, str] | None:
    """The image re-encoded without metadata, and its type; None if it is not an image we read.

    Pixels are rotated as the EXIF orientation said, since the tag itself goes. Every frame
    of an animated GIF/WebP or a multi-page TIFF (a fax) is kept."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            if fmt not in IMAGE_TYPES:
                return None
            frames = []
            for frame in ImageSequence.Iterator(img):
                upright = ImageOps.exif_transpose(frame) if fmt in ("JPEG", "WEBP", "TIFF") else frame.copy()
                assert upright is not None  # not in place: always a new image
                upright.info = {k: v for k, v in frame.info.items() if k in _KEEP_INFO}
                frames.append(upright)
            compression = img.info.get("compression")
            out = io.BytesIO()
            first, rest = frames[0], frames[1:]
            params: dict[str, object] = {k: v for k, v in first.info.items() if k in _KEEP_INFO}
            if rest:
                params.update(save_all=True, append_images=rest)
            if fmt == "JPEG":
                if first.mode not in ("RGB", "L", "CMYK"):
                    first = first.convert("RGB")
                params.update(quality=92, exif=b"")
            elif fmt == "TIFF" and compression in _TIFF_COMPRESSIONS:
                params["compression"] = compression if first.mode == "1" or not compression.startswith("group") \
                    else "tiff_lzw"
            elif fmt in ("PNG", "WEBP"):
                params["exif"] = b""
            first.save(out, format=fmt, **params)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return out.getvalue(), IMAGE_TYPES[fmt]


def safe_name(filename: str | None, fallback: str) -> str:
    """A display name only: path parts and control characters removed."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()[:200]
    return name or fallback


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # a reader never sees half a file


def _clean_and_write(data_dir: Path, rel: Path, data: bytes, content_type: str) -> tuple[bytes, str]:
    """Write what downstream may see under `rel`; an image's original under originals/."""
    if content_type.startswith("image/"):
        cleaned = clean_image(data)
        _write(data_dir / ORIGINALS / rel.relative_to("attachments"), data)
        if cleaned is None:  # declared an image but unreadable: nothing of it leaves the hotline
            return b"", "application/octet-stream"
        data, content_type = cleaned
    _write(data_dir / rel, data)
    return data, content_type


def original_of(location: str) -> str:
    """Where the untouched original of a stored image is (relative to the data dir)."""
    return Path(ORIGINALS, Path(location).relative_to("attachments")).as_posix()


async def store(data_dir: Path, data: bytes, *, kind: str, content_type: str, filename: str | None,
                now: datetime) -> AttachmentIn:
    """Keep one file a citizen sent; an image is kept clean of metadata (see the module doc)."""
    name = uuid.uuid4().hex
    rel = Path("attachments") / f"{now:%Y/%m/%d}" / f"{name}{EXTENSIONS.get(content_type, '.bin')}"
    kept, ctype = await asyncio.to_thread(_clean_and_write, data_dir, rel, data, content_type)
    if not kept:
        rel = Path(original_of(rel.as_posix()))
    return AttachmentIn(kind=kind, filename=safe_name(filename, rel.name), content_type=ctype,
                        size=len(kept or data), location=rel.as_posix(), sha256=hashlib.sha256(kept or data).hexdigest())


def remote(url: str, *, kind: str, content_type: str, filename: str) -> AttachmentIn:
    """A file that stays at the vendor (Twilio media URL, WeChat PicUrl), kept by reference."""
    return AttachmentIn(kind=kind, filename=filename, content_type=content_type or "application/octet-stream",
                        size=0, location=url)


def quarantine(folder: Path, data: bytes, *, filename: str | None, reason: str, meta: Mapping[str, object],
               now: datetime) -> Path:
    """Keep a file we could not read, with why, for a person to look at (never dropped)."""
    base = folder / f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    _write(base.with_suffix(".bin"), data)
    info = {"reason": reason, "filename": filename, "received_at": now.isoformat(), **meta}
    _write(base.with_suffix(".json"), json.dumps(info, ensure_ascii=False, indent=2).encode())
    return base.with_suffix(".bin")


def prune(folder: Path, *, now: datetime, max_age_days: int, max_bytes: int) -> int:
    """Remove quarantined files older than `max_age_days`; return the bytes still free
    under `max_bytes` (the caller keeps a new file only if it fits)."""
    if not folder.is_dir():
        return max_bytes
    cutoff = now.timestamp() - max_age_days * 86400
    used = 0
    for path in folder.iterdir():
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if st.st_mtime < cutoff:
            path.unlink(missing_ok=True)
        else:
            used += st.st_size
    return max(0, max_bytes - used)

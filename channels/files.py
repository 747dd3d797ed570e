"""Files citizens send (photos, MMS media, fax pages) kept under the data dir.

Each file is written once under ``attachments/YYYY/MM/DD/`` with a random name (never
the sender's filename, which is untrusted) and handed to intake as an `AttachmentIn`
whose location is relative to the data dir.
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

from PIL import Image, UnidentifiedImageError

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


async def store(data_dir: Path, data: bytes, *, kind: str, content_type: str, filename: str | None,
                now: datetime) -> AttachmentIn:
    digest = hashlib.sha256(data).hexdigest()
    rel = Path("attachments") / f"{now:%Y/%m/%d}" / f"{uuid.uuid4().hex}{EXTENSIONS.get(content_type, '.bin')}"
    await asyncio.to_thread(_write, data_dir / rel, data)
    return AttachmentIn(kind=kind, filename=safe_name(filename, rel.name), content_type=content_type,
                        size=len(data), location=rel.as_posix(), sha256=digest)


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

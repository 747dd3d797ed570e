"""Call recordings (录音): copied or fetched from the Asterisk host into the hotline's storage.

MixMonitor writes `MIXMONITOR_FILENAME` on the Asterisk host (`telephony.recordings_dir`,
the dialplan's `RECORDINGS`) and closes it when the call ends. When the call's record is
written the desk keeps a copy under `<data_dir>/recordings/YYYY/MM/DD/`, with its size and
SHA-256, so agents and supervisors can play it from the order (range requests) long after
the PBX has rotated its spool:

- `mode: copy` reads it from `share_dir` (the Asterisk's recordings folder as mounted on the
  hotline's host; empty: the same path, Asterisk and hotline on one host);
- `mode: fetch` downloads `fetch_url` (`{name}` = the file name, `{linkedid}`) from a web
  server on the Asterisk host;
- `mode: off` keeps nothing.

A missing or empty file is no attachment (a call can end before any audio), logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote

import aiohttp

from hotline.contact import AttachmentIn

if TYPE_CHECKING:
    from datetime import datetime

    from hotline.telephony.config import RecordingSource

log = logging.getLogger(__name__)
WAV_HEADER = 44  # a WAV with no sample is only its header


class Recordings:
    def __init__(self, cfg: RecordingSource, recordings_dir: str, data_dir: Path) -> None:
        self.cfg, self.recordings_dir, self.data_dir = cfg, PurePosixPath(recordings_dir), data_dir

    def source(self, asterisk_path: str) -> Path:
        """Where the Asterisk's file is on this host."""
        path = PurePosixPath(asterisk_path)
        if self.cfg.share_dir and path.is_relative_to(self.recordings_dir):
            return Path(self.cfg.share_dir) / path.relative_to(self.recordings_dir)
        return Path(path)

    async def keep(self, asterisk_path: str, linkedid: str, now: datetime) -> AttachmentIn | None:
        if self.cfg.mode == "off" or not asterisk_path:
            return None
        name = PurePosixPath(asterisk_path).name
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in f"{linkedid}-{name}")
        rel = Path("recordings") / f"{now:%Y/%m/%d}" / safe
        dest = self.data_dir / rel
        try:
            if self.cfg.mode == "fetch":
                size, digest = await self._fetch(name, linkedid, dest)
            else:
                size, digest = await asyncio.to_thread(_copy, self.source(asterisk_path), dest, self.cfg.max_bytes)
        except (OSError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("recording of call %s (%s) not kept: %s", linkedid, asterisk_path, exc)
            dest.unlink(missing_ok=True)
            return None
        if size <= WAV_HEADER:
            log.warning("recording of call %s (%s) is empty (%d bytes): not attached", linkedid, asterisk_path, size)
            dest.unlink(missing_ok=True)
            return None
        return AttachmentIn("recording", name, "audio/wav", size, rel.as_posix(), digest)

    async def _fetch(self, name: str, linkedid: str, dest: Path) -> tuple[int, str]:
        if not self.cfg.fetch_url:
            raise ValueError("telephony.recordings.fetch_url is not set")
        url = self.cfg.fetch_url.format(name=quote(name), linkedid=quote(linkedid))
        digest, size = hashlib.sha256(), 0
        dest.parent.mkdir(parents=True, exist_ok=True)
        async with asyncio.timeout(self.cfg.fetch_timeout_seconds), aiohttp.ClientSession() as http, \
                http.get(url) as resp:
            resp.raise_for_status()
            with dest.open("wb") as f:
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > self.cfg.max_bytes:
                        raise ValueError(f"larger than {self.cfg.max_bytes} bytes")
                    digest.update(chunk)
                    f.write(chunk)
        return size, digest.hexdigest()


def _copy(src: Path, dest: Path, limit: int) -> tuple[int, str]:
    size = src.stat().st_size  # FileNotFoundError: MixMonitor wrote nothing
    if size > limit:
        raise ValueError(f"{size} bytes, larger than {limit}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with src.open("rb") as f, dest.open("wb") as out:
        while chunk := f.read(256 * 1024):
            digest.update(chunk)
            out.write(chunk)
    shutil.copystat(src, dest)
    return dest.stat().st_size, digest.hexdigest()

"""Recordings from another host: a shared folder (share_dir) or fetched over HTTP; empty or
missing files are never attached."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestServer

from hotline.telephony.config import RecordingSource
from hotline.telephony.recordings import Recordings

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
WAV = b"RIFF" + b"\x00" * 40 + b"\x01\x02" * 4000


async def test_fetched_from_the_asterisk_host(tmp_path):
    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "hotline-1.1.wav":
            return web.Response(body=WAV)
        if name == "hotline-3.1.wav":
            return web.Response(body=WAV[:44])
        raise web.HTTPNotFound

    app = web.Application()
    app.router.add_get("/monitor/{name}", serve)
    async with TestServer(app, host="127.0.0.1") as server:
        cfg = RecordingSource(mode="fetch", fetch_url=f"http://127.0.0.1:{server.port}/monitor/{{name}}")
        rec = Recordings(cfg, "/var/spool/asterisk/monitor", tmp_path)
        kept = await rec.keep("/var/spool/asterisk/monitor/hotline-1.1.wav", "1.0", NOW)
        assert kept is not None and kept.size == len(WAV) and kept.location.startswith("recordings/2026/12/01/")
        assert (tmp_path / kept.location).read_bytes() == WAV
        assert await rec.keep("/var/spool/asterisk/monitor/hotline-2.1.wav", "2.0", NOW) is None  # 404
        assert await rec.keep("/var/spool/asterisk/monitor/hotline-3.1.wav", "3.0", NOW) is None  # header only
    assert sorted(p.name for p in (tmp_path / "recordings/2026/12/01").iterdir()) == ["1.0-hotline-1.1.wav"]


async def test_copied_from_a_shared_folder(tmp_path):
    share = tmp_path / "mnt" / "pbx-monitor"
    (share / "2026").mkdir(parents=True)
    (share / "2026" / "out-5.1.wav").write_bytes(WAV)
    rec = Recordings(RecordingSource(share_dir=str(share)), "/var/spool/asterisk/monitor", tmp_path / "data")
    assert rec.source("/var/spool/asterisk/monitor/2026/out-5.1.wav") == share / "2026" / "out-5.1.wav"
    kept = await rec.keep("/var/spool/asterisk/monitor/2026/out-5.1.wav", "5.0", NOW)
    assert kept is not None and kept.size == len(WAV) and kept.sha256
    assert await rec.keep("/var/spool/asterisk/monitor/missing.wav", "6.0", NOW) is None
    off = Recordings(RecordingSource(mode="off"), "/var/spool/asterisk/monitor", tmp_path / "data")
    assert await off.keep("/var/spool/asterisk/monitor/2026/out-5.1.wav", "5.0", NOW) is None

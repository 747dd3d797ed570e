"""The OpenAPI document tells the truth (issue 9, item 13): schemathesis, with every check,
against the real server on SQLite and PostgreSQL, finds no 5xx and no conformance failure.

The examples are bounded (`MAX_EXAMPLES` per operation, a fixed seed) so the run stays a
few seconds per database; the server runs in a thread of its own, as it would in `serve`,
and schemathesis' CLI drives it over HTTP with an admin's bearer token."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from tests.channels_support import OPEN311_KEY, channel_env
from tests.conftest import FakeClock, make_settings, migrated_hotline

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.timeout(240)

MAX_EXAMPLES = {"sqlite": 2, "pg": 1}  # per operation and phase: bounded, the run stays seconds
ST = Path(sys.executable).with_name("st")


class Served:
    """The hotline's web app on a free port, served by its own event loop in a thread."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""
        self.token = ""

    async def _start(self) -> None:
        from hotline.domain.vocabulary import UserRole
        from hotline.web.app import create_app

        self.cm, self.h = await migrated_hotline(self.settings, FakeClock())
        async with self.h.sessions() as s, s.begin():
            await self.h.auth.add_user(s, username="st-admin", password="password-123", role=UserRole.ADMIN,
                                       now=self.h.clock())
        self.runner = web.AppRunner(create_app(self.h, run_background=False), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.cm.__aexit__(None, None, None)

    def __enter__(self) -> Served:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(60)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def _login(url: str) -> str:
    import urllib.request

    req = urllib.request.Request(url + "/api/v1/auth/login", method="POST",
                                 data=json.dumps({"username": "st-admin", "password": "password-123"}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(json.loads(r.read())["token"])


@pytest.fixture
def served(db_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    settings = make_settings(tmp_path, database=db_kind, schema=schema, env=channel_env(None))
    with Served(settings) as s:
        s.token = _login(s.url)
        yield s


CONFIG = Path(__file__).resolve().parent.parent / "fixtures" / "schemathesis.toml"
# The coverage phase (deterministic: every boundary value, undeclared methods) and the
# stateful links do not depend on the database, so they run once, on SQLite; fuzzing (where
# PostgreSQL's types and constraints answer: NUL, 64-bit ids, dates) runs on both.
PHASES = {"sqlite": "examples,coverage,fuzzing,stateful", "pg": "fuzzing"}


def run_schemathesis(served: Served, db_kind: str, tmp_path: Path) -> tuple[int, list[str]]:
    """Schemathesis' CLI with every check; returns (test cases, one line per failure)."""
    report = tmp_path / "st.json"
    cmd = [str(ST), "--config-file", str(CONFIG), "run", served.url + "/api/v1/openapi.json",
           "--checks", "all", "--phases", PHASES[db_kind], "--max-examples", str(MAX_EXAMPLES[db_kind]),
           "--seed", "12345", "--workers", "1", "--no-shrink", "--no-color", "--generation-database", "none",
           "--request-timeout", "10",
           # Logging out would revoke the token the rest of the run authenticates with.
           "--exclude-path", "/api/v1/auth/logout",
           "-H", f"Authorization: Bearer {served.token}", "-H", f"X-App-Key: {OPEN311_KEY}",
           "--report", "json", "--report-json-path", str(report)]
    # cwd: schemathesis keeps a .schemathesis/ folder where it runs
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=220, check=False, cwd=tmp_path)
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(report.read_text())
    failures = [f"{f['code']} {f['title']}: {f['count']} on {', '.join(f['operations'][:5])}"
                for f in data["failures"]]
    if proc.returncode and not failures:  # errors (schema unloadable ...) rather than failures
        failures = [proc.stdout[-3000:]]
    return data["test_cases"]["generated"], failures


def test_schemathesis_finds_no_5xx_and_no_conformance_failure(served: Served, db_kind: str,
                                                              tmp_path: Path) -> None:
    generated, failures = run_schemathesis(served, db_kind, tmp_path)
    assert generated > 100  # it did test the API
    assert failures == [], "\n".join(failures)

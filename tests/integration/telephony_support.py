"""The hotline's own telephony linked to a PBX simulator, for the simulator tests."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from hotline.telephony.service import Telephony
from tests.asterisk_support import until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SECRET = "sim-secret"


@contextlib.asynccontextmanager
async def telephony_on(hotline: Any, port: int) -> AsyncIterator[Telephony]:
    """The telephony module leading and resynced against the simulator on `port`."""
    tel = hotline.module(Telephony)
    task = asyncio.create_task(tel._serve("127.0.0.1", port, "hotline", SECRET))
    try:
        await until(lambda: tel.leading and tel.consumer.resyncs > 0)
        yield tel
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

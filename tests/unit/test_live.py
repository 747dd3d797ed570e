"""The live bus's message: one JSON text for every page (issue 11's fan-out)."""

from __future__ import annotations

import json
import uuid

from hotline.live import LiveMessage, live_text


def test_a_live_message_serialises_once_and_stays_a_dict():
    m = LiveMessage({"topic": "call", "caller": "13812345678", "at": uuid.UUID(int=1)})
    assert m == {"topic": "call", "caller": "13812345678", "at": uuid.UUID(int=1)}
    assert m.text is m.text  # made once, then the same object for every page
    assert json.loads(m.text) == {"topic": "call", "caller": "13812345678", "at": str(uuid.UUID(int=1))}
    assert live_text({"topic": "x", "n": "一"}) == '{"topic": "x", "n": "一"}'

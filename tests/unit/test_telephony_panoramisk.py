"""`hotline.telephony.events.parse` reads panoramisk's private `Message._store` on its hot
path (one C-level copy of the headers instead of a case-folding lookup per header).
panoramisk is bound to the versions tested (`pyproject.toml`); these replays of the
recorded Asterisk 22 sessions fail the day a panoramisk release changes what that
private dict holds, before a wrong board reaches an agent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from hotline.telephony import events as ev
from tests.ami_traces import SCENARIOS, replay

if TYPE_CHECKING:
    from datetime import datetime

    from panoramisk.message import Message

# Every recorded session that carries events (a refused login has only the refusal).
WITH_EVENTS = [name for name in SCENARIOS if name != "login-failed"]


class _Plain:
    """The same headers behind the public, case-insensitive `get` only: `parse`'s slow path."""

    def __init__(self, message: Message) -> None:
        self._message = message

    def get(self, key: str, default: Any = None) -> Any:
        return self._message.get(key, default)

    def items(self) -> Any:
        return self._message.items()


def _messages(name: str) -> list[Message]:
    got: list[Message] = []

    def on(message: Any, now: datetime) -> None:
        got.append(message)

    replay(name, on)
    return got


@pytest.mark.parametrize("name", WITH_EVENTS)
def test_store_holds_every_header_as_sent(name: str) -> None:
    messages = _messages(name)
    assert messages
    for m in messages:
        store = m._store
        assert isinstance(store, dict)
        # {lowercased name: (name as Asterisk sent it, value)}, one entry per header.
        assert sorted(store) == sorted(k.lower() for k in m)
        for lower, (key, value) in store.items():
            assert key.lower() == lower and m.get(key) == value


@pytest.mark.parametrize("name", WITH_EVENTS)
def test_fast_and_plain_parsing_agree(name: str) -> None:
    parsed = 0
    for m in _messages(name):
        try:
            fast = ev.parse(m)
        except ev.MalformedEvent as exc:
            with pytest.raises(ev.MalformedEvent):
                ev.parse(_Plain(m))
            assert str(exc)
            continue
        assert fast == ev.parse(_Plain(m)), m
        parsed += fast is not None
    assert parsed > 0

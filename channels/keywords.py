"""What a citizen's short message asks for: a new matter, a follow-up, a status query,
a rating, or to stop/start notices. Pure; shared by SMS and WeChat.

>>> classify("查询").kind, classify("查询 20261126000001").number
('query', '20261126000001')
>>> c = classify("评价 20261126000001 5"); (c.kind, c.number, c.level)
('rate', '20261126000001', 5)
>>> classify("5").kind, classify("满意").level
('rate', 4)
>>> c = classify("补充：摊贩今天又来了"); (c.kind, c.text)
('follow_up', '摊贩今天又来了')
>>> classify("STOP").kind, classify("退订").kind, classify("start").kind
('opt_out', 'opt_out', 'opt_in')
>>> classify("小区门口垃圾三天没人清运").kind
'new'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["new", "follow_up", "query", "rate", "opt_out", "opt_in"]

# Twilio's standard opt-out words, and the Chinese carriers' (退订, TD).
OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD"}
OPT_IN = {"START", "UNSTOP", "YES", "订阅"}
_NUMBER = r"(\d{14})"
_QUERY = re.compile(rf"^(?:查询|查|CX|status)\s*[:：]?\s*{_NUMBER}?$", re.IGNORECASE)
_RATE = re.compile(rf"^(?:评价|PJ|rate)\s*[:：]?\s*(?:{_NUMBER}\s*[,，:：]?\s*)?([1-5])$", re.IGNORECASE)
_FOLLOW = re.compile(r"^(?:补充|追加|续)\s*[:：]?\s*(.+)$", re.DOTALL)
# The 5-level scale in words, as citizens answer a rating request.
WORDS = {"非常满意": 5, "满意": 4, "基本满意": 3, "不满意": 2, "非常不满意": 1}


@dataclass(frozen=True)
class Intent:
    kind: Kind
    text: str = ""
    number: str | None = None
    level: int | None = None


def classify(text: str) -> Intent:
    t = " ".join(text.split())
    upper = t.upper()
    if upper in OPT_OUT:
        return Intent("opt_out", t)
    if upper in OPT_IN:
        return Intent("opt_in", t)
    if m := _QUERY.match(t):
        return Intent("query", t, number=m.group(1))
    if m := _RATE.match(t):
        return Intent("rate", t, number=m.group(1), level=int(m.group(2)))
    if t in {"1", "2", "3", "4", "5"}:
        return Intent("rate", t, level=int(t))
    if t in WORDS:
        return Intent("rate", t, level=WORDS[t])
    if m := _FOLLOW.match(text.strip()):
        return Intent("follow_up", m.group(1).strip())
    return Intent("new", text.strip())

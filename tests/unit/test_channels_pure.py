"""The channels' pure parts: phone normalisation, citizen keywords, Open311 status mapping,
fax reading (in-memory files)."""

from __future__ import annotations

import doctest
import io

import pytest
from PIL import Image

from channels import identity, keywords
from channels.faxdoc import Unreadable, read_fax
from channels.keywords import classify
from channels.publicview import open_or_closed


@pytest.mark.parametrize("module", [identity, keywords])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("text,kind", [("查询", "query"), ("CX", "query"), ("评价：3", "rate"), ("非常不满意", "rate"),
                                       ("补充 另外还有噪音", "follow_up"), ("td", "opt_out"), ("订阅", "opt_in"),
                                       ("我要查询社保缴费记录", "new"), ("6", "new")])
def test_keywords(text, kind):
    assert classify(text).kind == kind


def test_phone_forms_meet():
    forms = ["+8613800138000", "13800138000", "138 0013 8000", "008613800138000", "8613800138000"]
    assert {identity.normalise_phone(f) for f in forms} == {"13800138000"}
    assert identity.normalise_phone("abc") is None and identity.normalise_phone("") is None
    assert identity.last4_matches("13800138000", "8000") and not identity.last4_matches(None, "8000")


def test_open311_status_mapping():
    assert [open_or_closed(s) for s in ("registered", "dispatched", "returned", "reopened")] == ["open"] * 4
    assert [open_or_closed(s) for s in ("replied", "resolved_directly", "follow_up", "closed", "merged",
                                        "invalid")] == ["closed"] * 6


def test_fax_reading_limits():
    buf = io.BytesIO()
    pages = [Image.new("1", (200, 300), 1) for _ in range(3)]
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    assert read_fax(buf.getvalue(), 3).pages == 3
    with pytest.raises(Unreadable, match="超过上限"):
        read_fax(buf.getvalue(), 2)
    with pytest.raises(Unreadable):
        read_fax(b"\x89PNG\r\n", 5)

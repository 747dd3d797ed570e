"""The one redaction step: which audience sees which person field of an event."""

from __future__ import annotations

import pytest

from hotline.redaction import HIDDEN, Audience, citizen_block, redact_actor, redact_data

DATA = {"changes": {"contact_name": "李四", "title": "偷排", "caller": {"phone": "13812345678"}},
        "note": "已核实", "items": [{"sender": "oABC", "x": 1}]}


@pytest.mark.parametrize(("confidential", "audience", "keeps"), [
    (True, Audience.STAFF, True),
    (False, Audience.STAFF, True),
    (False, Audience.DEPARTMENT, True),
    (True, Audience.DEPARTMENT, False),
    (False, Audience.PUBLIC, False),
    (True, Audience.PUBLIC, False),
])
def test_person_fields_by_audience(confidential: bool, audience: Audience, keeps: bool) -> None:
    out = redact_data(DATA, confidential=confidential, audience=audience)
    assert out == DATA if keeps else out == {"changes": {"title": "偷排"}, "note": "已核实", "items": [{"x": 1}]}
    assert ("李四" in str(out)) is keeps and ("13812345678" in str(out)) is keeps
    who = redact_actor("citizen", "13812345678", "李四", confidential=confidential, audience=audience)
    assert who == (("13812345678", "李四") if keeps else (None, HIDDEN))
    assert (citizen_block("李四", "138", confidential=confidential, audience=audience) is None) is not keeps


def test_staff_actors_are_never_hidden() -> None:
    assert redact_actor("user", "7", "张坐席", confidential=True, audience=Audience.PUBLIC) == ("7", "张坐席")
    assert redact_data(None, confidential=True, audience=Audience.DEPARTMENT) == {}

"""The call desk's journal: items not done are replayed, calls in progress are handed back to
the tracker, whose first resync ends the ones Asterisk no longer has."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.telephony import events as ev
from hotline.telephony.calls import Call, Direction
from hotline.telephony.journal import DeskJournal
from hotline.telephony.tracker import Snapshot, Tracker

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def call(linkedid: str, **kw) -> dict:
    c = Call(linkedid, NOW, direction=Direction.INBOUND, caller="13800138000", line="12345", **kw)
    return c.snapshot(NOW)


def test_recover_replays_what_was_not_done_and_keeps_live_calls(tmp_path):
    j = DeskJournal(tmp_path / "j" / "desk.jsonl")
    j.open()
    a = j.add("connected", call("1.1", answered_at=NOW, agent_extension="8001"))
    j.done(a)
    j.add("ended", call("2.1", joined_at=NOW, ended_at=NOW))  # ended, not written
    j.add("connected", call("3.1", answered_at=NOW, legacy_line="12331"))  # not written, still talking
    j.close()
    with (tmp_path / "j" / "desk.jsonl").open("a") as f:
        f.write('{"n": 9, "kind": "ended", "call": {"linked')  # torn by the kill
    pending, live = DeskJournal(tmp_path / "j" / "desk.jsonl").recover()
    assert [(k, c["linkedid"]) for k, c in pending] == [("ended", "2.1"), ("connected", "3.1")]
    assert sorted(c["linkedid"] for c in live) == ["1.1", "3.1"]

    tracker = Tracker()
    tracker.restore(live, NOW)
    assert tracker.calls["3.1"].legacy_line == "12331" and tracker.calls["1.1"].agent_extension == "8001"
    item = ev.ChannelItem("Local/12345@from-pstn-1;2", "3.2", "3.1", "13800138000", "", "from-pstn", "12345",
                          "Queue", "bridge-1", 30, "hotline-12345,ct,,,120")
    notices = tracker.resync(Snapshot(since_seq=tracker.seq, channels=[item]), NOW)
    ended = [n.call for n in notices if getattr(n, "kind", "") == "ended"]
    assert [(c["linkedid"], c["outcome"], c["unseen_end"]) for c in ended] == [("1.1", "answered", True)]
    assert set(tracker.calls) == {"3.1"}


def test_compaction_keeps_only_live_calls(tmp_path, monkeypatch):
    from hotline.telephony import journal as module

    monkeypatch.setattr(module, "COMPACT_AFTER", 4)
    j = DeskJournal(tmp_path / "desk.jsonl")
    j.open()
    for i in range(3):
        j.done(j.add("ended", call(f"{i}.1", ended_at=NOW)))
    j.compact([call("7.1", answered_at=NOW)])
    j.close()
    assert (tmp_path / "desk.jsonl").read_text().count("\n") == 1
    assert DeskJournal(tmp_path / "desk.jsonl").recover() == ([], [call("7.1", answered_at=NOW)])

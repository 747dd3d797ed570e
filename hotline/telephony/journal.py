"""The call desk's journal: what the PBX told us is on disk before the desk works on it.

The consumer turns AMI events into desk items (a call queued, connected, ended) in the
socket's callback and the desk writes them to the database later, in order. Between the
two the items used to live only in memory, so a `kill -9` (or an OOM kill, a power cut of
the VM) lost the calls that ended in the last moments. Now each item is appended here
first, one JSON line written with `os.write` on an O_APPEND descriptor (in the kernel's
page cache at once: a killed process loses nothing; an OS crash may lose the last lines),
and a `done` line follows once the desk has committed it. At start the consumer replays
the items without their `done` (the desk is idempotent on the Linkedid), and hands the
tracker the calls that were known but never ended: the first resync then ends the ones
Asterisk no longer has (`unseen_end`) and keeps following the others.

    {"n": 41, "kind": "connected", "call": {"linkedid": "1796125905.1", ...}}
    {"done": 41}
    {"live": {"linkedid": "1796125911.7", ...}}      <- written by a compaction

When the desk is idle and the file has grown, it is rewritten (temp file + rename) with just
the calls still live.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

log = logging.getLogger(__name__)
COMPACT_AFTER = 2000  # lines


class DeskJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._n = 0
        self.lines = 0

    # ------------------------------------------------------------ start
    def recover(self) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
        """(desk items not done, in order; last snapshots of calls known but not ended)."""
        items: dict[int, tuple[str, dict[str, Any]]] = {}
        latest: dict[str, dict[str, Any]] = {}
        ended: set[str] = set()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:  # the torn last line of a kill mid-write
                continue
            if "done" in rec:
                items.pop(rec["done"], None)
            elif "live" in rec:
                latest[rec["live"]["linkedid"]] = rec["live"]
            elif "n" in rec:
                items[rec["n"]] = (rec["kind"], rec["call"])
                latest[rec["call"]["linkedid"]] = rec["call"]
                if rec["kind"] == "ended":
                    ended.add(rec["call"]["linkedid"])
        pending = [items[n] for n in sorted(items)]
        live = [c for linkedid, c in latest.items() if linkedid not in ended]
        if pending or live:
            log.warning("call desk: %d item(s) not written before the last stop and %d call(s) in progress "
                        "recovered from %s", len(pending), len(live), self.path)
        return pending, live

    def open(self, live: Iterable[dict[str, Any]] = ()) -> None:
        """Start a fresh file holding `live` (the calls still followed)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        body = "".join(json.dumps({"live": c}, ensure_ascii=False, default=str) + "\n" for c in live)
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, self.path)
        self.close()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self.lines = body.count("\n")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ------------------------------------------------------------ the hot path
    def add(self, kind: str, call: dict[str, Any]) -> int:
        self._n += 1
        self._write({"n": self._n, "kind": kind, "call": call})
        return self._n

    def done(self, n: int) -> None:
        self._write({"done": n})

    def _write(self, rec: dict[str, Any]) -> None:
        if self._fd is None:
            return
        os.write(self._fd, (json.dumps(rec, ensure_ascii=False, default=str) + "\n").encode())
        self.lines += 1

    def compact(self, live: Iterable[dict[str, Any]]) -> None:
        """Desk idle: everything is written; keep only the calls still in progress."""
        if self.lines >= COMPACT_AFTER:
            self.open(live)

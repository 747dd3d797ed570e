"""Hotspots (热点预警): many people about one thing in one place, now, against its usual level.

Pure: orders in, bursts out. An order's key is its place (the village when known, else the
town: `Gazetteer.place`) × its matter (the subject; when the agent or channel left it
empty, the first subject whose keywords the text holds, synonyms folded: 没水 → 停水; else
the category). A key is a burst when, in the sliding window, it has at least `min_count`
orders and at least `factor` × its usual level (its mean per window over the baseline days
before the window, at least 1).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import datetime

    from hotline.knowledge.duplicates import Gazetteer
    from hotline.settings import Settings


@dataclass(frozen=True)
class Key:
    place: str  # a village's or town's code
    matter: str  # a subject's code, or "category:<code>"

    def text(self) -> str:
        return f"{self.place}×{self.matter}"


@dataclass(frozen=True)
class Seen:
    """What the detector needs of one order."""

    id: int
    number: str
    created_at: datetime
    key: Key | None


@dataclass(frozen=True)
class Burst:
    key: Key
    count: int
    usual: float  # mean orders per window over the baseline
    ids: tuple[int, ...]
    numbers: tuple[str, ...]  # oldest first
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class Thresholds:
    window_minutes: int = 60
    baseline_days: int = 7
    min_count: int = 20
    factor: float = 5.0


class Keyer:
    """An order's hotspot key from its facts."""

    def __init__(self, settings: Settings, gazetteer: Gazetteer, fold: Callable[[str], str]) -> None:
        self.gazetteer = gazetteer
        self.fold = fold
        self.leaves = [(leaf.code, leaf.keywords) for g in settings.subjects for leaf in g.children if leaf.keywords]

    def subject_of(self, text: str) -> str | None:
        """The subject whose keywords the text holds most; on a tie, the one named first
        (a caller says the matter before the circumstances: 停水了，物业说管道爆了)."""
        folded = self.fold(text)
        best: tuple[int, int] | None = None
        found = None
        for code, keywords in self.leaves:
            at = [folded.find(k) for k in keywords if k in folded]
            if at and (best is None or (-len(at), min(at)) < best):
                best, found = (-len(at), min(at)), code
        return found

    def key(self, area: str | None, address: str | None, text: str, subject: str | None,
            category: str | None) -> Key | None:
        place = self.gazetteer.place(area, address, text)
        where = place.village or place.town
        if where is None:
            return None
        matter = subject or self.subject_of(text) or (f"category:{category}" if category else None)
        return Key(where, matter) if matter else None


def bursts(window: Sequence[Seen], baseline: Iterable[Seen], t: Thresholds) -> list[Burst]:
    """The keys of `window` (the orders of the last `window_minutes`) that burst against
    `baseline` (the orders of the `baseline_days` before the window)."""
    by_key: dict[Key, list[Seen]] = defaultdict(list)
    for s in window:
        if s.key is not None:
            by_key[s.key].append(s)
    hot = {k for k, rows in by_key.items() if len(rows) >= t.min_count}
    if not hot:
        return []
    usual_counts = Counter(s.key for s in baseline if s.key in hot)
    windows = t.baseline_days * 24 * 60 / t.window_minutes
    out = []
    for k in hot:
        rows = sorted(by_key[k], key=lambda s: (s.created_at, s.id))
        usual = usual_counts[k] / windows
        if len(rows) >= t.factor * max(usual, 1.0):
            out.append(Burst(k, len(rows), round(usual, 3), tuple(s.id for s in rows), tuple(s.number for s in rows),
                             rows[0].created_at, rows[-1].created_at))
    return sorted(out, key=lambda b: -b.count)

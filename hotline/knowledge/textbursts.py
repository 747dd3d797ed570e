"""Hotspots by text (按诉求内容聚类的热点): many people saying the same thing now, whatever
subject the agents chose and wherever they live. Pure: texts in, bursts out.

A text is its character bigrams (Chinese needs no segmentation for this; synonyms folded
first: 没水 → 停水). The idea is that of event detection in message streams: a bigram is
*bursty* when its share of the window's texts is at least `factor` times its share of the
baseline's (so a busy hour's usual words — 反映, 尽快处理 — are not, however many there are)
and at least `min_term_docs` texts of the window hold it. Bursty bigrams that keep company
(at least half the texts of the rarer one hold the other too) are one cluster of words; a
text belongs to the cluster holding the most of its bursty bigrams, at least two (one shared
bigram is chance). A cluster bursts when it has at least `min_count` texts and at least
`factor` times its usual level: the baseline's texts it would have held, per window.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

_NOISE = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")
MIN_SHARED = 2  # bursty bigrams a text must share with a cluster to be in it
MAX_TERMS = 40  # bursty bigrams per text looked at for company (the burstiest): bounds the pairs


def grams(text: str) -> frozenset[str]:
    t = _NOISE.sub("", text)
    return frozenset(t[i:i + 2] for i in range(len(t) - 1))


@dataclass(frozen=True)
class Said:
    """What the text detector needs of one order."""

    id: int
    number: str
    created_at: datetime
    grams: frozenset[str]
    place: str | None = None  # its village or town, for the alert's label


@dataclass(frozen=True)
class TextThresholds:
    window_minutes: int = 60
    baseline_days: int = 7
    min_count: int = 20
    factor: float = 5.0
    min_term_docs: int = 5


@dataclass(frozen=True)
class Baseline:
    """The baseline's document frequencies: how many of its `docs` texts hold each bigram."""

    docs: int
    df: Counter[str]

    @classmethod
    def of(cls, texts: Iterable[frozenset[str]]) -> Baseline:
        df: Counter[str] = Counter()
        n = 0
        for g in texts:
            df.update(g)
            n += 1
        return cls(n, df)


@dataclass(frozen=True)
class TextBurst:
    terms: tuple[str, ...]  # the cluster's bigrams, most frequent first
    label: str  # a text of the burst that holds the most of them (shortened), for people
    place: str | None  # the place most of its texts name, if any
    count: int
    usual: float  # mean texts per window over the baseline
    ids: tuple[int, ...]
    numbers: tuple[str, ...]  # oldest first
    first_at: datetime
    last_at: datetime


def bursty_terms(window: Sequence[Said], baseline: Baseline, t: TextThresholds) -> dict[str, int]:
    """Bigram → texts of the window holding it, for the bursty ones."""
    df: Counter[str] = Counter()
    for s in window:
        df.update(s.grams)
    n, bn = len(window), max(baseline.docs, 1)
    # A bigram the baseline never saw counts as seen once there: a new word is not infinitely bursty.
    return {g: c for g, c in df.items()
            if c >= t.min_term_docs and c / n >= t.factor * max(baseline.df.get(g, 0), 1) / bn}


class _Union:
    def __init__(self) -> None:
        self.up: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.up.setdefault(x, x)
        while self.up[x] != x:
            self.up[x] = self.up[self.up[x]]
            x = self.up[x]
        return x

    def join(self, a: str, b: str) -> None:
        self.up[self.find(a)] = self.find(b)


def term_clusters(window: Sequence[Said], terms: dict[str, int]) -> list[frozenset[str]]:
    """Bursty bigrams in company: linked when at least half the texts of the rarer one hold both."""
    together: Counter[tuple[str, str]] = Counter()
    for s in window:
        mine = sorted((g for g in s.grams if g in terms), key=lambda g: (-terms[g], g))[:MAX_TERMS]
        together.update(combinations(sorted(mine), 2))
    u = _Union()
    for g in terms:
        u.find(g)
    for (a, b), c in together.items():
        if 2 * c >= min(terms[a], terms[b]):
            u.join(a, b)
    groups: dict[str, set[str]] = defaultdict(set)
    for g in terms:
        groups[u.find(g)].add(g)
    return [frozenset(x) for x in groups.values() if len(x) >= MIN_SHARED]


def _member(g: frozenset[str], clusters: Sequence[frozenset[str]]) -> int | None:
    best, at = MIN_SHARED - 1, None
    for i, c in enumerate(clusters):
        k = len(g & c)
        if k > best:
            best, at = k, i
    return at


def text_bursts(window: Sequence[Said], baseline: Baseline, baseline_texts: Iterable[frozenset[str]],
                t: TextThresholds, text_of: dict[int, str] | None = None) -> list[TextBurst]:
    """The text clusters of `window` that burst against the baseline (`baseline` its
    frequencies, `baseline_texts` its texts again, for the clusters' usual level)."""
    if len(window) < t.min_count:
        return []
    terms = bursty_terms(window, baseline, t)
    clusters = term_clusters(window, terms)
    members: dict[int, list[Said]] = defaultdict(list)
    for s in window:
        at = _member(s.grams, clusters)
        if at is not None:
            members[at].append(s)
    hot = {i for i, rows in members.items() if len(rows) >= t.min_count}
    if not hot:
        return []
    usual_counts: Counter[int] = Counter()
    for g in baseline_texts:
        at = _member(g, clusters)
        if at in hot:
            usual_counts[at] += 1
    windows = t.baseline_days * 24 * 60 / t.window_minutes
    out = []
    for i in hot:
        rows = sorted(members[i], key=lambda s: (s.created_at, s.id))
        usual = usual_counts[i] / windows
        if len(rows) < t.factor * max(usual, 1.0):
            continue
        c = clusters[i]
        best = max(rows, key=lambda s: (len(s.grams & c), -s.id))
        label = (text_of or {}).get(best.id, "") or "".join(sorted(c, key=lambda g: -terms[g])[:3])
        places = Counter(s.place for s in rows if s.place)
        place = places.most_common(1)[0][0] if places else None
        out.append(TextBurst(tuple(sorted(c, key=lambda g: (-terms[g], g))), label[:40], place, len(rows),
                             round(usual, 3), tuple(s.id for s in rows), tuple(s.number for s in rows),
                             rows[0].created_at, rows[-1].created_at))
    return sorted(out, key=lambda b: -b.count)

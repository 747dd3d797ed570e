"""Duplicate candidates (重复诉求，并单): orders that agree on place, matter and time.

Pure: facts in, candidates out. Text similarity alone is never enough: two neighbours
calling about different problems at one address share most of their words (the address).
So the place is compared on its own (town/village from the area and the text, the road),
the matter on its own (the subject, or the category when a subject is missing), and the
text similarity is measured on what is left once the place names are taken out.

    place   the same village, or the same town and the same road
    matter  the same subject with similarity ≥ min_similarity; without a subject on either
            side, the same category and similarity ≥ min_similarity_without_subject
    time    created within window_hours of each other
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from hotline.settings import Settings

# A road: a few characters and 路/街/大道…; not 路灯, 路面, 路边, 街道 (words, not roads).
_ROAD = re.compile(r"([\u4e00-\u9fff]{1,5}?(?:大道|大街|路|街|巷|弄))(?![灯面边道况线费口段])(\d+号)?")
_NOISE = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")
_VILLAGE = re.compile(r"^(?P<town>.+?(?:街道|镇|乡))(?P<village>.+?(?:社区|村|居委会))$")


@dataclass(frozen=True)
class Place:
    town: str | None = None  # a town's code
    village: str | None = None  # a village's code
    road: str | None = None  # 建设路, 青山大道

    def agrees(self, other: Place) -> bool:
        if self.village and other.village:
            return self.village == other.village
        if self.town is None or self.town != other.town:
            return False
        if self.road and other.road:
            return _same_road(self.road, other.road)
        return False  # the same town only: too wide to call it the same place

    def label(self) -> str:
        return "/".join(x for x in (self.town, self.village, self.road) if x)


def _same_road(a: str, b: str) -> bool:
    return a == b or a.endswith(b) or b.endswith(a)


@dataclass(frozen=True)
class Gazetteer:
    """The county's places by name: what the text may name instead of the area field."""

    county: str
    towns: Mapping[str, str]  # name and short forms → town code
    villages: Mapping[str, tuple[str, str]]  # name and short forms → (town code, village code)
    parent: Mapping[str, str]  # village code → town code
    names: tuple[str, ...] = field(default=())  # every name, longest first (taken out of texts)

    @classmethod
    def from_settings(cls, settings: Settings) -> Gazetteer:
        county = settings.hotline.county
        towns: dict[str, str] = {}
        villages: dict[str, tuple[str, str]] = {}
        parent: dict[str, str] = {}
        for d in settings.departments:
            name = d.name.removeprefix(county)
            if d.level == "town":
                towns[name] = d.code
                short = re.sub(r"(街道|镇|乡)$", "", name)
                if len(short) >= 2:
                    towns.setdefault(short, d.code)
            elif d.level == "village" and d.parent:
                parent[d.code] = d.parent
                m = _VILLAGE.match(name)
                village = m["village"] if m else name
                for n in {name, village}:
                    villages[n] = (d.parent, d.code)
        names = tuple(sorted({*towns, *villages, county}, key=len, reverse=True))
        return cls(county, towns, villages, parent, names)

    def place(self, area: str | None, address: str | None, text: str) -> Place:
        town = village = None
        if area:
            if area in self.parent:
                town, village = self.parent[area], area
            else:
                town = area
        words = f"{address or ''} {text}"
        if village is None:
            for n in self.names:
                if n in self.villages and n in words and (town is None or self.villages[n][0] == town):
                    town, village = self.villages[n]
                    break
        if town is None:
            town = next((self.towns[n] for n in self.names if n in self.towns and n in words), None)
        road = None
        for source in (address or "", text):
            m = _ROAD.search(self.strip_places(source))
            if m:
                road = m.group(1)
                break
        return Place(town, village, road)

    def strip_places(self, text: str) -> str:
        for n in self.names:
            text = text.replace(n, " ")
        return text


def bigrams(text: str) -> frozenset[str]:
    t = _NOISE.sub("", text)
    return frozenset(t[i:i + 2] for i in range(len(t) - 1)) if len(t) > 1 else frozenset({t})


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard over character bigrams."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """The share of the shorter text's bigrams the other has: kinder to a short complaint
    (路灯不亮) next to a long one about the same lamp."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass(frozen=True)
class OrderFacts:
    number: str
    created_at: datetime
    category: str | None
    subject: str | None
    place: Place
    grams: frozenset[str]  # the text's bigrams, places taken out
    title: str = ""  # what the agent sees of a candidate


@dataclass(frozen=True)
class Candidate:
    number: str
    score: float
    similarity: float
    place: str
    reasons: tuple[str, ...]
    title: str = ""
    hours_apart: float = 0.0  # the time half of "place, matter and time"


@dataclass(frozen=True)
class Rules:
    window_hours: float = 72
    min_similarity: float = 0.15
    min_similarity_without_subject: float = 0.4


def facts(g: Gazetteer, number: str, created_at: datetime, category: str | None, subject: str | None,
          area: str | None, address: str | None, text: str, title: str = "") -> OrderFacts:
    road_free = _ROAD.sub(" ", g.strip_places(f"{address or ''} {text}"))
    return OrderFacts(number, created_at, category, subject, g.place(area, address, text), bigrams(road_free),
                      title)


def match(a: OrderFacts, b: OrderFacts, rules: Rules) -> Candidate | None:
    """`b` as a duplicate of `a`, or None."""
    if a.number == b.number or abs(a.created_at - b.created_at) > timedelta(hours=rules.window_hours):
        return None
    if not a.place.agrees(b.place):
        return None
    sim = similarity(a.grams, b.grams)
    if a.subject and b.subject:
        if a.subject != b.subject or overlap(a.grams, b.grams) < rules.min_similarity:
            return None
        matter = f"同一事项 {a.subject}"
    else:
        if a.category != b.category or sim < rules.min_similarity_without_subject:
            return None
        matter = f"同类诉求 {a.category}，内容相近"
    where = "同一村（社区）" if a.place.village and a.place.village == b.place.village else "同镇同路"
    score = round(0.5 * sim + 0.3 + (0.2 if a.subject and b.subject else 0.0), 4)
    hours = round(abs(a.created_at - b.created_at).total_seconds() / 3600, 1)
    return Candidate(b.number, score, round(sim, 4), b.place.label(),
                     (f"{where} {b.place.label()}", matter, f"文字相似度 {sim:.2f}",
                      f"相隔 {hours:g} 小时（{rules.window_hours:g} 小时内）"), b.title, hours)


def candidates(a: OrderFacts, others: Iterable[OrderFacts], rules: Rules, limit: int = 10) -> list[Candidate]:
    found = [c for b in others if (c := match(a, b, rules)) is not None]
    return sorted(found, key=lambda c: (-c.score, c.number))[:limit]

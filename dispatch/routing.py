"""Routing (派单规则): which department gets an order, and why. Pure: data in, answer out.

Rules come from config, top to bottom; the first rule whose conditions all hold wins.
Inside one condition any listed value is enough; a rule with no condition matches every
order (a catch-all at the end). The answer carries the reason, worded for the agent who
confirms or overrides it:

>>> from dispatch.config import RoutingRule
>>> router = Router([RoutingRule(department="scjgj", legacy_lines=("12315",)),
...                  RoutingRule(department="cgj", keywords=("占道经营",))],
...                 names={"scjgj": ("市场监管局", "Market regulation"), "cgj": ("城管局", "Urban management")})
>>> m = router.route(Facts(text="菜市场门口占道经营", legacy_line="12345"))
>>> m.department, m.reason
('cgj', '派单规则第2条：关键词「占道经营」 → 城管局')

Subjects match up the taxonomy (a rule naming the group `city` takes every leaf under it)
and areas up the hierarchy (a rule naming a town takes its villages). `service_codes` are
Open311 service codes, i.e. leaf subjects, matched exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from dispatch.config import RoutingRule
    from hotline.settings import Settings

# condition → (Chinese label, English label)
_LABELS = {"legacy_lines": ("原热线", "legacy line"), "categories": ("类型", "category"),
           "subjects": ("事项", "subject"), "service_codes": ("服务代码", "service code"),
           "areas": ("区域", "area"), "keywords": ("关键词", "keyword")}


@dataclass(frozen=True)
class Facts:
    """What routing looks at in an order (or in a contact an agent is still typing)."""

    category: str | None = None
    subject: str | None = None
    area: str | None = None
    text: str = ""  # title, description and address together
    legacy_line: str | None = None


@dataclass(frozen=True)
class Match:
    department: str
    rule: int  # 1-based position in the routing list, as an operator counts
    assisting: tuple[str, ...] = ()
    matched: Mapping[str, str] = field(default_factory=dict)  # condition → the value that matched
    reason: str = ""
    reason_en: str = ""


class Router:
    def __init__(self, rules: Sequence[RoutingRule], *, subject_groups: Mapping[str, str] | None = None,
                 area_parents: Mapping[str, str] | None = None,
                 names: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.rules = tuple(rules)
        self.subject_groups = dict(subject_groups or {})  # leaf → group
        self.area_parents = dict(area_parents or {})  # village → town
        self.names = dict(names or {})  # any code → (zh, en)

    @classmethod
    def from_settings(cls, s: Settings, rules: Sequence[RoutingRule]) -> Router:
        """The rules (dispatch's `routing:` section), worded with the names of the reference data."""
        names: dict[str, tuple[str, str]] = {}
        for c in s.categories:
            names[f"category:{c.code}"] = (c.name, c.name_en or c.name)
        for g in s.subjects:
            names[f"subject:{g.code}"] = (g.name, g.name_en or g.name)
            for leaf in g.children:
                names[f"subject:{leaf.code}"] = (leaf.name, leaf.name_en or leaf.name)
        for line in s.legacy_lines:
            names[f"line:{line.number}"] = (f"{line.number} {line.name}", f"{line.number} {line.name_en or line.name}")
        for d in s.departments:
            names[d.code] = (d.name, d.name_en or d.name)
        return cls(rules, subject_groups={leaf.code: g.code for g, leaf in s.leaf_subjects()},
                   area_parents={d.code: d.parent for d in s.departments if d.level == "village" and d.parent},
                   names=names)

    # ------------------------------------------------------------ matching
    def _condition(self, name: str, wanted: tuple[str, ...], f: Facts) -> str | None:
        """The value that satisfies one condition, or None."""
        if name == "legacy_lines":
            return f.legacy_line if f.legacy_line in wanted else None
        if name == "categories":
            return f.category if f.category in wanted else None
        if name == "subjects":
            for code in (f.subject, self.subject_groups.get(f.subject or "")):
                if code and code in wanted:
                    return code
            return None
        if name == "service_codes":
            return f.subject if f.subject in wanted else None
        if name == "areas":
            for code in (f.area, self.area_parents.get(f.area or "")):
                if code and code in wanted:
                    return code
            return None
        if name == "keywords":
            text = f.text.casefold()
            return next((k for k in wanted if k.casefold() in text), None)
        raise AssertionError(name)

    def _match(self, index: int, rule: RoutingRule, f: Facts) -> Match | None:
        matched: dict[str, str] = {}
        for name in _LABELS:
            wanted: tuple[str, ...] = getattr(rule, name)
            if not wanted:
                continue
            value = self._condition(name, wanted, f)
            if value is None:
                return None
            matched[name] = value
        zh, en = self._explain(index + 1, rule.department, matched)
        return Match(rule.department, index + 1, rule.assisting, matched, zh, en)

    def route(self, f: Facts, *, exclude: Sequence[str] = ()) -> Match | None:
        """The first rule that matches; `exclude` skips departments (e.g. one that returned it)."""
        for i, rule in enumerate(self.rules):
            if rule.department in exclude:
                continue
            m = self._match(i, rule, f)
            if m is not None:
                return m
        return None

    def candidates(self, f: Facts, *, exclude: Sequence[str] = (), limit: int = 5) -> list[Match]:
        """Every matching rule's department, first match first, each department once."""
        out: list[Match] = []
        seen = set(exclude)
        for i, rule in enumerate(self.rules):
            if rule.department in seen:
                continue
            m = self._match(i, rule, f)
            if m is not None:
                out.append(m)
                seen.add(rule.department)
                if len(out) >= limit:
                    break
        return out

    # ------------------------------------------------------------ wording
    def _name(self, key: str, lang: int) -> str:
        pair = self.names.get(key)
        return pair[lang] if pair else key.split(":", 1)[-1]

    def _value(self, condition: str, value: str, lang: int) -> str:
        prefix = {"categories": "category:", "subjects": "subject:", "service_codes": "subject:",
                  "legacy_lines": "line:", "areas": ""}.get(condition)
        return value if prefix is None else self._name(prefix + value, lang)

    def _explain(self, number: int, department: str, matched: Mapping[str, str]) -> tuple[str, str]:
        parts_zh = [f"{_LABELS[c][0]}「{self._value(c, v, 0)}」" for c, v in matched.items()]
        parts_en = [f"{_LABELS[c][1]} '{self._value(c, v, 1)}'" for c, v in matched.items()]
        zh = f"派单规则第{number}条：{'、'.join(parts_zh) or '兜底规则'} → {self._name(department, 0)}"
        en = f"routing rule {number}: {', '.join(parts_en) or 'catch-all'} → {self._name(department, 1)}"
        return zh, en


def facts_of(order: object) -> Facts:
    """Facts from a stored work order (anything with the order's attributes)."""
    text = " ".join(x for x in (getattr(order, "title", ""), getattr(order, "description", ""),
                                getattr(order, "address", None)) if x)
    return Facts(category=getattr(order, "category", None), subject=getattr(order, "subject", None),
                 area=getattr(order, "area", None), text=text, legacy_line=getattr(order, "legacy_line", None))

"""Reference data (目录与字典): departments of the three tiers, categories, urgencies, the
subject taxonomy and the merged legacy lines, as config describes them.

Codes are what the rest of the hotline stores and branches on; names are what people read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from collections.abc import Sequence

Level = Literal["county", "town", "village"]


class ConfigModel(BaseModel):
    """A settings model: an unknown key is an error (a typo must not pass silently); values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Named(ConfigModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    name_en: str = ""


class Category(Named):
    pass


class Urgency(Named):
    pass


class Subject(Named):
    keywords: tuple[str, ...] = ()
    # The category (诉求类型) a report under this subject gets when the sender gives none:
    # what an Open311 service or an app subject means. A leaf without one takes its group's.
    category: str | None = None
    children: tuple[Subject, ...] = ()


class Webhook(ConfigModel):
    url: str | None = None
    secret: str | None = None


class DepartmentContact(ConfigModel):
    name: str
    role: str = ""
    phone: str = ""
    head: bool = False  # 负责人: overdue and escalated orders reach them by SMS (escalation.sms_heads_from_level)


class Department(Named):
    level: Level
    parent: str | None = None
    phone: str | None = None  # extension for call transfers
    duty_phone: str | None = None
    webhook: Webhook = Webhook()
    contacts: tuple[DepartmentContact, ...] = ()


class LegacyLine(ConfigModel):
    number: str = Field(pattern=r"^\d{4,8}$")
    name: str
    name_en: str = ""
    department: str
    category: str | None = None


def _dupes(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({x for x in items if x in seen or seen.add(x)})  # type: ignore[func-returns-value]


def reference_problems(departments: Sequence[Department], categories: Sequence[Category],
                       urgencies: Sequence[Urgency], subjects: Sequence[Subject],
                       legacy_lines: Sequence[LegacyLine]) -> list[str]:
    """The reference data checked against itself; each message names the key and the fix."""
    out: list[str] = []
    depts = {d.code: d for d in departments}
    cats = {c.code for c in categories}
    leaves = [leaf.code for g in subjects for leaf in g.children]
    out.extend(f"departments: code {dup!r} is used twice; department codes must be unique"
               for dup in _dupes([d.code for d in departments]))
    out.extend(f"departments: transfer extension {dup!r} is used twice; give each department its own phone"
               for dup in _dupes([d.phone for d in departments if d.phone]))
    out.extend(f"subjects: code {dup!r} is used twice; subject codes are unique across the tree"
               for dup in _dupes([g.code for g in subjects] + leaves))
    for i, d in enumerate(departments):
        key = f"departments[{i}] ({d.code})"
        if d.level == "village":
            parent = depts.get(d.parent or "")
            if parent is None or parent.level != "town":
                out.append(f"{key}.parent: a village/community needs the code of its town/street as parent, got {d.parent!r}")
        elif d.parent is not None and d.parent not in depts:
            out.append(f"{key}.parent: {d.parent!r} is not a department code")
        if d.webhook.url and not d.webhook.secret:
            out.append(f"{key}.webhook.secret: a webhook URL needs a secret to sign with; set it (e.g. '${{HOTLINE_SECRET_{d.code.upper()}}}')")
    for i, g in enumerate(subjects):
        for j, sub in [(None, g), *enumerate(g.children)]:
            if sub.category and sub.category not in cats:
                key = f"subjects[{i}] ({g.code})" + (f".children[{j}] ({sub.code})" if j is not None else "")
                out.append(f"{key}.category: {sub.category!r} is not a category code")
    for i, line in enumerate(legacy_lines):
        if line.department not in depts:
            out.append(f"legacy_lines[{i}] ({line.number}).department: {line.department!r} is not a department code")
        if line.category and line.category not in cats:
            out.append(f"legacy_lines[{i}] ({line.number}).category: {line.category!r} is not a category code")
    out.extend(f"legacy_lines: number {dup} is listed twice" for dup in _dupes([line.number for line in legacy_lines]))
    if not categories:
        out.append("categories: the list is empty; define at least the categories 咨询/求助/投诉/...")
    if not urgencies:
        out.append("urgencies: the list is empty; define at least one urgency (一般)")
    return out

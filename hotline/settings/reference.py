"""Reference data (目录与字典): departments of the three tiers, categories, urgencies, the
subject taxonomy, the merged legacy lines and the routing rules, as config describes them.

Codes are what the rest of the hotline stores and branches on; names are what people read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    children: tuple[Subject, ...] = ()


class Webhook(ConfigModel):
    url: str | None = None
    secret: str | None = None


class DepartmentContact(ConfigModel):
    name: str
    role: str = ""
    phone: str = ""


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


class RoutingRule(ConfigModel):
    department: str
    categories: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    legacy_lines: tuple[str, ...] = ()
    assisting: tuple[str, ...] = ()  # 协办 departments suggested with the lead

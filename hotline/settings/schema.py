"""The shape of the settings: one pydantic model per YAML section, and `Settings`, which
holds them with the reference data and checks what spans sections.

Sections that modules own (channels:, telephony:, escalation:, ...) are not modelled here:
`Settings.extensions` carries them raw and each module validates its own.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from dispatch.sla import SlaPolicy, SlaRules
from dispatch.workcalendar import WorkCalendar
from hotline.settings.reference import (
    Category,
    ConfigModel,
    Department,
    LegacyLine,
    RoutingRule,
    Subject,
    Urgency,
)


class HotlineSection(ConfigModel):
    name: str = "12345政务服务便民热线"
    name_en: str = "12345 Government Service Hotline"
    county: str = ""
    timezone: str = "Asia/Shanghai"
    number: str = "12345"
    data_dir: str = "./var"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Asia/Shanghai") from None
        return v


class DatabaseSection(ConfigModel):
    url: str | None = None  # None: SQLite file under data_dir
    schema_: str | None = Field(None, alias="schema", pattern=r"^[a-z_][a-z0-9_]*$")  # PostgreSQL search_path
    pool_size: int = Field(20, ge=1, le=200)  # connections per process; requests queue beyond it
    echo: bool = False


class RedisSection(ConfigModel):
    url: str | None = None


class HttpSection(ConfigModel):
    host: str = "0.0.0.0"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    cors_origins: tuple[str, ...] = ()


class AmiSection(ConfigModel):
    host: str | None = None
    port: int = Field(5038, ge=1, le=65535)
    user: str = "hotline"
    secret: str | None = None


class TwilioSection(ConfigModel):
    account_sid: str | None = None
    auth_token: str | None = None
    from_number: str | None = None
    api_base: str | None = None


class WechatSection(ConfigModel):
    token: str | None = None
    appid: str | None = None
    secret: str | None = None
    aes_key: str | None = None
    api_base: str | None = None


class Open311Section(ConfigModel):
    api_keys: tuple[str, ...] = ()
    jurisdiction_id: str = ""


class SecuritySection(ConfigModel):
    secret_key: str | None = None
    session_hours: float = Field(12, gt=0)


class DispatchSection(ConfigModel):
    auto: bool = False


class CalendarSection(ConfigModel):
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()
    working_hours: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)),
                                                    (time(13, 30), time(17, 30)))

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: tuple[tuple[time, time], ...]) -> tuple[tuple[time, time], ...]:
        if not v:
            raise ValueError("at least one working period is needed, e.g. [['08:30', '17:30']]")
        last = time(0, 0)
        for begin, end in v:
            if not last <= begin < end:
                raise ValueError("periods must be [start, end] pairs in increasing order")
            last = end
        return v


class SlaPolicyIn(ConfigModel):
    categories: tuple[str, ...] = ()  # empty: every category
    urgencies: tuple[str, ...] = ()  # empty: every urgency
    sign_within_hours: float = Field(gt=0)
    reply_within_working_days: int | None = Field(None, ge=1, le=60)
    reply_within_hours: float | None = Field(None, gt=0)
    clock: Literal["working", "calendar"] = "working"

    @model_validator(mode="after")
    def _one_reply_limit(self) -> SlaPolicyIn:
        if (self.reply_within_working_days is None) == (self.reply_within_hours is None):
            raise ValueError("give exactly one of reply_within_working_days or reply_within_hours")
        return self


class SlaSection(ConfigModel):
    return_within_working_days: int = Field(2, ge=1, le=10)
    extension_max_working_days: int = Field(10, ge=1, le=30)
    follow_up_after_working_days: int = Field(1, ge=1, le=10)
    policies: tuple[SlaPolicyIn, ...] = ()


class Settings(ConfigModel):
    """Everything the hotline is configured with. Built by `load_settings`."""

    hotline: HotlineSection = HotlineSection()
    database: DatabaseSection = DatabaseSection()
    redis: RedisSection = RedisSection()
    http: HttpSection = HttpSection()
    ami: AmiSection = AmiSection()
    twilio: TwilioSection = TwilioSection()
    wechat: WechatSection = WechatSection()
    open311: Open311Section = Open311Section()
    security: SecuritySection = SecuritySection()
    dispatch: DispatchSection = DispatchSection()
    calendar: CalendarSection = CalendarSection()
    categories: tuple[Category, ...] = ()
    urgencies: tuple[Urgency, ...] = ()
    subjects: tuple[Subject, ...] = ()
    departments: tuple[Department, ...] = ()
    legacy_lines: tuple[LegacyLine, ...] = ()
    routing: tuple[RoutingRule, ...] = ()
    sla: SlaSection = SlaSection()
    # Sections that later modules own (channels, telephony, ...) keep their own models;
    # they read their raw mapping from here and validate it themselves.
    extensions: dict[str, Any] = Field(default_factory=dict)
    sources: tuple[str, ...] = ()  # the files read, for messages (set by load_settings)

    # ------------------------------------------------------------ derived views
    @property
    def data_dir(self) -> Path:
        return Path(self.hotline.data_dir)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hotline.db').as_posix()}"

    @property
    def tz(self) -> ZoneInfo:
        """The hotline's time zone: local days, working hours, what citizens read."""
        return ZoneInfo(self.hotline.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def department(self, code: str) -> Department | None:
        return self._departments_by_code().get(code)

    def _departments_by_code(self) -> dict[str, Department]:
        return {d.code: d for d in self.departments}

    def leaf_subjects(self) -> list[tuple[Subject, Subject]]:
        """(group, leaf) pairs; leaves double as Open311 service codes."""
        return [(g, leaf) for g in self.subjects for leaf in g.children]

    def subject_codes(self) -> set[str]:
        return {g.code for g in self.subjects} | {leaf.code for _, leaf in self.leaf_subjects()}

    def area_codes(self) -> set[str]:
        return {d.code for d in self.departments if d.level in ("town", "village")}

    def legacy_line(self, number: str) -> LegacyLine | None:
        return next((line for line in self.legacy_lines if line.number == number), None)

    def work_calendar(self) -> WorkCalendar:
        return WorkCalendar(tz=ZoneInfo(self.hotline.timezone),
                            extra_holidays=frozenset(self.calendar.extra_holidays),
                            extra_workdays=frozenset(self.calendar.extra_workdays),
                            hours=self.calendar.working_hours)

    def sla_rules(self) -> SlaRules:
        table: dict[tuple[str, str], SlaPolicy] = {}
        for p in self.sla.policies:  # first match wins, as in routing
            for cat in p.categories or tuple(c.code for c in self.categories):
                for urg in p.urgencies or tuple(u.code for u in self.urgencies):
                    table.setdefault((cat, urg), SlaPolicy(p.sign_within_hours,
                                                           p.reply_within_working_days,
                                                           p.reply_within_hours, p.clock))
        return SlaRules(table, self.sla.return_within_working_days,
                        self.sla.extension_max_working_days, self.sla.follow_up_after_working_days)

    # ------------------------------------------------------------ cross checks
    @model_validator(mode="after")
    def _cross_check(self) -> Settings:
        problems = cross_check(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _dupes(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({x for x in items if x in seen or seen.add(x)})  # type: ignore[func-returns-value]


def cross_check(s: Settings) -> list[str]:
    """Checks that span sections; each message names the key and the fix."""
    out: list[str] = []
    depts = {d.code: d for d in s.departments}
    cats = {c.code for c in s.categories}
    urgs = {u.code for u in s.urgencies}
    subjects = s.subject_codes()
    leaves = {leaf.code for _, leaf in s.leaf_subjects()}
    areas = s.area_codes()
    for dup in _dupes([d.code for d in s.departments]):
        out.append(f"departments: code {dup!r} is used twice; department codes must be unique")
    for dup in _dupes([d.phone for d in s.departments if d.phone]):
        out.append(f"departments: transfer extension {dup!r} is used twice; give each department its own phone")
    for dup in _dupes([g.code for g in s.subjects] + [leaf.code for _, leaf in s.leaf_subjects()]):
        out.append(f"subjects: code {dup!r} is used twice; subject codes are unique across the tree")
    for i, d in enumerate(s.departments):
        key = f"departments[{i}] ({d.code})"
        if d.level == "village":
            parent = depts.get(d.parent or "")
            if parent is None or parent.level != "town":
                out.append(f"{key}.parent: a village/community needs the code of its town/street as parent, got {d.parent!r}")
        elif d.parent is not None and d.parent not in depts:
            out.append(f"{key}.parent: {d.parent!r} is not a department code")
        if d.webhook.url and not d.webhook.secret:
            out.append(f"{key}.webhook.secret: a webhook URL needs a secret to sign with; set it (e.g. '${{HOTLINE_SECRET_{d.code.upper()}}}')")
    for i, line in enumerate(s.legacy_lines):
        if line.department not in depts:
            out.append(f"legacy_lines[{i}] ({line.number}).department: {line.department!r} is not a department code")
        if line.category and line.category not in cats:
            out.append(f"legacy_lines[{i}] ({line.number}).category: {line.category!r} is not a category code")
    for dup in _dupes([line.number for line in s.legacy_lines]):
        out.append(f"legacy_lines: number {dup} is listed twice")
    lines = {line.number for line in s.legacy_lines}
    for i, r in enumerate(s.routing):
        key = f"routing[{i}]"
        if r.department not in depts:
            out.append(f"{key}.department: {r.department!r} is not a department code")
        for a in r.assisting:
            if a not in depts or a == r.department:
                out.append(f"{key}.assisting: {a!r} must be a department code other than the lead's")
        for field_name, values, known in (("categories", r.categories, cats),
                                          ("subjects", r.subjects, subjects),
                                          ("service_codes", r.service_codes, leaves),
                                          ("areas", r.areas, areas),
                                          ("legacy_lines", r.legacy_lines, lines)):
            for v in values:
                if v not in known:
                    out.append(f"{key}.{field_name}: {v!r} is unknown; use one defined under "
                               f"{'departments (town/village)' if field_name == 'areas' else field_name if field_name != 'service_codes' else 'subjects (leaf codes)'}")
    for i, p in enumerate(s.sla.policies):
        for c in p.categories:
            if c not in cats:
                out.append(f"sla.policies[{i}].categories: {c!r} is not a category code")
        for u in p.urgencies:
            if u not in urgs:
                out.append(f"sla.policies[{i}].urgencies: {u!r} is not an urgency code")
    if not out:
        table = s.sla_rules().policies
        missing = [f"{c}/{u}" for c in sorted(cats) for u in sorted(urgs) if (c, u) not in table]
        if missing:
            out.append(f"sla.policies: no policy covers {', '.join(missing)}; add a policy for them "
                       "(a policy without categories/urgencies covers all)")
    if not s.categories:
        out.append("categories: the list is empty; define at least the categories 咨询/求助/投诉/...")
    if not s.urgencies:
        out.append("urgencies: the list is empty; define at least one urgency (一般)")
    return out

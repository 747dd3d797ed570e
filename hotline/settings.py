"""Settings: `config/hotline.yaml` defaults, a `HOTLINE_CONFIG` overlay, `HOTLINE_*` variables.

Loaded and validated once at start-up. Every problem is reported with the file (or the
variable) it came from, the key, and what to do about it; `hotline check-config` prints
them. Mappings merge; lists (departments, routing, ...) in an overlay replace the default
list whole. A string value `${NAME}` is replaced by the environment variable NAME, so a
department's webhook secret can live outside the file.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dispatch.sla import SlaPolicy, SlaRules
from dispatch.workcalendar import WorkCalendar
from hotline.errors import ConfigError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PACKAGE_ROOT / "config" / "hotline.yaml"

Level = Literal["county", "town", "village"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HotlineSection(_Model):
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


class DatabaseSection(_Model):
    url: str | None = None  # None: SQLite file under data_dir
    schema_: str | None = Field(None, alias="schema", pattern=r"^[a-z_][a-z0-9_]*$")  # PostgreSQL search_path
    pool_size: int = Field(20, ge=1, le=200)  # connections per process; requests queue beyond it
    echo: bool = False


class RedisSection(_Model):
    url: str | None = None


class HttpSection(_Model):
    host: str = "0.0.0.0"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    cors_origins: tuple[str, ...] = ()


class AmiSection(_Model):
    host: str | None = None
    port: int = Field(5038, ge=1, le=65535)
    user: str = "hotline"
    secret: str | None = None


class TwilioSection(_Model):
    account_sid: str | None = None
    auth_token: str | None = None
    from_number: str | None = None
    api_base: str | None = None


class WechatSection(_Model):
    token: str | None = None
    appid: str | None = None
    secret: str | None = None
    aes_key: str | None = None
    api_base: str | None = None


class Open311Section(_Model):
    api_keys: tuple[str, ...] = ()
    jurisdiction_id: str = ""


class SecuritySection(_Model):
    secret_key: str | None = None
    session_hours: float = Field(12, gt=0)


class DispatchSection(_Model):
    auto: bool = False


class CalendarSection(_Model):
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


class Named(_Model):
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


class Webhook(_Model):
    url: str | None = None
    secret: str | None = None


class DepartmentContact(_Model):
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


class LegacyLine(_Model):
    number: str = Field(pattern=r"^\d{4,8}$")
    name: str
    name_en: str = ""
    department: str
    category: str | None = None


class RoutingRule(_Model):
    department: str
    categories: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    legacy_lines: tuple[str, ...] = ()
    assisting: tuple[str, ...] = ()  # 协办 departments suggested with the lead


class SlaPolicyIn(_Model):
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


class SlaSection(_Model):
    return_within_working_days: int = Field(2, ge=1, le=10)
    extension_max_working_days: int = Field(10, ge=1, le=30)
    follow_up_after_working_days: int = Field(1, ge=1, le=10)
    policies: tuple[SlaPolicyIn, ...] = ()


class Settings(_Model):
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


# ---------------------------------------------------------------- loading

# CONTRACT's variables and the key each one sets.
ENV_KEYS: dict[str, tuple[str, ...]] = {
    "HOTLINE_DATABASE_URL": ("database", "url"),
    "HOTLINE_DATABASE_SCHEMA": ("database", "schema"),
    "HOTLINE_REDIS_URL": ("redis", "url"),
    "HOTLINE_HTTP_HOST": ("http", "host"),
    "HOTLINE_HTTP_PORT": ("http", "port"),
    "HOTLINE_PUBLIC_URL": ("http", "public_url"),
    "HOTLINE_AMI_HOST": ("ami", "host"),
    "HOTLINE_AMI_PORT": ("ami", "port"),
    "HOTLINE_AMI_USER": ("ami", "user"),
    "HOTLINE_AMI_SECRET": ("ami", "secret"),
    "HOTLINE_TWILIO_ACCOUNT_SID": ("twilio", "account_sid"),
    "HOTLINE_TWILIO_AUTH_TOKEN": ("twilio", "auth_token"),
    "HOTLINE_TWILIO_FROM": ("twilio", "from_number"),
    "HOTLINE_TWILIO_API_BASE": ("twilio", "api_base"),
    "HOTLINE_WECHAT_TOKEN": ("wechat", "token"),
    "HOTLINE_WECHAT_APPID": ("wechat", "appid"),
    "HOTLINE_WECHAT_SECRET": ("wechat", "secret"),
    "HOTLINE_WECHAT_AES_KEY": ("wechat", "aes_key"),
    "HOTLINE_WECHAT_API_BASE": ("wechat", "api_base"),
    "HOTLINE_OPEN311_API_KEYS": ("open311", "api_keys"),
    "HOTLINE_SECRET_KEY": ("security", "secret_key"),
    "HOTLINE_DISPATCH_AUTO": ("dispatch", "auto"),
    "HOTLINE_DATA_DIR": ("hotline", "data_dir"),
}
_LIST_VARS = {"HOTLINE_OPEN311_API_KEYS"}
_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


@dataclass(frozen=True)
class Source:
    """Where a value came from, for error messages."""

    files: tuple[Path, ...]
    env: Mapping[str, str]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found; check HOTLINE_CONFIG"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of sections (hotline:, database:, ...)"])
    return data


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) replaces."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def _expand(value: Any, env: Mapping[str, str], path: str, problems: list[str]) -> Any:
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in env:
                problems.append(f"{path}: refers to ${{{name}}} but that environment variable is not set")
                return ""
            return env[name]
        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{path}.{k}" if path else str(k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    return value


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    for var, (section, key) in ENV_KEYS.items():
        if var not in env:
            continue
        raw = env[var]
        value: Any = [x.strip() for x in raw.split(",") if x.strip()] if var in _LIST_VARS else raw
        if raw == "" and var not in _LIST_VARS:
            value = None
        data = merge(data, {section: {key: value}})
    return data


def _describe(loc: tuple[Any, ...], src: Source, data: Mapping[str, Any]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    for var, (section, k) in ENV_KEYS.items():
        if len(loc) >= 2 and loc[0] == section and loc[1] == k and var in src.env:
            return f"environment variable {var}"
    files = " + ".join(str(f) for f in src.files)
    if loc and isinstance(loc[0], str) and len(loc) > 1 and isinstance(loc[1], int):
        try:  # name the item by its code, so the reader finds it in a long list
            code = data[loc[0]][loc[1]].get("code") or data[loc[0]][loc[1]].get("number")
            if code:
                key = key.replace(f"[{loc[1]}]", f"[{loc[1]}] ({code})", 1)
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
    return f"{files}: {key}"


def load_settings(env: Mapping[str, str] | None = None, *, defaults: Path | None = None) -> Settings:
    """Read, merge and validate; raise `ConfigError` listing every problem."""
    env = dict(os.environ if env is None else env)
    files = [defaults or Path(env.get("HOTLINE_CONFIG_DEFAULTS", DEFAULT_CONFIG))]
    if env.get("HOTLINE_CONFIG"):
        files.append(Path(env["HOTLINE_CONFIG"]))
    data: dict[str, Any] = {}
    for f in files:
        data = merge(data, _read_yaml(f))
    problems: list[str] = []
    data = _expand(data, env, "", problems)
    if problems:
        raise ConfigError([f"{' + '.join(map(str, files))}: {p}" for p in problems])
    data = _apply_env(data, env)
    src = Source(tuple(files), env)
    known = set(Settings.model_fields)
    extensions = {k: data.pop(k) for k in list(data) if k not in known and k in EXTENSION_SECTIONS}
    data.setdefault("extensions", {}).update(extensions)
    data["sources"] = tuple(str(f) for f in files)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, src, data)) from None


# Top-level sections owned by other modules (validated there, carried here as raw data).
EXTENSION_SECTIONS = {"channels", "telephony", "escalation", "delivery", "portal", "fax", "reports"}


def _format_errors(exc: ValidationError, src: Source, data: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key; check the spelling (see config/hotline.yaml for the known keys)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if not loc:  # cross checks: already one line per problem, each naming its key
            files = " + ".join(str(f) for f in src.files)
            out.extend(f"{files}: {line}" for line in msg.splitlines())
            continue
        out.append(f"{_describe(loc, src, data)}: {msg}")
    return out


def section_problems(settings: Settings, section: str, exc: ValidationError, doc: str) -> list[str]:
    """A module's own section (channels:, telephony:, ...) in the same words as the core:
    the files, the key, and the fix."""
    where = " + ".join(settings.sources) or "config"
    out = []
    for err in exc.errors():
        key = ".".join([section, *(str(p) for p in err["loc"])])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key; check the spelling (see {doc} for the known keys)"
        out.append(f"{where}: {key}: {msg}")
    return out


def ensure_secret_key(settings: Settings) -> str:
    """HOTLINE_SECRET_KEY, or one generated once and kept under the data dir."""
    if settings.security.secret_key:
        return settings.security.secret_key
    path = settings.data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key

"""The shape of the settings: one pydantic model per YAML section, and `Settings`, which
holds them with the reference data and checks what spans sections.

Sections that modules own (channels:, telephony:, escalation:, ...) are not modelled here:
`Settings.extensions` carries them raw and each module validates its own.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from hotline.settings.reference import (
    Category,
    ConfigModel,
    Department,
    LegacyLine,
    Subject,
    Urgency,
    reference_problems,
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


# The URL schemes `hotline.storage.engine.normalise_url` turns into a driver we ship.
DATABASE_DRIVERS = ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg2", "postgresql+psycopg",
                    "sqlite", "sqlite+pysqlite", "sqlite+aiosqlite")


class DatabaseSection(ConfigModel):
    url: str | None = None  # None: SQLite file under data_dir
    schema_: str | None = Field(None, alias="schema", pattern=r"^[a-z_][a-z0-9_]*$")  # PostgreSQL search_path
    pool_size: int = Field(20, ge=1, le=200)  # connections per process; requests queue beyond it
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        # Checked here, so that check-config says it and no command gets as far as a
        # driver import (mysql:// asks for MySQLdb) or a parse error from SQLAlchemy.
        if not v:
            return v
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(v)
        except ArgumentError:
            raise ValueError("不是数据库 URL / not a database URL; use postgresql://user:password@host:5432/name "
                             "or sqlite:///path/hotline.db") from None
        if url.drivername not in DATABASE_DRIVERS:
            raise ValueError(f"不支持的数据库 {url.drivername} / unsupported database {url.drivername!r}: "
                             "the hotline runs on PostgreSQL (postgresql://...) or SQLite (sqlite:///...)")
        return v


class RedisSection(ConfigModel):
    url: str | None = None


class HttpSection(ConfigModel):
    host: str = "0.0.0.0"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    cors_origins: tuple[str, ...] = ()
    # Reverse proxies whose X-Forwarded-For / Forwarded headers are believed (addresses or
    # networks). Every per-client limit keys on the address they report; from anyone else
    # those headers are ignored, or any client could name itself.
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/24)") from None
        return v


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
    # Login attempts counted atomically (in Redis when configured, so across web nodes);
    # a successful login does not count against its address.
    login_attempts_per_account: int = Field(10, ge=1)
    login_attempts_per_address: int = Field(30, ge=1)
    login_window_seconds: int = Field(300, ge=10)
    # argon2 runs in this many threads of its own; more than `password_queue` waiting is a
    # 429 at once, so a login flood can never take the threads intake needs.
    password_workers: int = Field(2, ge=1, le=32)
    password_queue: int = Field(16, ge=0, le=1000)


class DispatchSection(ConfigModel):
    auto: bool = False


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
    categories: tuple[Category, ...] = ()
    urgencies: tuple[Urgency, ...] = ()
    subjects: tuple[Subject, ...] = ()
    departments: tuple[Department, ...] = ()
    legacy_lines: tuple[LegacyLine, ...] = ()
    # The sections the modules own (routing, sla, channels, telephony, ...), raw: each
    # module validates its own (`Module.check`).
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

    def default_category(self, subject: str | None) -> str | None:
        """The category a report on this subject gets when its sender named none (Open311,
        the app): the leaf's own, else its group's; None when config gives neither."""
        for g in self.subjects:
            if g.code == subject:
                return g.category
            for leaf in g.children:
                if leaf.code == subject:
                    return leaf.category or g.category
        return None

    def area_codes(self) -> set[str]:
        return {d.code for d in self.departments if d.level in ("town", "village")}

    def legacy_line(self, number: str) -> LegacyLine | None:
        return next((line for line in self.legacy_lines if line.number == number), None)

    # ------------------------------------------------------------ cross checks
    @model_validator(mode="after")
    def _cross_check(self) -> Settings:
        problems = reference_problems(self.departments, self.categories, self.urgencies, self.subjects,
                                      self.legacy_lines)
        if problems:
            raise ValueError("\n".join(problems))
        return self

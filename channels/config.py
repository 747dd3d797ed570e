"""The `channels:` section of the settings, validated here (the core carries it raw).

    channels:
      sms:     {follow_up_window_minutes: 30, max_media: 5}
      wechat:  {...}
      portal:  {max_photos: 3, max_photo_bytes: 5242880, submissions_per_client: 5, ...}
      fax:     {spool_dir: null, max_bytes: 20971520, max_pages: 30, scan_seconds: 5}

Messages name the file, the key and the fix, like the core's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from hotline.errors import ConfigError
from hotline.settings import ConfigModel, Settings, read_section


class SmsConfig(ConfigModel):
    # A text from the same number within this window continues the open order (补充).
    follow_up_window_minutes: int = Field(30, ge=0, le=7 * 24 * 60)
    max_media: int = Field(5, ge=0, le=10)
    max_body_chars: int = Field(1600, ge=160, le=10000)


class WechatTemplate(ConfigModel):
    """The template message (模板消息) a notice falls back to once WeChat's 48-hour
    customer-service window has closed: one from the account's template library whose
    fields carry the order number and the notice."""

    id: str | None = None  # 模板ID; None: no template fallback (SMS, when a phone is known)
    number_field: str = Field("keyword1", pattern=r"^[A-Za-z0-9_]{1,32}$")
    text_field: str = Field("keyword2", pattern=r"^[A-Za-z0-9_]{1,32}$")


class WechatConfig(ConfigModel):
    follow_up_window_minutes: int = Field(30, ge=0, le=7 * 24 * 60)
    max_body_bytes: int = Field(64 * 1024, ge=2048, le=1024 * 1024)
    # While the database is down a message is held (retried) this long before the 503:
    # WeChat retries (3 times) only when it gets no answer within 5 s; an error answer
    # shows the citizen 该公众号暂时无法提供服务 and the message is lost.
    outage_hold_seconds: float = Field(6.0, ge=0, le=30)
    # Replies to a click on one of these menu keys (the account's custom menu).
    menu_replies: dict[str, str] = Field(default_factory=dict)
    template: WechatTemplate = WechatTemplate()
    # With HOTLINE_WECHAT_AES_KEY set, plain (明文) bodies are refused: a signature alone
    # proves nothing about the body. True only while the account is in 明文/兼容 mode.
    plain_mode: bool = False


class PortalConfig(ConfigModel):
    max_photos: int = Field(3, ge=0, le=10)
    max_photo_bytes: int = Field(5 * 1024 * 1024, ge=10 * 1024)
    photo_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp", "image/gif")
    max_text_chars: int = Field(2000, ge=50, le=20000)
    submissions_per_client: int = Field(5, ge=1)  # per window, per client address
    lookups_per_client: int = Field(20, ge=1)
    window_seconds: int = Field(600, ge=10)


class FaxConfig(ConfigModel):
    spool_dir: str | None = None  # None: <data_dir>/fax-spool
    max_bytes: int = Field(20 * 1024 * 1024, ge=10 * 1024)
    max_pages: int = Field(30, ge=1, le=500)
    scan_seconds: float = Field(5, gt=0)
    # A spool file without its metadata sidecar is taken anyway once untouched this long.
    orphan_after_seconds: float = Field(600, gt=0)
    # Keys fax gateways send as X-Fax-Key. Without one every upload is refused (403) unless
    # `open_without_key` says the endpoint sits on a trusted network behind the firewall.
    gateway_keys: tuple[str, ...] = ()
    open_without_key: bool = False
    # The quarantine (unreadable faxes kept for a person): files older than the age are
    # removed, and past the size a new unreadable upload is refused (507) rather than kept.
    quarantine_max_bytes: int = Field(200 * 1024 * 1024, ge=1024 * 1024)
    quarantine_max_age_days: int = Field(30, ge=1, le=3650)


class AppConfig(ConfigModel):
    max_text_chars: int = Field(5000, ge=50, le=20000)
    # The status lookup needs the last 4 digits of the phone: 10,000 guesses per order. Per
    # window: lookups from one client (app key + address), and failed ones per order from anyone.
    lookups_per_client: int = Field(30, ge=1)
    failed_lookups_per_order: int = Field(10, ge=1)
    lookup_window_seconds: int = Field(600, ge=10)


class ChannelsConfig(ConfigModel):
    sms: SmsConfig = SmsConfig()
    wechat: WechatConfig = WechatConfig()
    portal: PortalConfig = PortalConfig()
    fax: FaxConfig = FaxConfig()
    app: AppConfig = AppConfig()

    def spool_dir(self, settings: Settings) -> Path:
        return Path(self.fax.spool_dir) if self.fax.spool_dir else settings.data_dir / "fax-spool"


def load_channels_config(settings: Settings) -> ChannelsConfig:
    raw: Any = settings.extensions.get("channels") or {}
    if not isinstance(raw, dict):
        raise ConfigError(["channels: must be a mapping (sms:, wechat:, portal:, fax:, app:)"])
    return read_section(settings, "channels", ChannelsConfig, "docs/channels.md")

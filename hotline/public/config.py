"""The `public:` section (政务公开), validated once with worded problems like the core's:

    public:
      publish_categories: []      # categories whose closed orders are published by rule, without a supervisor
      feed_items: 50              # cases in the RSS feed and on the first page
      top_subjects: 10            # subjects listed in the statistics
      comments_per_client: 5      # citizens' comments a client may send ...
      comment_window_seconds: 3600  # ... within this window
      comment_max_chars: 500
      directory:                  # 便民服务企业库
        service_types: [{code: plumbing, name: 管道疏通/水电维修}, …]
        circle_minutes: 15        # "within 15 minutes"
        road_factor: 1.4          # road distance ≈ straight-line distance × this
        travel_kmh: 20
        area_locations:           # a town's/village's reference point: the portal's "near my town" search
          qingxi: {lat: 28.68, lon: 115.86}
        assessment: {min_rating: 3.5, min_completion: 0.8, max_complaints: 2, max_response_minutes: 60,
                     min_requests: 1, warn_after: 1, suspend_after: 2}
      media_partners:             # 媒体联动: press partners (线、报、声、屏、网)
        - {code: qsdaily, name: 青山日报, name_en: Qingshan Daily, outlet: newspaper,
           webhook: {url: "https://…/hotline", secret: "${HOTLINE_MEDIA_QSDAILY_SECRET}"}}

A confidential report (举报) is never published, whatever `publish_categories` says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from hotline.errors import ConfigError
from hotline.settings import read_section
from hotline.settings.reference import ConfigModel, Webhook

if TYPE_CHECKING:
    from hotline.settings import Settings

DOC = "docs/public.md"


Outlet = Literal["newspaper", "radio", "tv", "web"]
OUTLETS: dict[str, tuple[str, str]] = {"newspaper": ("报纸", "Newspaper"), "radio": ("广播", "Radio"),
                                      "tv": ("电视", "TV"), "web": ("网络", "Web")}


class MediaPartner(ConfigModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str
    name_en: str = ""
    outlet: Outlet
    webhook: Webhook = Webhook()  # where the results of its orders go, signed like departments'


class ServiceType(ConfigModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: str
    name_en: str = ""


DEFAULT_TYPES = (ServiceType(code="plumbing", name="管道疏通/水电维修", name_en="Plumbing and wiring"),
                 ServiceType(code="locks", name="开锁换锁", name_en="Locksmith"),
                 ServiceType(code="appliance", name="家电维修", name_en="Appliance repair"),
                 ServiceType(code="housekeeping", name="家政保洁", name_en="Housekeeping"),
                 ServiceType(code="moving", name="搬家", name_en="Moving"))


class Assessment(ConfigModel):
    """加盟商考评: a month fails when any limit is missed; `warn` months failed in a row warn,
    `suspend` in a row suspend from referrals; a passed month lifts a warning."""

    min_rating: float = Field(3.5, ge=1, le=5)         # average of the month's ratings
    min_completion: float = Field(0.8, ge=0, le=1)     # done / handed over
    max_complaints: int = Field(2, ge=0)
    max_response_minutes: float = Field(60, gt=0)      # average time to confirm
    min_requests: int = Field(1, ge=0)                 # fewer in the month: not judged
    warn_after: int = Field(1, ge=1)
    suspend_after: int = Field(2, ge=1)


class Point(ConfigModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Directory(ConfigModel):
    service_types: tuple[ServiceType, ...] = DEFAULT_TYPES
    circle_minutes: float = Field(15, gt=0, le=240)    # 15分钟便民生活服务圈
    road_factor: float = Field(1.4, ge=1, le=5)        # road distance ≈ straight line × this
    travel_kmh: float = Field(20, gt=0, le=120)        # a technician's speed on those roads
    assessment: Assessment = Assessment()
    # A town's/village's reference point (its government or community office): the portal's
    # search by distance starts there when the citizen picks the area without sharing a location.
    area_locations: dict[str, Point] = Field(default_factory=dict)


class PublicConfig(ConfigModel):
    publish_categories: tuple[str, ...] = ()
    feed_items: int = Field(50, ge=1, le=500)
    top_subjects: int = Field(10, ge=1, le=100)
    comments_per_client: int = Field(5, ge=1, le=1000)
    comment_window_seconds: int = Field(3600, ge=1, le=7 * 86400)
    comment_max_chars: int = Field(500, ge=10, le=5000)
    media_partners: tuple[MediaPartner, ...] = ()
    directory: Directory = Directory()

    @field_validator("media_partners")
    @classmethod
    def _unique(cls, v: tuple[MediaPartner, ...]) -> tuple[MediaPartner, ...]:
        codes = [p.code for p in v]
        if len(set(codes)) != len(codes):
            raise ValueError(f"partner codes must be unique: {', '.join(sorted({c for c in codes if codes.count(c) > 1}))}")
        return v

    def partner(self, code: str) -> MediaPartner | None:
        return next((p for p in self.media_partners if p.code == code), None)


def public_config(settings: Settings) -> PublicConfig:
    cfg = read_section(settings, "public", PublicConfig, DOC)
    known = {c.code for c in settings.categories}
    unknown = [c for c in cfg.publish_categories if c not in known]
    if unknown:
        raise ConfigError([f"public.publish_categories: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                           f"{', '.join(unknown)}; use one of {', '.join(sorted(known))} ({DOC})"])
    areas = {d.code for d in settings.departments if d.level in ("town", "village")}
    stray = sorted(set(cfg.directory.area_locations) - areas)
    if stray:
        raise ConfigError([f"public.directory.area_locations: {', '.join(stray)} is not a town or village "
                           f"department code; use one of the departments with level town/village ({DOC})"])
    return cfg

"""The `public:` section (政务公开), validated once with worded problems like the core's:

    public:
      publish_categories: []      # categories whose closed orders are published by rule, without a supervisor
      feed_items: 50              # cases in the RSS feed and on the first page
      top_subjects: 10            # subjects listed in the statistics
      comments_per_client: 5      # citizens' comments a client may send ...
      comment_window_seconds: 3600  # ... within this window
      comment_max_chars: 500

A confidential report (举报) is never published, whatever `publish_categories` says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from hotline.errors import ConfigError
from hotline.settings import read_section
from hotline.settings.reference import ConfigModel

if TYPE_CHECKING:
    from hotline.settings import Settings

DOC = "docs/public.md"


class PublicConfig(ConfigModel):
    publish_categories: tuple[str, ...] = ()
    feed_items: int = Field(50, ge=1, le=500)
    top_subjects: int = Field(10, ge=1, le=100)
    comments_per_client: int = Field(5, ge=1, le=1000)
    comment_window_seconds: int = Field(3600, ge=1, le=7 * 86400)
    comment_max_chars: int = Field(500, ge=10, le=5000)


def public_config(settings: Settings) -> PublicConfig:
    cfg = read_section(settings, "public", PublicConfig, DOC)
    known = {c.code for c in settings.categories}
    unknown = [c for c in cfg.publish_categories if c not in known]
    if unknown:
        raise ConfigError([f"public.publish_categories: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                           f"{', '.join(unknown)}; use one of {', '.join(sorted(known))} ({DOC})"])
    return cfg

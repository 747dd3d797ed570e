"""The key that signs sessions and CSRF tokens: `HOTLINE_SECRET_KEY`, or one generated once."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.settings.schema import Settings


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

"""Structured logs: one JSON object per line (for collectors), or plain text for a terminal.

`HOTLINE_LOG_FORMAT=json|text` (default: text on a terminal, JSON otherwise),
`HOTLINE_LOG_LEVEL=INFO`. Fields passed with `extra={...}` become JSON keys.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        out.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(fmt: str | None = None, level: str | None = None) -> None:
    fmt = fmt or os.environ.get("HOTLINE_LOG_FORMAT") or ("text" if sys.stderr.isatty() else "json")
    level = (level or os.environ.get("HOTLINE_LOG_LEVEL") or "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # ours is hotline.access
    logging.getLogger("alembic").setLevel(logging.WARNING)  # `db upgrade` prints its own progress

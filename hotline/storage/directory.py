"""The department directory (三级部门目录): config is the source of truth.

At start-up the table is brought in line with config: new departments are added,
changed ones updated, removed ones marked inactive (never deleted: old orders and
API keys still name them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from hotline.storage.models import Department

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.settings import Settings


async def sync_departments(session: AsyncSession, settings: Settings) -> int:
    """Returns how many rows changed."""
    existing = {d.code: d for d in (await session.execute(select(Department))).scalars()}
    changed = 0
    wanted = set()
    for d in settings.departments:
        wanted.add(d.code)
        values = {"name": d.name, "name_en": d.name_en, "level": d.level, "parent_code": d.parent,
                  "phone": d.phone, "webhook_url": d.webhook.url, "active": True}
        row = existing.get(d.code)
        if row is None:
            session.add(Department(code=d.code, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
    for code, row in existing.items():
        if code not in wanted and row.active:
            row.active = False
            changed += 1
    return changed

"""Reference data for pickers: categories, urgencies, subjects, areas, departments, statuses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from hotline.domain.vocabulary import SATISFACTION, STATUS_NAMES
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of

if TYPE_CHECKING:
    from aiohttp import web

routes = ApiRoutes()


class ReferenceOut(BaseModel):
    categories: list[dict[str, Any]]
    urgencies: list[dict[str, Any]]
    subjects: list[dict[str, Any]]
    departments: list[dict[str, Any]]
    legacy_lines: list[dict[str, Any]]
    statuses: list[dict[str, Any]]
    satisfaction: list[dict[str, Any]]


@routes.get("/api/v1/reference", summary="字典数据 / Reference data for pickers", auth="none",
            response=ReferenceOut, tags=["字典 Reference"])
async def reference(request: web.Request) -> ReferenceOut:
    st = request.app[HOTLINE].settings
    en = lang_of(request) == "en"

    def name(x: Any) -> str:
        return str(x.name_en) if en and x.name_en else str(x.name)

    return ReferenceOut(
        categories=[{"code": c.code, "name": name(c)} for c in st.categories],
        urgencies=[{"code": u.code, "name": name(u)} for u in st.urgencies],
        subjects=[{"code": g.code, "name": name(g),
                   "children": [{"code": leaf.code, "name": name(leaf)} for leaf in g.children]}
                  for g in st.subjects],
        departments=[{"code": d.code, "name": name(d), "level": d.level, "parent": d.parent} for d in st.departments],
        legacy_lines=[{"number": line.number, "name": name(line), "department": line.department}
                      for line in st.legacy_lines],
        statuses=[{"code": k.value, "name": v[1] if en else v[0]} for k, v in STATUS_NAMES.items()],
        satisfaction=[{"level": k, "name": v[1] if en else v[0]} for k, v in sorted(SATISFACTION.items(), reverse=True)],
    )

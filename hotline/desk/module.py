"""The desk as one module: the agents' desk with its browser softphone, the supervisors'
wallboard and the admin screens (docs/desk.md). `install` mounts the pages and the desk API
and runs the task that follows the live bus for the agents' running times."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hotline.desk.config import desk_config
from hotline.module import Module, Summary
from hotline.ports import Hotline, Link

if TYPE_CHECKING:
    from hotline.desk.service import Desk
    from hotline.settings import Settings


def install(h: Hotline) -> Desk:
    from hotline.desk import api, files, page
    from hotline.desk.service import DESK, Desk

    desk = Desk(desk_config(h.settings), h.settings, sessions=h.sessions, clock=h.clock, live=h.live)
    h.share(DESK, desk)
    h.add_api(api.routes, files.routes)
    h.add_routes(page.install)
    h.add_link(Link("/agent", "坐席工作台（软电话）", "Agent desk (softphone)", "agents", 10))
    h.add_link(Link("/supervisor", "班长监控大屏", "Supervisor wallboard", "supervisors", 11))
    h.add_link(Link("/admin", "系统管理（用户、部门密钥）", "Administration (users, department keys)", "operators", 70))
    h.add_effect(desk.guard)
    h.add_task("desk", desk.run)
    return desk


def check(settings: Settings) -> Summary:
    cfg = desk_config(settings)
    return Summary((f"desk: {len(cfg.pause_reasons)} pause reasons, wrap-up {cfg.wrapup_seconds} s",))


MODULE = Module(name="desk", package="hotline.desk", install=install, sections=("desk",), check=check,
                models=("hotline.desk.models",), migrations=Path(__file__).resolve().parent / "migrations")

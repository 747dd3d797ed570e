"""The knowledge module: the knowledge base (知识库) and its search, the FAQ on the portal,
the order action that answers from an entry. `install` builds the segmenter (jieba with the
county's user dictionary) and the service, and plugs in the API and the page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hotline.knowledge.cli import add_commands
from hotline.knowledge.config import knowledge_config
from hotline.module import Module, Summary
from hotline.ports import Link

if TYPE_CHECKING:
    from hotline.knowledge.service import KnowledgeBase
    from hotline.ports import Hotline
    from hotline.settings import Settings


def install(h: Hotline) -> KnowledgeBase:
    from hotline.knowledge import api, assist_api, faq, hotspot_api, merge_api, page
    from hotline.knowledge.assist import ASSIST, RoutingAssist
    from hotline.knowledge.duplicates import Gazetteer
    from hotline.knowledge.hotspots import Keyer
    from hotline.knowledge.intake_check import DUPLICATE_CHECK, DuplicateCheck
    from hotline.knowledge.merging import MERGING, Merging
    from hotline.knowledge.segment import Segmenter
    from hotline.knowledge.service import KNOWLEDGE, KnowledgeBase
    from hotline.knowledge.watch import HOTSPOTS, HotspotWatch

    cfg = knowledge_config(h.settings)
    kb = KnowledgeBase(h.settings, cfg, Segmenter.from_settings(h.settings, cfg), h.sessions, h.clock)
    h.share(KNOWLEDGE, kb)
    assist = RoutingAssist(h.settings, cfg.routing, h.sessions, h.clock, h.rule_routers)
    kb.assist = assist
    h.share(ASSIST, assist)
    merging = Merging(h.settings, cfg.duplicates, h.sessions, h.clock, h.orders, Gazetteer.from_settings(h.settings))
    kb.merging = merging
    h.share(MERGING, merging)
    h.add_effect(merging.on_change)  # a parent's reply reaches every merged child, in its transaction
    check = DuplicateCheck(cfg.duplicates, h.sessions, h.clock, merging, h.live)
    kb.duplicate_check = check
    h.share(DUPLICATE_CHECK, check)
    if cfg.duplicates.at_intake:
        # After intake's commit, never in it: the acknowledgement does not wait for the check.
        h.add_on_committed(check.on_committed)
        h.add_task("duplicate-check", check.run)
    watch = HotspotWatch(h.settings, cfg.hotspots, h.sessions, h.clock,
                         Keyer(h.settings, merging.gazetteer, kb.segmenter.fold), merging, h.live, h.outbox.nudge)
    kb.hotspots = watch
    h.share(HOTSPOTS, watch)
    if cfg.hotspots.enabled:
        h.add_task("hotspots", watch.run)
    h.add_api(api.routes, assist_api.routes, merge_api.routes, hotspot_api.routes)
    h.add_routes(page.install)
    h.add_link(Link("/knowledge", "知识库管理（检索、编辑、导入导出）", "Knowledge base (search, edit, import/export)",
                    "supervisors", 12))
    if h.demo:
        from hotline.knowledge.demo import load_sample

        async def sample() -> None:
            await load_sample(kb)

        h.add_task("knowledge-demo", sample)
    if cfg.faq.public:
        faq.install(h, kb)
    return kb


def check(settings: Settings) -> Summary:
    from hotline.errors import ConfigError

    cfg = knowledge_config(settings)
    if settings.department(cfg.hotspots.office) is None:
        raise ConfigError([f"knowledge.hotspots.office: {cfg.hotspots.office} is not a department of the directory "
                           "(name the supervision office's code, e.g. dcs) — see docs/knowledge.md"])
    terms = [s.term for s in cfg.synonyms]
    dupes = sorted({t for t in terms if terms.count(t) > 1})
    warnings = tuple(f"knowledge.synonyms: {t} is listed twice; the later variants win" for t in dupes)
    return Summary((f"knowledge: {len(cfg.synonyms)} synonym groups, {len(cfg.words)} extra dictionary words",),
                   warnings)


MODULE = Module(name="knowledge", package="hotline.knowledge", install=install, sections=("knowledge",),
                check=check, models=("hotline.knowledge.models",),
                migrations=Path(__file__).resolve().parent / "migrations", commands=add_commands)

"""Routing assist's use cases: train on the handled orders (or a generated history), keep
the model in the database, suggest the top three departments for an order or a draft, and
fall back to the routing rules when there is no model."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from hotline.errors import NotFound, ValidationFailed
from hotline.knowledge import queries
from hotline.knowledge.models import KnowledgeRoutingModel
from hotline.knowledge.routing import RoutingModel, Sample, split, train
from hotline.ports import RoutingFacts

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hotline.clock import Clock
    from hotline.knowledge.config import RoutingAssistConfig
    from hotline.ports import RuleRouter
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import WorkOrder


@dataclass(frozen=True)
class Trained:
    id: int
    trained_on: int
    tested_on: int
    departments: int
    top1: float
    top3: float
    rules_top1: float
    source: str


@dataclass(frozen=True)
class Suggestion:
    department: str
    confidence: float | None  # the model's probability; None for a rule's suggestion
    reason: str


@dataclass(frozen=True)
class Suggestions:
    source: str  # model | rules | none
    items: list[Suggestion]
    rule: Suggestion | None  # what the routing rules say (first match), shown beside the model's
    model: Trained | None = None


def sample_of(o: WorkOrder) -> Sample:
    text = " ".join(x for x in (o.title, o.description, o.address) if x)
    return Sample(text=text, category=o.category, subject=o.subject, area=o.area, department=o.lead_department)


@dataclass
class RoutingAssist:
    settings: Settings
    cfg: RoutingAssistConfig
    sessions: SessionFactory
    clock: Clock
    rule_routers: list[RuleRouter]  # the core's port list: dispatch registers into it
    _cache: tuple[int, RoutingModel, Trained] | None = field(default=None, repr=False)

    def rules(self, facts: RoutingFacts, limit: int = 3) -> list[Suggestion]:
        for router in self.rule_routers:
            found = router(facts, limit)
            if found:
                return [Suggestion(r.department, None, r.reason) for r in found]
        return []

    def _rules_top1(self, rows: Sequence[Sample]) -> float:
        if not rows:
            return 0.0
        hits = 0
        for r in rows:
            got = self.rules(RoutingFacts(category=r.category, subject=r.subject, area=r.area, text=r.text), 1)
            hits += bool(got) and got[0].department == r.department
        return hits / len(rows)

    async def train(self, samples: Sequence[Sample] | None = None, *, source: str = "orders") -> Trained:
        """Learn from `samples`, else from the newest handled orders; store the model."""
        if samples is None:
            async with self.sessions() as session:
                orders = await queries.handled_orders(session, limit=self.cfg.history_limit)
            samples = [sample_of(o) for o in orders]
        if len(samples) < self.cfg.min_orders:
            raise ValidationFailed(f"已办结工单只有 {len(samples)} 件，少于 knowledge.routing.min_orders "
                                   f"（{self.cfg.min_orders}），暂不训练；派单建议仍按派单规则",
                                   code="too_little_history")
        # Fitting takes seconds of CPU: off the event loop.
        model = await asyncio.to_thread(train, samples, holdout=self.cfg.holdout)
        ev = model.evaluation
        held = split(samples, self.cfg.holdout)[1]
        row = KnowledgeRoutingModel(trained_at=self.clock(), trained_on=ev.trained_on, tested_on=ev.tested_on,
                                    departments=ev.departments, top1=ev.top1, top3=ev.top3,
                                    rules_top1=await asyncio.to_thread(self._rules_top1, held),
                                    source=source, blob=model.dumps())
        async with self.sessions() as session, session.begin():
            queries.add_routing_model(session, row)
        return _trained(row)

    async def _model(self) -> tuple[RoutingModel, Trained] | None:
        async with self.sessions() as session:
            latest = await queries.latest_routing_model_id(session)
            if latest is None:
                return None
            if self._cache is not None and self._cache[0] == latest:
                return self._cache[1], self._cache[2]
            row = await queries.routing_model(session, latest)
        assert row is not None
        model = await asyncio.to_thread(RoutingModel.loads, row.blob)
        self._cache = (latest, model, _trained(row))
        return model, self._cache[2]

    async def suggest(self, facts: RoutingFacts, k: int = 3) -> Suggestions:
        rules = self.rules(facts, k)
        rule = rules[0] if rules else None
        loaded = await self._model()
        if loaded is None:
            return Suggestions("rules" if rules else "none", rules, rule)
        model, info = loaded
        row = Sample(text=facts.text, category=facts.category, subject=facts.subject, area=facts.area)
        top = model.top([row], k)[0]
        items = [Suggestion(d, round(p, 4), "历史工单 / learnt from handled orders") for d, p in top]
        return Suggestions("model", items, rule, info)

    async def for_order(self, number: str, k: int = 3) -> Suggestions:
        async with self.sessions() as session:
            o = await queries.order_by_number(session, number)
        if o is None:
            raise NotFound(f"工单 {number} 不存在", code="order_not_found")
        s = sample_of(o)
        return await self.suggest(RoutingFacts(category=s.category, subject=s.subject, area=s.area, text=s.text,
                                               legacy_line=o.legacy_line), k)


def _trained(row: KnowledgeRoutingModel) -> Trained:
    return Trained(row.id, row.trained_on, row.tested_on, row.departments, row.top1, row.top3, row.rules_top1,
                   row.source)


ASSIST: web.AppKey[RoutingAssist] = web.AppKey("knowledge-routing")

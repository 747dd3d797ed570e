"""A generated but realistic order history for the sample county, for tests, the benchmark
and a demo without real data: texts built from the subjects' keywords and the county's
places, labelled by the routing rules (what a department that handled the order looks
like), with the noise real history has: subjects left empty, areas missing, keywords of a
neighbouring subject, and some orders handled by another department than the rules say."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from hotline.knowledge.routing import Sample
from hotline.ports import RoutingFacts

if TYPE_CHECKING:
    from hotline.ports import RuleRouter
    from hotline.settings import Settings

ROADS = ("建设路", "人民路", "解放路", "滨江路", "青山大道", "新华街", "工业大道", "文昌路", "东门巷", "府前路")
OPENINGS = ("市民来电反映：", "来电人称，", "群众反映，", "", "市民通过微信反映：", "来电咨询：")
CLOSINGS = ("希望相关部门尽快处理。", "已经持续好几天了。", "多次反映未解决，请核实。", "影响日常生活。",
            "请尽快派人查看。", "望给予答复。", "")
ASKS = ("{kw}问题严重", "{kw}，没人管", "有{kw}的情况", "发现{kw}", "{kw}怎么处理", "关于{kw}")


def generate(settings: Settings, rules: RuleRouter, n: int, *, seed: int = 7, noise: float = 0.08) -> list[Sample]:
    rng = random.Random(seed)
    leaves = [(g, leaf) for g in settings.subjects for leaf in g.children if leaf.keywords]
    towns = [d for d in settings.departments if d.level == "town"]
    villages = {t.code: [d for d in settings.departments if d.parent == t.code] for t in towns}
    departments = [d.code for d in settings.departments if d.level == "county" and d.code != "dcs"]
    categories = [c.code for c in settings.categories]
    out: list[Sample] = []
    while len(out) < n:
        group, leaf = rng.choice(leaves)
        town = rng.choice(towns)
        vill = rng.choice(villages[town.code] or [town])
        place = vill.name.removeprefix(settings.hotline.county)
        if rng.random() < 0.5:
            place += rng.choice(ROADS)
        kws = list(leaf.keywords)
        if rng.random() < 0.15:  # a neighbouring subject's words in the text
            kws = list(rng.choice(group.children).keywords) or kws
        ask = rng.choice(ASKS).format(kw=rng.choice(kws))
        text = f"{rng.choice(OPENINGS)}{place}{ask}，{rng.choice(CLOSINGS)}"
        category = leaf.category or group.category or rng.choice(categories)
        routed = rules(RoutingFacts(category=category, subject=leaf.code, area=town.code, text=text), 1)
        if not routed:
            continue
        department = routed[0].department
        if rng.random() < noise:  # handled elsewhere than the rules say (returned, re-dispatched)
            department = rng.choice(departments)
        subject = leaf.code if rng.random() > 0.25 else None  # agents leave the subject empty at times
        area = town.code if rng.random() > 0.1 else None
        out.append(Sample(text=text, category=category, subject=subject, area=area, department=department))
    return out

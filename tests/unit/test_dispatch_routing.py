"""Routing table tests, from the shipped config (config/hotline.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from dispatch.config import RoutingRule, dispatch_config
from dispatch.routing import Facts, Router
from hotline.errors import ConfigError
from hotline.root import load_settings  # every section checked, dispatch's routing: included

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="module")
def router() -> Router:
    s = load_settings({})
    return Router.from_settings(s, dispatch_config(s).routing)


@pytest.mark.parametrize(("facts", "department", "rule_says"), [
    # 原部门热线: the legacy line decides before anything else
    (Facts(legacy_line="12315", text="小区门口占道经营"), "scjgj", "原热线「12315 市场监管投诉举报热线」"),
    (Facts(legacy_line="12333", subject="labor-wage-arrears"), "rsj", "原热线"),
    # 属地: a town's own matters, and its villages count as the town
    (Facts(area="qingxi", subject="agri-village-affairs"), "qingxi", "区域「青山县青溪镇」"),
    (Facts(area="taoyuan", subject="agri-village-affairs"), "qingxi", "区域「青山县青溪镇」"),
    # the same subject outside any town rule goes to the county bureau
    (Facts(subject="agri-village-affairs"), "nyncj", "事项「村（居）务」"),
    # a rule naming the group `city` takes every leaf under it
    (Facts(subject="city-parking"), "cgj", "事项「城市管理」"),
    # conditions combine: subject AND keyword (noise by source)
    (Facts(subject="env-noise", text="楼下广场舞太吵"), "gaj", "关键词「广场舞」"),
    (Facts(subject="env-noise", text="工地夜里打桩"), "zjj", "关键词「工地」"),
    (Facts(subject="env-noise", text="工厂机器轰鸣"), "sthj", "事项「噪声污染」"),
    # categories and subject together (pilot towns)
    (Facts(area="yunling", subject="land-homestead", category="inquiry"), "yunling", "类型「咨询」"),
    (Facts(area="yunling", subject="land-homestead", category="complaint"), "nyncj", "事项「农村宅基地」"),
    # Open311 service codes
    (Facts(area="xincheng", subject="city-streetlights"), "xincheng", "服务代码「市政设施」"),
    # keywords for orders without a subject
    (Facts(text="我们这里停电三个小时了"), "gdgs", "关键词「停电」"),
    (Facts(category="praise", text="感谢"), "dcs", "类型「表扬/感谢」"),
])
def test_default_routing_table(router: Router, facts: Facts, department: str, rule_says: str) -> None:
    m = router.route(facts)
    assert m is not None
    assert m.department == department
    assert rule_says in m.reason
    assert m.reason.startswith(f"派单规则第{m.rule}条")


def test_no_rule_matches_and_the_agent_decides(router: Router) -> None:
    assert router.route(Facts(text="随便问问", category="inquiry")) is None
    assert router.candidates(Facts(text="随便问问")) == []


def test_first_match_wins_and_exclusion_skips_a_department(router: Router) -> None:
    facts = Facts(area="qingxi", subject="other-dispute")
    first = router.route(facts)
    assert first is not None and first.department == "qingxi"
    # after 青溪镇 returned it, the next rule that fits is the justice bureau
    nxt = router.route(facts, exclude=("qingxi",))
    assert nxt is not None and nxt.department == "sfj" and nxt.rule > first.rule
    assert [m.department for m in router.candidates(facts)] == ["qingxi", "sfj"]


def test_catch_all_assisting_and_case_insensitive_keywords() -> None:
    names = {"a": ("甲局", "Bureau A"), "b": ("乙镇", "Town B"), "c": ("丙办", "Office C")}
    router = Router([RoutingRule(department="a", keywords=("WiFi",), assisting=("b",)),
                     RoutingRule(department="c")], names=names)
    m = router.route(Facts(text="公园的wifi连不上"))
    assert m is not None and (m.department, m.assisting) == ("a", ("b",))
    assert m.reason_en == "routing rule 1: keyword 'WiFi' → Bureau A"
    catch_all = router.route(Facts(text="其他事情"))
    assert catch_all is not None and catch_all.department == "c"
    assert catch_all.reason == "派单规则第2条：兜底规则 → 丙办"


def test_config_rejects_bad_assisting(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("routing:\n  - {department: scjgj, keywords: [过期], assisting: [scjgj, nowhere]}\n",
                     encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings({"HOTLINE_CONFIG": str(extra)})
    text = "\n".join(err.value.problems)
    assert "routing[0].assisting: 'scjgj'" in text and "routing[0].assisting: 'nowhere'" in text

"""The knowledge base's pure parts: segmentation with the county's user dictionary and the
synonyms, the import table's checks."""

from __future__ import annotations

import pytest

from hotline.errors import ConfigError, ValidationFailed
from hotline.knowledge.config import knowledge_config
from hotline.knowledge.segment import Segmenter
from hotline.knowledge.tabular import parse_rows
from hotline.root import load_settings

ENV = {"HOTLINE_SECRET_KEY": "test-secret-key-0123456789"}


@pytest.fixture(scope="module")
def settings():  # type: ignore[no-untyped-def]
    return load_settings(ENV)


@pytest.fixture(scope="module")
def seg(settings) -> Segmenter:  # type: ignore[no-untyped-def]
    return Segmenter.from_settings(settings, knowledge_config(settings))


def test_the_user_dictionary_segments_the_countys_words(settings, seg: Segmenter) -> None:
    assert seg.cut("街道路灯不亮") == ["街道", "路灯", "不亮"]
    # Without the county's dictionary the general one splits it wrongly: the dictionary is what fixes it.
    plain = Segmenter(words=(), synonyms=(), stopwords=frozenset())
    assert plain.cut("街道路灯不亮") != ["街道", "路灯", "不亮"]
    # Places: a village under its town is one word (and its parts are search terms).
    assert seg.cut("凤凰街道锦绣社区门口占道经营") == ["凤凰街道锦绣社区", "门口", "占道经营"]
    assert seg.cut("锦绣社区门口的路灯") == ["锦绣社区", "门口", "的", "路灯"]
    assert {"凤凰街道", "锦绣社区", "锦绣", "社区"} <= set(seg.terms("凤凰街道锦绣社区门口"))
    assert {"锦绣社区", "城南社区", "城关街道", "城关", "路灯", "占道经营"} <= set(seg.words)


def test_synonyms_fold_callers_words_into_the_entries_terms(seg: Segmenter) -> None:
    assert seg.fold("我在外地看病怎么报销") == "我异地就医怎么报销"
    assert "异地就医" in seg.terms("在外地看病怎么报销")
    assert seg.terms("我想问一下怎么办") == []  # only stopwords: nothing to search on
    assert len(seg.query_terms("路灯 " * 100 + "".join(f"词{i}" for i in range(100)))) <= 32


def test_a_bad_section_is_worded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "extra.yaml"
    extra.write_text("knowledge:\n  synonyms: [{term: 异地就医, variants: []}]\n  serach: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_settings({**ENV, "HOTLINE_CONFIG": str(extra)})
    text = "\n".join(exc.value.problems)
    assert "knowledge.synonyms" in text and "serach" in text


def test_import_rows_are_checked_and_every_problem_named() -> None:
    depts = {"ybj": "ybj", "青山县医疗保障局": "ybj"}.get
    rows = [["编号", "问题", "答案", "部门", "公开", "标签", "生效日期", "失效日期"],
            ["A1", "异地就医怎么备案", "线上备案", "青山县医疗保障局", "是", "医保；异地就医", "2026-01-01", ""],
            ["A2", "", "答案", "", "否", "", "", ""],
            ["A3", "问题", "答案", "不存在的局", "", "", "", ""],
            ["A4", "问题", "答案", "", "也许", "", "", ""],
            ["A5", "问题", "答案", "", "", "", "2026-05-01", "2026-01-01"],
            ["A1", "问题", "答案", "", "", "", "", ""]]
    with pytest.raises(ValidationFailed) as exc:
        parse_rows(rows, depts)
    msgs = [e["msg"] for e in exc.value.extra["errors"]]
    assert [m.split("：")[0] for m in msgs[:4]] == ["第 3 行", "第 4 行", "第 5 行", "第 6 行"]
    # In the reader's words: the sheet's column name and a Chinese message, not pydantic's English.
    assert msgs[0] == "第 3 行：问题：至少 1 个字符"
    assert msgs[3] == "第 6 行：失效日期早于生效日期 / valid_to is before valid_from"
    assert "编号重复：A1" in msgs[-1]
    ok = parse_rows(rows[:2], depts)
    assert (ok[0].department, ok[0].public, ok[0].tags) == ("ybj", True, ["医保", "异地就医"])
    with pytest.raises(ValidationFailed, match="表头缺少列"):
        parse_rows([["编号", "标签"], ["x", "y"]], depts)


# ---------------------------------------------------------------- duplicates (并单)

def _dup_facts():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from hotline.knowledge.duplicates import Gazetteer, facts

    g = Gazetteer.from_settings(load_settings(ENV))
    t = datetime(2026, 11, 26, 2, tzinfo=UTC)

    def f(number: str, text: str, *, subject: str | None = "city-streetlights", area: str | None = None,
          address: str | None = None, hours: float = 1, category: str = "complaint"):  # type: ignore[no-untyped-def]
        return facts(g, number, t + timedelta(hours=hours), category, subject, area, address, text)
    return g, f


def test_pairs_that_must_and_must_not_match() -> None:
    from hotline.knowledge.duplicates import Place, Rules, match

    g, f = _dup_facts()
    rules = Rules()
    a = f("A", "建设路12号门口的路灯不亮好几天了", area="chengnan", address="城关街道城南社区建设路12号", hours=0)
    assert g.place(None, None, "城关街道城南社区建设路12号门口") == Place("chengguan", "chengnan", "建设路")
    assert g.place("chengguan", "人民路8号", "路灯不亮") == Place("chengguan", None, "人民路")
    must = {
        "other words, same lamp": f("B", "城南社区建设路路灯晚上不亮，黑漆漆的很危险", area="chengnan"),
        "village named in the text only": f("C", "城南社区建设路那边路灯坏了不亮"),
        "no subject, same words": f("D", "建设路12号门口的路灯不亮好几天了", subject=None, area="chengnan"),
    }
    must_not = {
        "same address, different problem": f("E", "建设路12号门口的垃圾好几天没人清运了", subject="city-sanitation",
                                             area="chengnan", address="建设路12号"),
        "same address, no subject, different problem": f("F", "建设路12号门口垃圾好几天没人清运了", subject=None,
                                                         area="chengnan", address="建设路12号"),
        "same problem, another community": f("G", "锦绣社区门口的路灯不亮好几天了", area="jinxiu"),
        "same problem, outside the window": f("H", "建设路12号门口的路灯不亮", area="chengnan", hours=100),
        "same town, another road": f("I", "人民路的路灯不亮好几天了", area="chengguan", address="人民路3号"),
        "same subject, nothing in common": f("J", "申请在小区新装一排照明设施", area="chengnan"),
    }
    assert {k for k, b in must.items() if match(a, b, rules) is None} == set()
    assert {k for k, b in must_not.items() if match(a, b, rules) is not None} == set()
    town_a = f("K", "人民路8号路灯不亮", area="chengguan", address="人民路8号", hours=0)
    assert match(town_a, f("L", "人民路路灯坏了不亮", area="chengguan"), rules) is not None  # same town, same road


def test_a_merged_order_is_answered_with_its_parents_reply() -> None:
    from datetime import UTC, datetime

    from hotline.domain import workorder as wo
    from hotline.domain.vocabulary import ActorKind, Status
    from hotline.errors import TransitionRejected

    now = datetime(2026, 11, 26, tzinfo=UTC)
    actor = wo.Actor(ActorKind.DEPARTMENT, "cgj", "城管局")
    merged = wo.OrderState(status=Status.MERGED, merged_into="20261126000001")
    after, event = wo.transition(merged, wo.ReplyWithParent(actor, "20261126000001", "已修复", "cgj"), now)
    assert (after.status, event.kind, event.data["parent"]) == (Status.REPLIED, "replied", "20261126000001")
    with pytest.raises(TransitionRejected):  # only with the reply of the order it was merged into
        wo.transition(merged, wo.ReplyWithParent(actor, "20261126000009", "已修复"), now)
    with pytest.raises(TransitionRejected):  # and only once merged
        wo.transition(wo.OrderState(status=Status.REGISTERED),
                      wo.ReplyWithParent(actor, "20261126000001", "已修复"), now)


def test_a_burst_is_many_against_the_usual_level() -> None:
    from datetime import UTC, datetime, timedelta

    from hotline.knowledge.hotspots import Key, Seen, Thresholds, bursts

    t0 = datetime(2026, 11, 26, 2, tzinfo=UTC)
    water, lamps = Key("chengnan", "util-water"), Key("chengnan", "city-streetlights")
    window = [Seen(i, f"n{i}", t0 + timedelta(seconds=i), water) for i in range(30)] + \
             [Seen(100 + i, f"m{i}", t0, lamps) for i in range(30)] + \
             [Seen(200 + i, f"k{i}", t0, Key("xijie", "util-water")) for i in range(19)]
    # Lamps are called about 10 times an hour there all week: 30 is only 3× the usual.
    baseline = [Seen(1000 + i, f"b{i}", t0 - timedelta(hours=2), lamps) for i in range(10 * 24 * 7)]
    found = bursts(window, baseline, Thresholds(window_minutes=60, baseline_days=7, min_count=20, factor=5))
    assert [(b.key, b.count, b.numbers[0]) for b in found] == [(water, 30, "n0")]  # xijie: below min_count


def test_the_matter_of_a_text_without_subject(settings) -> None:  # type: ignore[no-untyped-def]
    from hotline.knowledge.duplicates import Gazetteer
    from hotline.knowledge.hotspots import Key, Keyer

    seg = Segmenter.from_settings(settings, knowledge_config(settings))
    k = Keyer(settings, Gazetteer.from_settings(settings), seg.fold)
    assert k.key(None, None, "城南社区没有水，物业说是管道爆了", None, "help") == Key("chengnan", "util-water")
    assert k.key("chengguan", None, "城南社区停水", None, None) == Key("chengnan", "util-water")
    assert k.key("xijie", None, "说不清楚的事", None, "other") == Key("xijie", "category:other")
    assert k.key(None, None, "说不清楚的事", None, "other") is None  # no place: no hotspot

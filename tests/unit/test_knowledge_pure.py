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
    assert "编号重复：A1" in msgs[-1]
    ok = parse_rows(rows[:2], depts)
    assert (ok[0].department, ok[0].public, ok[0].tags) == ("ybj", True, ["医保", "异地就医"])
    with pytest.raises(ValidationFailed, match="表头缺少列"):
        parse_rows([["编号", "标签"], ["x", "y"]], depts)

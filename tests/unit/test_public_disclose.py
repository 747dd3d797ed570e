"""Disclosure's pure rule (hotline.public.disclose): a property over generated orders and
their events — nothing confidential is publishable, and no published text carries a phone
number, an ID number, a plate, a house number, or the citizen's name — plus the RSS feed
read back with the standard library's XML parser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.public.disclose import CONFIDENTIAL, NOT_CLOSED, CaseFacts, Draft, Refusal, draft
from hotline.public.feed import Item, rss

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)

# Personal details that must never survive, each with the sentence that carries it.
PHONES = ["13812345678", "+86 139-0000-1111", "0791-88123456"]
IDS = ["11010519491231002X", "360102198001011235"]  # check digits valid (GB 11643)
PLATES = ["赣A12345", "粤B·D12345"]
HOUSES = ["3栋501", "2单元302室", "人民路88号"]
NAMES = ["李四", "王小明", "欧阳娜娜", "赵六"]
LEADS = ["我是", "我叫", "联系人：", "本人"]
# What a published text must keep readable.
KEEP = ["青溪镇", "菜市场", "路灯", "12345", "2026年11月2日", "300元"]

names = st.sampled_from(NAMES)


@st.composite
def sentences(draw: st.DrawFn, name: str) -> tuple[str, list[str]]:
    """A citizen's or a department's text and the secrets it holds."""
    parts, secrets = [], []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["phone", "id", "plate", "house", "name", "self", "keep"]))
        if kind == "phone":
            v = draw(st.sampled_from(PHONES))
            parts.append(f"电话{v}")
        elif kind == "id":
            v = draw(st.sampled_from(IDS))
            parts.append(f"身份证{v}")
        elif kind == "plate":
            v = draw(st.sampled_from(PLATES))
            parts.append(f"车牌{v}的车")
        elif kind == "house":
            v = draw(st.sampled_from(HOUSES))
            parts.append(f"住幸福小区{v}")
        elif kind == "name":
            v = name
            parts.append(f"已联系{name}")
        elif kind == "self":
            v = name
            parts.append(f"{draw(st.sampled_from(LEADS))}{name}")
        else:
            parts.append(draw(st.sampled_from(KEEP)))
            continue
        secrets.append(v)
    return "，".join(parts) + "。", secrets


@st.composite
def orders(draw: st.DrawFn) -> tuple[CaseFacts, list[str]]:
    name = draw(names)
    question, s1 = draw(sentences(name))
    answer, s2 = draw(sentences(name))
    title, s3 = draw(sentences(name))
    status = draw(st.sampled_from(["closed", "closed", "closed", "replied", "follow_up", "dispatched"]))
    house = draw(st.sampled_from(HOUSES))
    facts = CaseFacts(
        number="20261102000001", status=status, confidential=draw(st.booleans()), title=title[:200],
        description=question, category=draw(st.sampled_from(["complaint", "report", "help"])), subject=None,
        address=f"青山县青溪镇幸福小区{house}", lead_department="scjgj", created_at=T0,
        closed_at=T0 + timedelta(days=2) if status == "closed" else None, rating=draw(st.none() | st.integers(1, 5)),
        answers=(answer,), names=(name, draw(st.none() | names)) if draw(st.booleans()) else ())
    secrets = [*s1, *s2, *s3, house]
    if not facts.names:
        # The name is on record nowhere: it may only be known from the citizen's own words
        # ("我是李四") in one of the texts, and must then be masked in all of them.
        said = any(f"{lead}{name}" in t for lead in LEADS for t in (question, answer, title))
        secrets = [s for s in secrets if s != name or said]
    return facts, secrets


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


@settings(max_examples=150, deadline=None)
@given(orders())
def test_nothing_confidential_or_unmasked_is_ever_publishable(generated: tuple[CaseFacts, list[str]]) -> None:
    facts, secrets = generated
    result = draft(facts)
    if facts.confidential:
        assert result is CONFIDENTIAL
        return
    if facts.status != "closed":
        assert result is NOT_CLOSED
        return
    assert isinstance(result, Draft)
    published = " ".join(str(v) for v in (result.title, result.question, result.answer, result.location))
    flat = published.replace(" ", "").replace("-", "").replace("·", "")
    for secret in secrets:
        assert secret.replace(" ", "").replace("-", "").replace("·", "") not in flat, (secret, published)
        if _digits(secret) and len(_digits(secret)) >= 7:
            assert _digits(secret) not in _digits(published), (secret, published)
    for name in facts.names:
        if name:
            assert name not in published, (name, published)


def test_a_name_the_citizen_gave_in_the_question_is_masked_in_the_answer_too() -> None:
    facts = CaseFacts(number="3", status="closed", confidential=False, title="路灯", description="我是王小明，路灯不亮",
                      category=None, subject=None, address=None, lead_department=None, created_at=T0, closed_at=T0,
                      rating=None, answers=("已告知王小明，路灯已修复。",))
    d = draft(facts)
    assert isinstance(d, Draft) and d.answer == "已告知王某，路灯已修复。"


def test_readable_words_stay_and_the_address_is_cut_to_the_community() -> None:
    facts = CaseFacts(number="20261102000002", status="closed", confidential=False, title="路灯不亮",
                      description="我是李四，青溪镇菜市场门口路灯不亮，电话13812345678", category="complaint",
                      subject=None, address="青山县青溪镇幸福小区3栋501室", lead_department="qingxi", created_at=T0,
                      closed_at=T0 + timedelta(days=1), rating=5, answers=("已于2026年11月2日修复，费用300元。",),
                      names=("李四",))
    d = draft(facts)
    assert isinstance(d, Draft)
    assert d.question == "我是李某，青溪镇菜市场门口路灯不亮，电话[手机号]"
    assert d.answer == "已于2026年11月2日修复，费用300元。"
    assert d.location == "青山县青溪镇幸福小区"
    # The preview's digest changes when the text does: publishing checks it.
    other = draft(CaseFacts(**{**facts.__dict__, "answers": ("已修复。",)}))
    assert isinstance(other, Draft) and other.digest() != d.digest()


def test_a_closed_order_without_an_answer_is_refused() -> None:
    facts = CaseFacts(number="1", status="closed", confidential=False, title="t", description="d", category=None,
                      subject=None, address=None, lead_department=None, created_at=T0, closed_at=T0, rating=None,
                      answers=("  ",))
    r = draft(facts)
    assert isinstance(r, Refusal) and r.code == "no_answer"


def test_the_feed_is_well_formed_rss_2_with_every_required_element() -> None:
    items = [Item(title="路灯<不亮> & 其他", link="http://h.example/public/cases/1", guid="http://h.example/public/cases/1",
                  published=T0, description="诉求：x\x0b y\n办理结果：已修复", category="县市场监管局"),
             Item(title="第二", link="http://h.example/public/cases/2", guid="g2", published=T0, description="d",
                  category=None)]
    doc = ET.fromstring(rss("青山县12345 · 政务公开", "http://h.example/public/", "说明", "zh-cn", T0, items))
    assert doc.tag == "rss" and doc.get("version") == "2.0"
    channel = doc.find("channel")
    assert channel is not None
    for tag in ("title", "link", "description"):  # RSS 2.0's required channel elements
        assert (channel.findtext(tag) or "").strip(), tag
    got = channel.findall("item")
    assert len(got) == 2
    assert got[0].findtext("title") == "路灯<不亮> & 其他"
    assert got[0].findtext("pubDate") == "Mon, 02 Nov 2026 08:00:00 GMT"
    assert got[0].find("guid").get("isPermaLink") == "false"  # type: ignore[union-attr]
    assert "\x0b" not in (got[0].findtext("description") or "")
    assert got[1].find("category") is None


def test_a_title_cut_from_the_description_leaves_no_stub_of_a_phone_number() -> None:
    text = "我是李四，电话13812345678，东门路路灯不亮"
    facts = CaseFacts(number="4", status="closed", confidential=False, title=text[:14], description=text,
                      category=None, subject=None, address=None, lead_department=None, created_at=T0, closed_at=T0,
                      rating=None, answers=("已修复",))
    d = draft(facts)
    assert isinstance(d, Draft)
    assert d.title == "我是李某，电话[手机号]，东…" and "1381234" not in d.title

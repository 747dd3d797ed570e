"""The masking rules on realistic Chinese texts (脱敏), and what they must leave alone."""

from __future__ import annotations

import pytest

from hotline.masking import coarse_address, coarse_point, id_card_valid, luhn_valid, mask

MASKED = [
    # the SMS, as a citizen writes it
    ("我是李四，电话13812345678，住幸福小区3栋501", "我是李某，电话[手机号]，住幸福小区[门牌号]"),
    # names after 我是/我叫/姓…名/联系人, and the same name later in the text
    ("我叫王小明，王小明的车被刮了", "我叫王某，王某的车被刮了"),
    ("本人张伟反映楼下噪音", "本人张某反映楼下噪音"),
    ("联系人：赵六 手机 +86 138 1234 5678", "联系人：赵某 手机 [手机号]"),
    ("举报人姓李名四，住址保密", "举报人姓李名某，住址保密"),
    ("我是欧阳娜娜，来电反映", "我是欧阳某，来电反映"),
    # mobiles: plain, +86, 0086, spaced and dashed
    ("回电 +8613812345678 谢谢", "回电 [手机号] 谢谢"),
    ("手机0086-139-1234-5678", "手机[手机号]"),
    ("电话 150 1234 5678。", "电话 [手机号]。"),
    # landlines with an area code
    ("座机0791-88123456转801", "座机[电话]"),
    ("请拨（0755）12345678", "请拨[电话]"),
    # ID cards: the check digit decides, X included
    ("身份证11010519491231002X", "身份证[身份证号]"),
    ("身份证号440305199003071236。", "身份证号[身份证号]。"),
    # plates, blue and new-energy
    ("车牌粤A12345违停", "车牌粤A*****违停"),
    ("新能源车粤B·D12345占用车位", "新能源车粤B******占用车位"),
    ("赣C 8K2M1 在门口", "赣C***** 在门口"),
    # bank cards (Luhn), grouped or not
    ("退款到6222021234567890128", "退款到[银行卡号]"),
    ("卡号 6217 0012 3412 3412 346", "卡号 [银行卡号]"),
    ("邮箱 li.si+12345@example.com.cn 联系", "邮箱 [邮箱] 联系"),
    # house and room numbers
    ("家住2单元302室", "家住[门牌号]"),
    ("3号楼2单元1201漏水", "[门牌号]漏水"),
    ("东门路88号门口", "东门路[门牌号]门口"),
    ("住501室楼上", "住[门牌号]楼上"),
]

UNTOUCHED = [
    "2026-12-01 上午九点，2026年12月1日又来了",
    "罚款5000元，退了1,280.50元",
    "拨打12345热线，工单号20261126000001",
    "22:30以后还在施工，已经3次了，每次30分钟",
    "我是青溪镇居民，我是车主，我是江西人",
    "我是王家村的村民，李先生和王师傅都看到了",
    "身份证号11010519491231002Y写错了",          # not an ID card: no valid check character
    "订单6222021234567890127",                    # fails Luhn: not a card
    "318国道，G60高速",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masks(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize("text", UNTOUCHED)
def test_leaves_alone(text: str) -> None:
    assert mask(text) == text


def test_masking_is_idempotent() -> None:
    for text, expected in MASKED:
        assert mask(expected) == expected, text


def test_check_digits() -> None:
    assert id_card_valid("11010519491231002X") and id_card_valid("11010519491231002x")
    assert not id_card_valid("110105194912310021") and not id_card_valid("1101051949123100")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112") and not luhn_valid("41a1")


@pytest.mark.parametrize(("address", "expected"), [
    ("青山县青溪镇幸福小区3栋501室", "青山县青溪镇幸福小区"),
    ("青溪镇人民路88号", "青溪镇人民路"),
    ("桃源村5组12号", "桃源村"),
    ("城关街道东门路", "城关街道东门路"),
    ("幸福小区2单元302", "幸福小区"),
    ("", ""),
    (None, None),
])
def test_coarse_address(address: str | None, expected: str | None) -> None:
    assert coarse_address(address) == expected


def test_coarse_point() -> None:
    assert coarse_point(27.123456, 115.987654) == (27.12, 115.99)
    assert coarse_point(None, 115.0) == (None, None)


def test_names_known_from_the_order_are_masked_anywhere() -> None:
    assert mask("已回电李 明，李明表示满意", names=["李 明", None, "x"]) == "已回电李 明，李某表示满意"
    assert mask("已回电王五", names=["王五"]) == "已回电王某"

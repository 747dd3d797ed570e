"""Masking what identifies a person in free text, and coarsening a location (脱敏).

Pure functions, shared by every public output (Open311's feed, the disclosure pages) and
by what a department sees of a confidential report (举报). The rules, in the order they
run (longest numbers first, so a bank card is not read as a phone number):

| what | example | becomes |
|---|---|---|
| e-mail | li4@example.com | [邮箱] |
| ID card, 18 characters, check digit valid (GB 11643) | 11010519491231002X | [身份证号] |
| bank card, 16–19 digits, Luhn valid, grouped or not | 6222 0212 3456 7890 128 | [银行卡号] |
| mobile, +86/0086/86 and spaced or dashed forms | +86 138-1234-5678 | [手机号] |
| landline with area code | 0791-88123456, (0755)12345678 | [电话] |
| plate, incl. 8-character new-energy | 粤A12345, 粤B·D12345 | 粤A***** |
| house / room number | 3栋501, 2单元302室, 人民路88号 | [门牌号] |
| a name the writer gives | 我是李四, 我叫王小明, 联系人：赵六, 姓李名四 | 我是李某 … (and the same name elsewhere) |

Dates, times, amounts, 12345, work-order numbers and other numbers stay as they are.

    >>> mask("我是李四，电话13812345678，住幸福小区3栋501")
    '我是李某，电话[手机号]，住幸福小区[门牌号]'
    >>> coarse_address("青山县青溪镇幸福小区3栋501室")
    '青山县青溪镇幸福小区'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["coarse_address", "coarse_point", "id_card_valid", "luhn_valid", "mask", "names_in"]

# Where a name written by the person starts. 姓X名Y keeps the surname (it identifies no one).
_NAME_LEADS = r"(?:我是|我叫|本人是|本人叫|本人|名叫|叫做|联系人[:：]?|姓名[:：]?|举报人[:：]?|反映人[:：]?)"
# The common surnames (single and compound): a name must start with one, so "我是青溪镇居民" stays.
_COMPOUND = "欧阳|司马|上官|诸葛|东方|皇甫|慕容|令狐|夏侯|尉迟|公孙|长孙|宇文|司徒|端木"
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
             "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
             "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
             "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈"
             "饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵"
             "苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
# What may follow a name: the end, punctuation, space, or the words that usually come next.
_AFTER_NAME = r"(?=$|[\s，。,.;；:：!！?？、)）]|电话|手机|联系|住|家住|身份证|反映|举报|投诉|来电|的电话|今年|男|女)"
_NOT_A_NAME_END = set("村镇乡街路区县市省组楼店厂局院校站园苑城里巷道人的")
# Words that read like surname + name but are roles or polite forms (车主, 李师傅): no one is named.
_NOT_NAMES = {"车主", "业主", "司机", "学生", "家长", "居民", "村民", "租户", "房东", "商户", "店主", "患者", "群众",
              "党员", "老人", "老板"}
_TITLES = {"先生", "女士", "师傅", "阿姨", "老师", "大爷", "大妈", "医生", "经理", "总", "工", "姐", "哥", "叔", "伯"}
_NAME = re.compile(rf"{_NAME_LEADS}\s*((?:{_COMPOUND}|[{_SURNAMES}])[\u4e00-\u9fff]{{1,2}})")
_GIVEN_NAME = re.compile(rf"(姓[{_SURNAMES}])名([\u4e00-\u9fff]{{1,2}})")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
                      r"(?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![\d-])\d{4}(?:[ -]?\d{2,4}){3,4}(?![\d-])")
_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(?:[(（]0\d{2,3}[)）]\s*|0\d{2,3}[\s-])\d{7,8}(?:[-转]\d{1,5})?(?!\d)"
                       r"|(?<![\d-])0[1-9]\d{9,10}(?![\d-])")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"([{_PROVINCES}][A-HJ-NP-Z])[·•\s-]?((?=[A-HJ-NP-Z0-9]*\d)[A-HJ-NP-Z0-9]{{5,6}})"
                    r"(?![A-Za-z0-9])")
_DIGITS = r"[0-9０-９]+"
_HOUSE = re.compile(
    rf"{_DIGITS}(?:-{_DIGITS})?\s*(?:栋|幢|号楼|座)(?:\s*{_DIGITS}\s*单元)?(?:\s*{_DIGITS}\s*(?:室|号|房)?)?"
    rf"|{_DIGITS}\s*单元\s*{_DIGITS}\s*(?:室|号|房)?"
    rf"|{_DIGITS}\s*(?:室|号房)"
    rf"|(?<=[路街巷道弄])\s*{_DIGITS}(?:-{_DIGITS})?\s*号(?:院)?")


def id_card_valid(number: str) -> bool:
    """The GB 11643 check character (ISO 7064 MOD 11-2) of an 18-character ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card(m: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", m.group(0))
    return "[银行卡号]" if 16 <= len(digits) <= 19 and luhn_valid(digits) else m.group(0)


def names_in(text: str) -> list[str]:
    """The names the writer gives ("我是李四"), longest reading first that ends where a name may end."""
    found = []
    for m in _NAME.finditer(text):
        candidate = m.group(1)
        for n in range(len(candidate), 1, -1):
            name = candidate[:n]
            if name[-1] in _NOT_A_NAME_END or name in _NOT_NAMES or name[len(_surname(name)):] in _TITLES:
                continue
            if re.match(_AFTER_NAME, text[m.start(1) + n:]):
                found.append(name)
                break
    return found


def _surname(name: str) -> str:
    return name[:2] if re.match(_COMPOUND, name) else name[0] if "\u4e00" <= name[0] <= "\u9fff" else ""


def mask(text: str, names: Iterable[str | None] = ()) -> str:
    """`text` with what identifies a person replaced (see the table above); `names` are the
    person's names known from elsewhere (the order's contact), masked wherever they appear."""
    if not text:
        return text
    names = names_in(text) + [n.replace(" ", "") for n in names if n and len(n.replace(" ", "")) >= 2]
    out = _EMAIL.sub("[邮箱]", text)
    out = _ID_CARD.sub(lambda m: "[身份证号]" if id_card_valid(m.group(0)) else m.group(0), out)
    out = _CARD.sub(_card, out)
    out = _MOBILE.sub("[手机号]", out)
    out = _LANDLINE.sub("[电话]", out)
    out = _PLATE.sub(lambda m: m.group(1) + "*" * len(m.group(2)), out)
    out = _HOUSE.sub("[门牌号]", out)
    out = _GIVEN_NAME.sub(lambda m: m.group(1) + "名某", out)
    # Longest first, so 李小明 is not half-replaced by an earlier 李小.
    for name in sorted(set(names), key=len, reverse=True):
        out = out.replace(name, _surname(name) + "某")
    return out


# ---------------------------------------------------------------- locations

# The first fine-grained part of an address: a house, building, unit, room or village group
# number. Everything from there on is cut, leaving the road, community or village.
_FINE = re.compile(r"[0-9０-９一二三四五六七八九十百零]+(?:-[0-9]+)*\s*(?:号|栋|幢|座|单元|室|层|楼|组|户|弄)")
COORD_DECIMALS = 2  # about 1 km: a neighbourhood, not a door


def coarse_address(address: str | None) -> str | None:
    """An address at road / community / village level: the house and room numbers cut."""
    if not address:
        return address
    m = _FINE.search(address)
    cut = address[:m.start()] if m else address
    cut = _HOUSE.sub("", cut).rstrip(" ，,、-—（(")
    return cut or None


def coarse_point(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    """Coordinates rounded to about a kilometre."""
    if lat is None or lon is None:
        return None, None
    return round(lat, COORD_DECIMALS), round(lon, COORD_DECIMALS)

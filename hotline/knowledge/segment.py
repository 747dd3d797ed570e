"""Chinese word segmentation for the knowledge base, with the county's own words.

Plain segmentation splits what a county says in its own way (街道路灯不亮 → 街道 / 路 /
灯不亮), so the segmenter is given a user dictionary built from the reference data: every
department's name and its short forms (青山县城关街道 → 城关街道, 城关; 城关街道城南社区 →
城南社区, 城南), every subject's name and keywords (路灯, 占道经营 ...), the synonyms and
the extra words of the `knowledge:` section. Synonyms are folded before segmenting (在外地
看病 → 异地就医), on the entries and on the questions alike, so both meet on one term.

`terms(text)` gives the search terms: jieba's search mode (long words and their parts),
punctuation and stopwords dropped, lower-cased. The same function feeds the index (SQLite
FTS5, PostgreSQL `simple` tsvector over the space-joined terms) and the queries.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from hotline.knowledge.config import KnowledgeConfig
    from hotline.settings import Settings

# A user-dictionary word outweighs the general dictionary's splits: 路灯 has a frequency of
# ~450 there, against 灯不亮 + 街道路; this is what makes the county's words win.
USER_FREQ = 50_000
# Function words and the politeness of a call: they say nothing about the matter.
STOPWORDS = frozenset(["的", "了", "吗", "呢", "吧", "啊", "呀", "嘛", "么", "是", "在", "我", "你", "他", "她", "它", "们", "我们", "你们", "他们", "有", "没", "没有", "和", "与", "及", "或", "也", "都", "就", "还", "又", "很", "太", "请", "请问", "问", "问下", "问一下", "一下", "想", "想问", "想要", "要", "需要", "能", "能否", "可以", "可不可以", "怎么", "怎么办", "怎样", "如何", "什么", "哪里", "哪儿", "哪个", "那个", "这个", "这", "那", "个", "一", "下", "啥", "为什么", "为啥", "谢谢", "您好", "你好", "麻烦", "帮", "帮忙", "帮我", "给", "让", "把", "被", "对", "从", "到", "去", "来", "说", "讲", "做", "办", "弄", "会", "得", "地", "着", "过", "已经", "现在", "今天", "昨天", "一直", "好", "不", "没法", "多久", "多少", "几", "该", "应该", "之前", "以后", "然后", "但是", "因为", "所以", "如果", "还是", "情况", "问题", "反映", "咨询", "投诉", "一个", "已", "于", "为", "以", "等", "之", "其", "此"])
_TOKEN = re.compile(r"^[\w]+$")
_VILLAGE = re.compile(r"^(?P<town>.+?(?:街道|镇|乡))(?P<village>.+?(?:社区|村|居委会))$")
_SHORT = re.compile(r"(街道|镇|乡|社区|村|居委会)$")


def place_parts(settings: Settings) -> dict[str, tuple[str, ...]]:
    """A village's full name → its town and village names: jieba's search mode gives only
    the 2- and 3-character parts of a long word, so 凤凰街道锦绣社区 would not meet 锦绣社区."""
    out: dict[str, tuple[str, ...]] = {}
    for d in settings.departments:
        m = _VILLAGE.match(d.name.removeprefix(settings.hotline.county))
        if m:
            out[m.group(0)] = (m["town"], m["village"])
    return out


def dictionary_words(settings: Settings, cfg: KnowledgeConfig) -> list[str]:
    """The user dictionary: the county's places and bodies, the subjects, the synonyms."""
    county = settings.hotline.county
    words: list[str] = [county, *cfg.words]
    for d in settings.departments:
        name = d.name.removeprefix(county)
        words.append(name)
        m = _VILLAGE.match(name)
        parts = [m["town"], m["village"]] if m else [name]
        for part in parts:
            words.append(part)
            short = _SHORT.sub("", part)
            if len(short) >= 2 and short != part:
                words.append(short)
    for group in settings.subjects:
        for s in (group, *group.children):
            words.append(s.name)
            words.extend(s.keywords)
    for syn in cfg.synonyms:
        words.append(syn.term)
        words.extend(syn.variants)
    seen: dict[str, None] = {}
    for w in words:
        # "表扬/感谢": a word is one run of word characters; anything else is split first.
        for piece in re.split(r"[^\w]+", w.strip()):
            if len(piece) >= 2:
                seen.setdefault(piece, None)
    return list(seen)


_cache: dict[tuple[str, ...], object] = {}
_lock = threading.Lock()


def _tokenizer(words: Sequence[str]) -> object:
    """One jieba tokenizer per dictionary in the process: loading the general dictionary
    takes most of a second, and tests open many hotlines with the same settings."""
    import jieba

    key = tuple(sorted(words))
    with _lock:
        tk = _cache.get(key)
        if tk is None:
            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            for w in words:
                tk.add_word(w, freq=USER_FREQ)
            _cache[key] = tk
        return tk


@dataclass(frozen=True)
class Segmenter:
    words: tuple[str, ...]
    synonyms: tuple[tuple[str, str], ...]  # (variant, term), longest variant first
    stopwords: frozenset[str]
    parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, cfg: KnowledgeConfig) -> Segmenter:
        pairs = sorted(((v, s.term) for s in cfg.synonyms for v in s.variants), key=lambda p: -len(p[0]))
        return cls(tuple(dictionary_words(settings, cfg)), tuple(pairs), STOPWORDS | set(cfg.stopwords),
                   place_parts(settings))

    def fold(self, text: str) -> str:
        """The synonyms folded into their terms."""
        for variant, term in self.synonyms:
            if variant in text:
                text = text.replace(variant, term)
        return text

    def cut(self, text: str) -> list[str]:
        """The words, as a person reads them (precise mode, user dictionary)."""
        tk = _tokenizer(self.words)
        return [w for w in tk.lcut(self.fold(text)) if w.strip()]  # type: ignore[attr-defined]

    def terms(self, text: str) -> list[str]:
        """The search terms of a text, in order, repeats kept (they weigh in the index)."""
        tk = _tokenizer(self.words)
        out = []
        for raw in tk.cut_for_search(self.fold(text)):  # type: ignore[attr-defined]
            w = raw.strip().lower()
            if w and _TOKEN.match(w) and w not in self.stopwords:
                out.append(w)
                out.extend(self.parts.get(w, ()))
        return out

    def query_terms(self, text: str, limit: int = 32) -> list[str]:
        """The distinct terms of a question, at most `limit` (a pasted page is not a query)."""
        return list(dict.fromkeys(self.terms(text)))[:limit]


def joined(terms: Iterable[str]) -> str:
    return " ".join(terms)

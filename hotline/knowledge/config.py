"""The `knowledge:` section of the settings, validated here (the core carries it raw).

    knowledge:
      words: [一网通办, ...]            # more words for the segmenter's user dictionary
      synonyms:                        # what citizens say → the term the entries use
        - {term: 异地就医, variants: [在外地看病, 外地看病, 异地看病]}
      stopwords: [...]                 # words never searched on (added to the built-in list)
      search: {limit: 5, max_limit: 20, suggest_min_chars: 4}
      faq: {public: true}              # the public FAQ page /portal/faq
      routing: {history_limit: 50000, holdout: 0.2, min_orders: 200}   # routing assist
      duplicates: {window_hours: 72, min_similarity: 0.15, min_similarity_without_subject: 0.4,  # 并单
                   at_intake: true, check_seconds: 10, check_lookback_hours: 24}  # candidates recorded at intake
      hotspots: {window_minutes: 60, baseline_days: 7, min_count: 20, factor: 5, office: dcs,  # 热点预警
                 text: {min_count: 20, factor: 5, min_term_docs: 5}}  # … and by similar texts

The user dictionary also holds every department's name (and its short forms: 城关街道,
城南社区, 城南) and every subject's name and keywords from the reference data, so the
county's own words are never split (街道路灯不亮 → 街道 / 路灯 / 不亮).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from hotline.settings import ConfigModel, Settings, read_section

DOC = "docs/knowledge.md"


class Synonym(ConfigModel):
    term: str = Field(min_length=1, max_length=40)
    variants: tuple[str, ...] = Field(min_length=1)

    @field_validator("variants")
    @classmethod
    def _not_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if any(not x.strip() for x in v):
            raise ValueError("a variant may not be empty")
        return v


class SearchConfig(ConfigModel):
    limit: int = Field(5, ge=1, le=50)  # results when the caller names no limit
    max_limit: int = Field(20, ge=1, le=200)
    suggest_min_chars: int = Field(4, ge=1, le=50)  # a draft shorter than this gets no suggestions


class FaqConfig(ConfigModel):
    public: bool = True  # serve /portal/faq (only entries marked public, valid today)
    per_page: int = Field(50, ge=5, le=500)


class RoutingAssistConfig(ConfigModel):
    history_limit: int = Field(50_000, ge=100, le=5_000_000)  # newest handled orders learnt from
    holdout: float = Field(0.2, gt=0, lt=0.5)  # share of them kept aside to measure top-1/top-3
    min_orders: int = Field(200, ge=20)  # fewer handled orders: no model, the rules suggest alone


class DuplicatesConfig(ConfigModel):
    window_hours: float = Field(72, gt=0, le=24 * 90)  # created within this of each other
    min_similarity: float = Field(0.15, ge=0, le=1)  # same subject: bigram overlap of the shorter text, places out
    min_similarity_without_subject: float = Field(0.4, ge=0, le=1)  # a subject missing: same category and this
    scan_limit: int = Field(5000, ge=100, le=1_000_000)  # newest open orders of the same town looked at
    limit: int = Field(10, ge=1, le=200)
    # At intake (受理时查重): each new order's candidates recorded after its commit, by a loop the
    # intake's commit wakes; it also looks back over `check_lookback_hours` for new orders not
    # checked yet (another process's, or a restart's), every `check_seconds`.
    at_intake: bool = True
    check_seconds: float = Field(10, ge=0.01, le=3600)
    check_lookback_hours: float = Field(24, gt=0, le=24 * 30)
    check_batch: int = Field(200, ge=1, le=10_000)


class TextHotspotsConfig(ConfigModel):
    """Hotspots by text (`textbursts.py`): the same window and baseline as place × matter."""

    enabled: bool = True
    min_count: int = Field(20, ge=2)  # texts in the window at least ...
    factor: float = Field(5.0, ge=1)  # ... and this many times the usual level; a bigram's share this many times its usual
    min_term_docs: int = Field(5, ge=2)  # a bigram is bursty only when this many texts of the window hold it
    baseline_limit: int = Field(20_000, ge=100, le=1_000_000)  # newest baseline orders whose words are counted
    baseline_refresh_minutes: int = Field(60, ge=1, le=24 * 60)  # the baseline's counts are kept this long


class HotspotsConfig(ConfigModel):
    enabled: bool = True
    window_minutes: int = Field(60, ge=5, le=24 * 60)  # the sliding window
    baseline_days: int = Field(7, ge=1, le=90)  # the usual level: the mean per window over these days
    min_count: int = Field(20, ge=2)  # at least this many orders in the window ...
    factor: float = Field(5.0, ge=1)  # ... and this many times the usual level
    tick_seconds: int = Field(60, ge=5, le=3600)  # how often the detector looks
    office: str = "dcs"  # 督查室: who is alerted (webhook when it has one, SMS to its contacts)
    scan_limit: int = Field(50_000, ge=1000)  # orders looked at per window at most
    text: TextHotspotsConfig = TextHotspotsConfig()  # clusters of similar texts, whatever their subject and area


class KnowledgeConfig(ConfigModel):
    words: tuple[str, ...] = ()
    synonyms: tuple[Synonym, ...] = ()
    stopwords: tuple[str, ...] = ()
    search: SearchConfig = SearchConfig()
    faq: FaqConfig = FaqConfig()
    routing: RoutingAssistConfig = RoutingAssistConfig()
    duplicates: DuplicatesConfig = DuplicatesConfig()
    hotspots: HotspotsConfig = HotspotsConfig()


def knowledge_config(settings: Settings) -> KnowledgeConfig:
    return read_section(settings, "knowledge", KnowledgeConfig, DOC)

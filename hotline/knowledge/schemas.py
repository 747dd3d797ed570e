"""The knowledge API's bodies and answers (pydantic): what OpenAPI shows."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hotline.web.schemas import VersionedIn

KEY = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"


class EntryIn(BaseModel):
    """A knowledge entry as a supervisor writes it (or an import row)."""

    model_config = ConfigDict(extra="forbid")
    key: str | None = Field(None, pattern=KEY, description="编号; empty: the next KB number")
    question: str = Field(min_length=1, max_length=500, description="问题")
    answer: str = Field(min_length=1, max_length=20000, description="答案（口径）")
    policy_source: str = Field("", max_length=500, description="政策依据")
    department: str | None = Field(None, max_length=64, description="负责解释的部门代码")
    valid_from: date | None = Field(None, description="生效日期")
    valid_to: date | None = Field(None, description="失效日期（含当日）")
    tags: list[str] = Field(default_factory=list, max_length=20, description="标签")
    public: bool = Field(False, description="在网上服务大厅“常见问题”公开")

    @field_validator("question", "answer")
    @classmethod
    def _text(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("不能为空 / may not be blank")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        out = list(dict.fromkeys(t.strip() for t in v if t.strip()))
        if any(len(t) > 20 for t in out):
            raise ValueError("标签最长 20 字 / a tag is at most 20 characters")
        return out

    @model_validator(mode="after")
    def _dates(self) -> EntryIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("失效日期早于生效日期 / valid_to is before valid_from")
        return self


class EntryUpdateIn(EntryIn):
    expected_version: int | None = Field(None, description="Refuse with 409 if the entry changed meanwhile")


class RetireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: int | None = None
    reason: str = Field("", max_length=500, description="下线原因, kept in the version history")


class EntryBrief(BaseModel):
    """What a search hit and a full entry both say."""

    id: int
    key: str
    question: str
    answer: str
    policy_source: str
    department: str | None
    department_name: str | None
    tags: list[str]
    version: int


class EntryOut(EntryBrief):
    valid_from: date | None
    valid_to: date | None
    public: bool
    status: str
    approved_by: str
    approved_at: datetime
    updated_at: datetime
    cited: int


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class VersionOut(BaseModel):
    version: int
    change: str
    changed_by: str
    changed_at: datetime
    data: dict[str, object]


class Hit(EntryBrief):
    score: float


class SearchQuery(BaseModel):
    q: str = Field(min_length=1, max_length=500)
    limit: int | None = Field(None, ge=1, le=200)
    department: str | None = None


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=20000, description="the draft's text as the agent types it")
    limit: int | None = Field(None, ge=1, le=200)


class ListQuery(BaseModel):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)
    status: str | None = Field(None, pattern=r"^(active|retired)$")
    department: str | None = None
    tag: str | None = None


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class ExportQuery(BaseModel):
    format: str = Field("csv", pattern=r"^(csv|xlsx)$")


class ResolveWithEntryIn(VersionedIn):
    entry_id: int = Field(description="the knowledge entry the answer cites")
    answer: str | None = Field(None, max_length=20000, description="the words said; default: the entry's answer")


class DepartmentSuggestionOut(BaseModel):
    department: str
    name: str
    confidence: float | None = Field(description="the model's probability; null for a routing rule")
    reason: str


class RoutingModelOut(BaseModel):
    id: int
    trained_on: int
    tested_on: int
    departments: int
    top1: float = Field(description="held-out top-1 accuracy")
    top3: float = Field(description="held-out top-3 accuracy")
    rules_top1: float = Field(description="the routing rules alone on the same held-out orders")
    source: str


class RoutingSuggestionsOut(BaseModel):
    source: str = Field(description="model | rules | none")
    advisory: bool = Field(True, description="always true: the rules and the agent decide")
    suggestions: list[DepartmentSuggestionOut]
    rule: DepartmentSuggestionOut | None = Field(description="the first routing rule's department")
    model: RoutingModelOut | None


class RoutingDraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=20000)
    category: str | None = Field(None, max_length=32)
    subject: str | None = Field(None, max_length=64)
    area: str | None = Field(None, max_length=64)


class CandidateOut(BaseModel):
    number: str
    score: float
    similarity: float = Field(description="text bigram Jaccard, place names taken out")
    place: str = Field(description="town/village/road as normalised")
    reasons: list[str] = Field(description="why it matches: place, matter, text similarity, time apart")
    title: str
    hours_apart: float = Field(description="hours between the two orders (within knowledge.duplicates.window_hours)")


class IntakeCheckOut(BaseModel):
    number: str
    checked: bool = Field(description="false: the check has not reached this order yet (it runs after intake's commit)")
    checked_at: datetime | None
    candidates: list[CandidateOut] = Field(description="older orders it may repeat, as found when it came in")


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parent: str = Field(pattern=r"^\d{8,20}$", description="the order the others are merged into (主工单)")
    children: list[str] = Field(min_length=1, max_length=1000, description="the duplicates (并入的工单)")


class MergeOut(BaseModel):
    parent: str
    merged: list[str]

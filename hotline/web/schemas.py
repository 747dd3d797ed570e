"""Request and response bodies of the work-order JSON API (v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.domain.vocabulary import Channel
from hotline.storage.orders import OrderFilter
from hotline.web.boundary import DayFrom, DayTo, RowId


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ------------------------------------------------------------------ auth

class LoginIn(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    extension: str | None = None


class LoginOut(BaseModel):
    token: str = Field(description="Bearer token; the dashboard uses the cookie instead")
    csrf_token: str = Field(description="Send as X-CSRF-Token on writes made with the session cookie")
    expires_at: datetime
    user: UserOut


class MeOut(BaseModel):
    user: UserOut
    csrf_token: str | None = None


# ------------------------------------------------------------------ intake

class CallerIn(Body):
    phone: str | None = Field(None, max_length=32, pattern=r"^\+?[0-9-]{3,32}$")
    name: str | None = Field(None, max_length=100)
    wechat_openid: str | None = Field(None, max_length=128)


class NewOrderIn(Body):
    """A contact typed in by an agent (a call, a letter, a walk-in) or sent by a client system."""

    channel: Channel = Channel.PHONE
    external_id: str | None = Field(None, max_length=200,
                                    description="The contact's id in its channel; defaults to the Idempotency-Key header")
    text: str = Field(min_length=1, max_length=20000, description="诉求内容")
    title: str | None = Field(None, max_length=200)
    category: str | None = None
    subject: str | None = None
    area: str | None = None
    address: str | None = Field(None, max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    urgency: str = "normal"
    confidential: bool = Field(False, description="举报人信息保密：部门看不到来电人")
    legacy_line: str | None = None
    caller: CallerIn = CallerIn()
    draft: bool = Field(False, description="A call still in progress: keep as a draft")
    call_id: str | None = Field(None, max_length=64, description="AMI Linkedid of the call")
    follow_up_of: str | None = Field(None, description="Append to this open order instead (补充)")


class IntakeOut(BaseModel):
    number: str
    status: str
    created: bool
    appended: bool
    repeated: bool


# ------------------------------------------------------------------ orders

class AssignmentOut(BaseModel):
    department: str
    department_name: str
    role: str
    status: str
    parent_department: str | None
    dispatched_at: datetime
    sign_by: datetime | None
    reply_by: datetime | None
    return_by: datetime | None
    signed_at: datetime | None
    replied_at: datetime | None
    extended_days: int
    result: str | None
    return_reason: str | None


class EventOut(BaseModel):
    seq: int
    kind: str
    from_status: str | None
    to_status: str
    actor_kind: str
    actor_id: str | None
    actor_name: str | None
    at: datetime
    data: dict[str, Any]


class ContactOut(BaseModel):
    id: int
    channel: str
    sender: str | None
    text: str
    received_at: datetime


class AttachmentOut(BaseModel):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    created_at: datetime


class OrderSummary(BaseModel):
    number: str
    status: str
    status_name: str
    channel: str
    title: str
    category: str | None
    subject: str | None
    area: str | None
    urgency: str
    confidential: bool
    legacy_line: str | None
    lead_department: str | None
    sign_by: datetime | None
    reply_by: datetime | None
    overdue: bool
    created_at: datetime
    updated_at: datetime
    version: int


class CitizenOut(BaseModel):
    id: int | None
    name: str | None
    phone: str | None


class OrderDetail(OrderSummary):
    description: str
    address: str | None
    latitude: float | None
    longitude: float | None
    citizen: CitizenOut | None = Field(description="null for a department when the report is confidential (举报保密)")
    rating: int | None
    reopen_count: int
    merged_into: str | None
    call_id: str | None
    assignments: list[AssignmentOut]
    events: list[EventOut]
    contacts: list[ContactOut]
    attachments: list[AttachmentOut]


class OrderPage(BaseModel):
    items: list[OrderSummary]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end")


class OrderQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: list[str] | str | None = None
    department: str | None = None
    category: str | None = None
    area: str | None = None
    channel: str | None = None
    overdue: bool | None = None
    q: str | None = Field(None, max_length=100, description="Text in number, title, description or address")
    created_from: DayFrom | None = Field(None, alias="from",
                                         description="Created at or after; a plain date is that day (county time)")
    created_to: DayTo | None = Field(None, alias="to",
                                     description="Created before; a plain date includes that day (county time)")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
    lang: str | None = None

    def to_filter(self, department: str | None) -> OrderFilter:
        statuses = [self.status] if isinstance(self.status, str) else (self.status or [])
        return OrderFilter(statuses=[x for st in statuses for x in st.split(",") if x], department=department,
                           category=self.category, area=self.area, channel=self.channel, overdue=self.overdue,
                           text=self.q, created_from=self.created_from, created_to=self.created_to)


# ------------------------------------------------------------------ transitions

class VersionedIn(Body):
    expected_version: int | None = Field(None, description="Refuse with 409 if the order changed meanwhile")


class EmptyIn(VersionedIn):
    pass


class UpdateIn(VersionedIn):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20000)
    category: str | None = None
    subject: str | None = None
    area: str | None = None
    address: str | None = Field(None, max_length=300)
    latitude: float | None = None
    longitude: float | None = None
    urgency: str | None = None
    confidential: bool | None = None
    legacy_line: str | None = None
    contact_name: str | None = Field(None, max_length=100)


class ResolveIn(VersionedIn):
    answer: str = Field(min_length=1, max_length=20000)


class DispatchIn(VersionedIn):
    lead: str = Field(description="主办部门代码")
    assisting: list[str] = Field(default_factory=list, description="协办部门代码")
    note: str = Field("", max_length=2000)
    reason: str = Field("", max_length=500, description="派单依据（路由规则或人工指定）")


class DepartmentActionIn(VersionedIn):
    department: str | None = Field(None, description="Staff acting for a department (代办); departments omit it")


class SignIn(DepartmentActionIn):
    pass


class NoteIn(DepartmentActionIn):
    note: str = Field(min_length=1, max_length=5000)


class ReplyIn(DepartmentActionIn):
    result: str = Field(min_length=1, max_length=20000)
    attachments: list[RowId] = Field(default_factory=list)


class ReturnIn(DepartmentActionIn):
    reason: str = Field(min_length=1, max_length=2000)


class SubDispatchIn(DepartmentActionIn):
    to: str = Field(description="下级村/社区代码")
    note: str = Field("", max_length=2000)


class ExtensionIn(DepartmentActionIn):
    working_days: int = Field(ge=1, le=30)
    reason: str = Field(min_length=1, max_length=2000)


class ReviewIn(VersionedIn):
    accept: bool
    note: str = Field("", max_length=2000)


class DecisionIn(VersionedIn):
    approve: bool
    note: str = Field("", max_length=2000)


class FollowUpIn(VersionedIn):
    note: str = Field("", max_length=5000)
    reached: bool = True
    rating: int | None = Field(None, ge=1, le=5)


class RateIn(VersionedIn):
    level: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    comment: str = Field("", max_length=2000)


class ReasonIn(VersionedIn):
    reason: str = Field(min_length=1, max_length=2000)


class MergeIn(VersionedIn):
    into: str = Field(min_length=14, max_length=20)


class CloseIn(VersionedIn):
    note: str = Field("", max_length=2000)


class ActionOut(BaseModel):
    number: str
    status: str
    version: int
    event: EventOut


Lang = Literal["zh", "en"]

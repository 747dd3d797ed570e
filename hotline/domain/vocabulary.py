"""The hotline's fixed vocabulary: channels, statuses, roles, satisfaction levels.

Categories, subjects and urgencies come from config (they differ per county); these
are fixed because code branches on them.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """Intake channel (六位一体). Also the `channel` label of the metrics."""

    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    WEB = "web"
    APP = "app"  # the mobile app's JSON intake and Open311
    FAX = "fax"
    MEDIA = "media"  # 媒体联动: an issue raised by a newspaper, radio, TV or web outlet, entered by staff


# What a reader sees for a channel (reports, exports): (中文, English).
CHANNEL_NAMES: dict[str, tuple[str, str]] = {
    Channel.PHONE: ("电话", "Phone"), Channel.SMS: ("短信", "SMS"), Channel.WECHAT: ("微信", "WeChat"),
    Channel.WEB: ("网站", "Web portal"), Channel.APP: ("移动端", "Mobile app"), Channel.FAX: ("传真", "Fax"),
    Channel.MEDIA: ("媒体联动", "Media linkage"),
}


class Status(StrEnum):
    DRAFT = "draft"  # 通话中，草稿
    REGISTERED = "registered"  # 已受理
    RESOLVED_DIRECTLY = "resolved_directly"  # 直接办结
    DISPATCHED = "dispatched"  # 已派单
    SIGNED = "signed"  # 已签收
    RETURNED = "returned"  # 退单待审核
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请待审批
    REPLIED = "replied"  # 已办结回复
    FOLLOW_UP = "follow_up"  # 回访
    CLOSED = "closed"  # 归档
    REOPENED = "reopened"  # 重办
    MERGED = "merged"  # 并单
    INVALID = "invalid"  # 无效/骚扰


TERMINAL = frozenset({Status.CLOSED, Status.MERGED, Status.INVALID})
# Orders a department is working on: their deadlines run.
IN_DEPARTMENT = frozenset({Status.DISPATCHED, Status.SIGNED, Status.EXTENSION_REQUESTED})
OPEN = frozenset(Status) - TERMINAL

STATUS_NAMES: dict[Status, tuple[str, str]] = {
    Status.DRAFT: ("草稿", "Draft"),
    Status.REGISTERED: ("已受理", "Registered"),
    Status.RESOLVED_DIRECTLY: ("直接办结", "Resolved directly"),
    Status.DISPATCHED: ("已派单", "Dispatched"),
    Status.SIGNED: ("已签收", "Signed for"),
    Status.RETURNED: ("退单审核中", "Returned, under review"),
    Status.EXTENSION_REQUESTED: ("延期审批中", "Extension requested"),
    Status.REPLIED: ("已回复", "Replied"),
    Status.FOLLOW_UP: ("回访中", "Follow-up"),
    Status.CLOSED: ("已办结归档", "Closed"),
    Status.REOPENED: ("重办", "Reopened"),
    Status.MERGED: ("已并单", "Merged"),
    Status.INVALID: ("无效工单", "Invalid"),
}


class AssignmentRole(StrEnum):
    LEAD = "lead"  # 主办
    ASSIST = "assist"  # 协办


class AssignmentStatus(StrEnum):
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    REPLIED = "replied"
    RETURNED = "returned"  # 退单 (awaiting review, or accepted)
    WITHDRAWN = "withdrawn"  # superseded by a re-dispatch or a merge


ACTIVE_ASSIGNMENT = frozenset({AssignmentStatus.DISPATCHED, AssignmentStatus.SIGNED})


class ActorKind(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    DEPARTMENT = "department"
    CITIZEN = "citizen"
    SYSTEM = "system"


class UserRole(StrEnum):
    AGENT = "agent"  # 话务员
    SUPERVISOR = "supervisor"  # 班长/督查
    ADMIN = "admin"


# 5-level satisfaction scale of the provincial follow-up rules.
SATISFACTION: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}
SATISFIED_MIN = 3  # 满意率 counts levels 3..5
DISSATISFIED_MAX = 2  # 1..2: 不满意, the order is reopened (重办)

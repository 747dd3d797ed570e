"""Domain errors with a stable code and an HTTP status.

Only the web edge turns them into responses (RFC 9457 problem details); everything
below raises them. `title` is Chinese first because agents, departments and citizens
read it; `title_en` serves the English switch and integrators' logs.
"""

from __future__ import annotations

from typing import Any


class HotlineError(Exception):
    """Base of every error the hotline reports to a caller on purpose."""

    code: str = "hotline_error"
    status: int = 400
    title: str = "请求无法处理"
    title_en: str = "The request cannot be processed"

    def __init__(self, detail: str | None = None, *, code: str | None = None,
                 status: int | None = None, title: str | None = None,
                 title_en: str | None = None, **extra: Any) -> None:
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        if title_en is not None:
            self.title_en = title_en
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(f"{self.code}: {self.detail}")


class ValidationFailed(HotlineError):
    code = "validation_failed"
    status = 422
    title = "请求内容不符合要求"
    title_en = "The request body is not valid"


class NotFound(HotlineError):
    code = "not_found"
    status = 404
    title = "未找到"
    title_en = "Not found"


class Unauthorized(HotlineError):
    code = "unauthorized"
    status = 401
    title = "需要登录或有效的凭据"
    title_en = "Authentication required"


class Forbidden(HotlineError):
    code = "forbidden"
    status = 403
    title = "无权执行此操作"
    title_en = "Not allowed"


class Conflict(HotlineError):
    code = "conflict"
    status = 409
    title = "与当前状态冲突"
    title_en = "Conflicts with the current state"


class TransitionRejected(Conflict):
    """A work-order command that the state machine refuses (guard failed)."""

    code = "transition_not_allowed"
    title = "工单当前状态不允许此操作"
    title_en = "The work order's state does not allow this action"


class PayloadTooLarge(HotlineError):
    code = "payload_too_large"
    status = 413
    title = "上传内容过大"
    title_en = "Payload too large"


class UnsupportedMedia(HotlineError):
    code = "unsupported_media_type"
    status = 415
    title = "不支持的内容类型"
    title_en = "Unsupported media type"


class Unavailable(HotlineError):
    """A dependency (database, PBX, vendor API) is down; the caller may retry."""

    code = "unavailable"
    status = 503
    title = "服务暂时不可用，请稍后重试"
    title_en = "Temporarily unavailable, retry later"


class ConfigError(Exception):
    """Settings are wrong; the message names the file, the key and the fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

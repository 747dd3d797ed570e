"""The `desk:` section: what the agents' page needs from configuration (docs/desk.md)."""

from __future__ import annotations

from pydantic import Field

from hotline.settings import ConfigModel, Settings, read_section


class PauseReason(ConfigModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=32)  # what QueuePause carries as its Reason
    name_en: str = ""


class Softphone(ConfigModel):
    """The browser softphone (SIP.js over WebSocket) registering the agent's PJSIP endpoint."""

    enabled: bool = True
    # The Asterisk WebSocket (http.conf + the wss transport of pjsip.conf). Empty: ws://<the AMI
    # host, else the page's own host>:8088/ws, the lab default of dialplans/http.conf.
    ws_url: str = Field(default="", pattern=r"^(wss?://[^\s]+)?$")
    domain: str = ""  # the SIP domain of the agents' URIs; empty: the WebSocket's host
    # The endpoint's password, per extension; dialplans/pjsip.conf ships `change-me-<ext>`,
    # change both together. Extensions missing here get password_template.
    passwords: dict[str, str] = Field(default_factory=dict)
    password_template: str = "change-me-{extension}"
    ice_servers: tuple[str, ...] = ()  # e.g. "stun:stun.lan:3478"; none on one LAN


class FrequentCaller(ConfigModel):
    """A caller with at least `orders` orders within `days` days is marked 高频来电."""

    orders: int = Field(default=5, ge=2)
    days: int = Field(default=30, ge=1, le=3650)


class DeskConfig(ConfigModel):
    pause_reasons: tuple[PauseReason, ...] = (
        PauseReason(code="break", name="小休", name_en="Short break"),
        PauseReason(code="training", name="培训", name_en="Training"),
        PauseReason(code="meeting", name="会议", name_en="Meeting"),
        PauseReason(code="meal", name="用餐", name_en="Meal"),
    )
    # 话后处理: after each call the desk pauses the agent this long to finish the order
    # (QueuePause with reason wrapup_reason), then makes them ready again. 0: no wrap-up.
    wrapup_seconds: int = Field(default=30, ge=0, le=3600)
    wrapup_reason: str = Field(default="话后处理", min_length=1, max_length=32)
    # 认领: a written contact claimed by an agent is theirs alone this long (renewed while
    # they work it); then another may take it.
    claim_minutes: int = Field(default=15, ge=1, le=480)
    history_orders: int = Field(default=10, ge=1, le=100)  # earlier orders in the screen pop
    frequent_caller: FrequentCaller = FrequentCaller()
    softphone: Softphone = Softphone()


def desk_config(settings: Settings) -> DeskConfig:
    return read_section(settings, "desk", DeskConfig, "docs/desk.md")

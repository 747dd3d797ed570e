"""The `telephony:` settings section (the AMI address itself is CONTRACT's `ami:`)."""

from __future__ import annotations

from pydantic import Field

from hotline.settings import ConfigModel, Settings, read_section


class CallbackPolicy(ConfigModel):
    """回拨: which unanswered calls become callback tasks."""

    enabled: bool = True
    min_wait_seconds: int = Field(default=0, ge=0, description="abandons shorter than this are not called back")
    max_attempts: int = Field(default=3, ge=1, le=10)


class SimulatorDefaults(ConfigModel):
    calls_per_minute: float = Field(default=1.5, ge=0, le=6000)
    answer_rate: float = Field(default=0.9, ge=0, le=1)
    repeat_callers: float = Field(default=0.2, ge=0, le=1, description="share of calls from a number seen before")
    legacy_share: float = Field(default=0.15, ge=0, le=1)
    mean_talk_seconds: float = Field(default=40, gt=0)
    mean_patience_seconds: float = Field(default=60, gt=0)
    survey: bool = True


class RecordingSource(ConfigModel):
    """录音: how the hotline gets MixMonitor's files from the Asterisk host (recordings.py)."""

    mode: str = Field(default="copy", pattern="^(copy|fetch|off)$")
    share_dir: str | None = Field(default=None, description="recordings_dir as mounted here; null: the same path")
    fetch_url: str | None = Field(default=None, description="mode fetch: e.g. https://pbx.lan/monitor/{name}")
    fetch_timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_bytes: int = Field(default=500 * 1024 * 1024, ge=1024)


class TelephonySettings(ConfigModel):
    queues: tuple[str, ...] = ("hotline-12345",)
    inbound_contexts: tuple[str, ...] = ("from-pstn",)
    department_context: str = "hotline-departments"  # transfers go to <phone>@this
    conference_context: str = "hotline-conference"
    outbound_context: str = "hotline-outbound"
    agent_interface: str = "PJSIP/{extension}"  # queue member of an agent's extension
    caller_id: str = "12345"  # what citizens see on a callback
    # The pause reason the desk's wrap-up (话后处理) uses: the same as `desk.wrapup_reason`.
    wrapup_reason: str = Field(default="话后处理", min_length=1, max_length=32)
    transfer: str = Field(default="blindtransfer", pattern="^(blindtransfer|redirect)$")
    recordings_dir: str = "/var/spool/asterisk/monitor"
    recording_template: str = ""  # when MIXMONITOR_FILENAME is not seen: e.g. "{dir}/hotline-{uniqueid}.wav"
    recordings: RecordingSource = RecordingSource()
    callback: CallbackPolicy = CallbackPolicy()
    simulator: SimulatorDefaults = SimulatorDefaults()


def telephony_settings(settings: Settings) -> TelephonySettings:
    return read_section(settings, "telephony", TelephonySettings, "docs/telephony.md")

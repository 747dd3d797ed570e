"""Dispatch's own settings: the `escalation:` and `delivery:` sections of the YAML.

The core carries them as raw data (`settings.extensions`); they are validated here, once,
with messages that name the file, the key and the fix, like the core's.

    escalation:
      supervision_office: dcs              # 督查室: the last escalation level
      sign_reminder_at: 0.5                # 催签 when half the sign-for window has passed
      reply_reminder_at: 0.75              # 催办 when three quarters of the reply window have passed
      sign_escalation_after_hours: 4       # still unsigned this long after sign_by → 督查室
      reply_escalation_after_working_days: 2
      reply_escalation_after_hours: 4      # for policies counted on the clock (特急)
      tick_seconds: 15                     # how often due timers are looked for

    delivery:
      queue: hotline-outbox                # the rq queue `hotline worker` listens on
      timeout_seconds: 10                  # one webhook POST
      lease_seconds: 60                    # a claimed message is someone's for this long
      max_attempts: 12                     # then it becomes a dead letter (死信)
      base_delay_seconds: 5                # backoff: base · 2^(attempt-1), full jitter
      max_delay_seconds: 21600
      poll_seconds: 1                      # how often an idle worker looks for due messages
      batch: 20                            # messages per rq job, sent side by side
      max_queued: 20                       # rq jobs waiting at most (back-pressure)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationError, model_validator

from hotline.errors import ConfigError
from hotline.settings import ConfigModel, Settings, section_problems


class EscalationSettings(ConfigModel):
    supervision_office: str = "dcs"
    sign_reminder_at: float = Field(0.5, gt=0, lt=1)
    reply_reminder_at: float = Field(0.75, gt=0, lt=1)
    sign_escalation_after_hours: float = Field(4, gt=0, le=240)
    reply_escalation_after_working_days: int = Field(2, ge=1, le=30)
    reply_escalation_after_hours: float = Field(4, gt=0, le=240)
    tick_seconds: float = Field(15, gt=0, le=3600)


class DeliverySettings(ConfigModel):
    queue: str = Field("hotline-outbox", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    timeout_seconds: float = Field(10, gt=0, le=120)
    lease_seconds: float = Field(60, gt=0, le=3600)
    max_attempts: int = Field(12, ge=1, le=100)
    base_delay_seconds: float = Field(5, gt=0, le=3600)
    max_delay_seconds: float = Field(6 * 3600, gt=0, le=7 * 86400)
    poll_seconds: float = Field(1, gt=0, le=60)
    batch: int = Field(20, ge=1, le=500)
    max_queued: int = Field(20, ge=1, le=10_000)

    @model_validator(mode="after")
    def _lease_covers_a_send(self) -> DeliverySettings:
        # A send that outlives its lease could be claimed again and overtake a later message.
        if self.lease_seconds < 2 * self.timeout_seconds:
            raise ValueError("lease_seconds must be at least twice timeout_seconds, so a send always "
                             "ends inside its lease")
        if self.max_delay_seconds < self.base_delay_seconds:
            raise ValueError("max_delay_seconds must not be below base_delay_seconds")
        return self


@dataclass(frozen=True)
class DispatchConfig:
    escalation: EscalationSettings
    delivery: DeliverySettings


SECTIONS: dict[str, type[ConfigModel]] = {"escalation": EscalationSettings, "delivery": DeliverySettings}


def dispatch_config(settings: Settings) -> DispatchConfig:
    """Validate both sections; raise `ConfigError` naming every problem."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    where = " + ".join(settings.sources) or "config"
    for name, model in SECTIONS.items():
        raw = settings.extensions.get(name) or {}
        if not isinstance(raw, dict):
            problems.append(f"{where}: {name}: must be a mapping of keys (see docs/dispatch.md)")
            continue
        try:
            values[name] = model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(section_problems(settings, name, exc, "docs/dispatch.md"))
    if not problems:
        office = values["escalation"].supervision_office
        if settings.department(office) is None:
            problems.append(f"{where}: escalation.supervision_office: {office!r} is not a department code; "
                            "name the 督查室's department (e.g. dcs)")
    if problems:
        raise ConfigError(problems)
    return DispatchConfig(values["escalation"], values["delivery"])

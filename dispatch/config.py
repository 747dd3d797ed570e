"""Dispatch's own settings, validated here once with messages that name the file, the key
and the fix, like the core's (which carries these sections raw, `settings.extensions`):

    routing:       [{department, categories?, subjects?, service_codes?, areas?, keywords?,
                     legacy_lines?, assisting?}, ...]   # first match wins (派单规则)
    sla:           {return_within_working_days, extension_max_working_days,
                    follow_up_after_working_days, policies: [...]}   # 办理时限
    calendar:      {extra_holidays, extra_workdays, working_hours}   # the working-day calendar
    followup:      {reopen_reply_working_days: 3, max_reopens: 1}    # 重办: deadline, then a supervisor

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

The SLA rules (`SlaRules`) and the working-day calendar (`WorkCalendar`) are built from
these sections here, with the categories and urgencies of the core's reference data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from dispatch.sla import SlaPolicy, SlaRules
from dispatch.workcalendar import WorkCalendar
from hotline.errors import ConfigError
from hotline.settings import ConfigModel, Settings, section_problems

DOC = "docs/dispatch.md"


class RoutingRule(ConfigModel):
    department: str
    categories: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    legacy_lines: tuple[str, ...] = ()
    assisting: tuple[str, ...] = ()  # 协办 departments suggested with the lead


class SlaPolicyIn(ConfigModel):
    categories: tuple[str, ...] = ()  # empty: every category
    urgencies: tuple[str, ...] = ()  # empty: every urgency
    sign_within_hours: float = Field(gt=0)
    reply_within_working_days: int | None = Field(None, ge=1, le=60)
    reply_within_hours: float | None = Field(None, gt=0)
    clock: Literal["working", "calendar"] = "working"

    @model_validator(mode="after")
    def _one_reply_limit(self) -> SlaPolicyIn:
        if (self.reply_within_working_days is None) == (self.reply_within_hours is None):
            raise ValueError("give exactly one of reply_within_working_days or reply_within_hours")
        return self


class SlaSection(ConfigModel):
    return_within_working_days: int = Field(2, ge=1, le=10)
    extension_max_working_days: int = Field(10, ge=1, le=30)
    follow_up_after_working_days: int = Field(1, ge=1, le=10)
    policies: tuple[SlaPolicyIn, ...] = ()


class FollowUpSection(ConfigModel):
    """`followup:` 回访 and 重办. The follow-up's due day is `sla.follow_up_after_working_days`."""

    reopen_reply_working_days: int = Field(3, ge=1, le=30)  # a reopened order's reply deadline (shorter)
    max_reopens: int = Field(1, ge=0, le=10)  # reopens back to the same department; the next: a supervisor decides


class CalendarSection(ConfigModel):
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()
    working_hours: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)),
                                                    (time(13, 30), time(17, 30)))

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: tuple[tuple[time, time], ...]) -> tuple[tuple[time, time], ...]:
        if not v:
            raise ValueError("at least one working period is needed, e.g. [['08:30', '17:30']]")
        last = time(0, 0)
        for begin, end in v:
            if not last <= begin < end:
                raise ValueError("periods must be [start, end] pairs in increasing order")
            last = end
        return v


class EscalationSettings(ConfigModel):
    supervision_office: str = "dcs"
    sign_reminder_at: float = Field(0.5, gt=0, lt=1)
    reply_reminder_at: float = Field(0.75, gt=0, lt=1)
    sign_escalation_after_hours: float = Field(4, gt=0, le=240)
    reply_escalation_after_working_days: int = Field(2, ge=1, le=30)
    reply_escalation_after_hours: float = Field(4, gt=0, le=240)
    tick_seconds: float = Field(15, gt=0, le=3600)
    # From this level on (1: 超期, 2: 督办; 3: never) the notified departments' heads
    # (contacts with `head: true`) get an SMS besides the webhook, when Twilio is configured.
    sms_heads_from_level: int = Field(1, ge=0, le=3)


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
    routing: tuple[RoutingRule, ...]
    sla: SlaSection
    calendar_section: CalendarSection
    escalation: EscalationSettings
    delivery: DeliverySettings
    rules: SlaRules  # the policy table, per (category, urgency)
    calendar: WorkCalendar
    followup: FollowUpSection = FollowUpSection()


_Routing = TypeAdapter(tuple[RoutingRule, ...])
SECTIONS: dict[str, Any] = {"routing": _Routing, "sla": SlaSection, "calendar": CalendarSection,
                            "escalation": EscalationSettings, "delivery": DeliverySettings,
                            "followup": FollowUpSection}


def sla_rules(sla: SlaSection, settings: Settings) -> SlaRules:
    table: dict[tuple[str, str], SlaPolicy] = {}
    for p in sla.policies:  # first match wins, as in routing
        for cat in p.categories or tuple(c.code for c in settings.categories):
            for urg in p.urgencies or tuple(u.code for u in settings.urgencies):
                table.setdefault((cat, urg), SlaPolicy(p.sign_within_hours, p.reply_within_working_days,
                                                       p.reply_within_hours, p.clock))
    return SlaRules(table, sla.return_within_working_days, sla.extension_max_working_days,
                    sla.follow_up_after_working_days)


def work_calendar(cal: CalendarSection, settings: Settings) -> WorkCalendar:
    return WorkCalendar(tz=settings.tz, extra_holidays=frozenset(cal.extra_holidays),
                        extra_workdays=frozenset(cal.extra_workdays), hours=cal.working_hours)


def dispatch_config(settings: Settings) -> DispatchConfig:
    """Validate every section; raise `ConfigError` naming every problem."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    where = " + ".join(settings.sources) or "config"
    for name, model in SECTIONS.items():
        raw = settings.extensions.get(name)
        if raw is None:
            raw = [] if model is _Routing else {}
        if model is not _Routing and not isinstance(raw, dict):
            problems.append(f"{where}: {name}: must be a mapping of keys (see {DOC})")
            continue
        try:
            values[name] = model.validate_python(raw) if model is _Routing else model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(section_problems(settings, name, exc, DOC))
    if not problems:
        problems = [f"{where}: {p}" for p in cross_check(settings, values["routing"], values["sla"],
                                                         values["escalation"])]
    if problems:
        raise ConfigError(problems)
    return DispatchConfig(values["routing"], values["sla"], values["calendar"], values["escalation"],
                          values["delivery"], sla_rules(values["sla"], settings),
                          work_calendar(values["calendar"], settings), values["followup"])


def cross_check(s: Settings, routing: tuple[RoutingRule, ...], sla: SlaSection,
                escalation: EscalationSettings) -> list[str]:
    """Dispatch's sections against the core's reference data; each names the key and the fix."""
    out: list[str] = []
    depts = {d.code for d in s.departments}
    cats = {c.code for c in s.categories}
    urgs = {u.code for u in s.urgencies}
    known = {"categories": cats, "subjects": s.subject_codes(),
             "service_codes": {leaf.code for _, leaf in s.leaf_subjects()}, "areas": s.area_codes(),
             "legacy_lines": {line.number for line in s.legacy_lines}}
    where_defined = {"areas": "departments (town/village)", "service_codes": "subjects (leaf codes)"}
    for i, r in enumerate(routing):
        key = f"routing[{i}]"
        if r.department not in depts:
            out.append(f"{key}.department: {r.department!r} is not a department code")
        out.extend(f"{key}.assisting: {a!r} must be a department code other than the lead's"
                   for a in r.assisting if a not in depts or a == r.department)
        out.extend(f"{key}.{field_name}: {v!r} is unknown; use one defined under "
                   f"{where_defined.get(field_name, field_name)}"
                   for field_name, codes in known.items() for v in getattr(r, field_name) if v not in codes)
    for i, p in enumerate(sla.policies):
        out.extend(f"sla.policies[{i}].categories: {c!r} is not a category code" for c in p.categories if c not in cats)
        out.extend(f"sla.policies[{i}].urgencies: {u!r} is not an urgency code" for u in p.urgencies if u not in urgs)
    if not out:
        table = sla_rules(sla, s).policies
        missing = [f"{c}/{u}" for c in sorted(cats) for u in sorted(urgs) if (c, u) not in table]
        if missing:
            out.append(f"sla.policies: no policy covers {', '.join(missing)}; add a policy for them "
                       "(a policy without categories/urgencies covers all)")
    if s.department(escalation.supervision_office) is None:
        out.append(f"escalation.supervision_office: {escalation.supervision_office!r} is not a department code; "
                   "name the 督查室's department (e.g. dcs)")
    return out

"""The `escalation:` and `delivery:` sections: defaults, and errors that name the key."""

from __future__ import annotations

import doctest
from typing import TYPE_CHECKING

import pytest

import dispatch.escalation
import dispatch.routing
import dispatch.webhooks
import dispatch.workcalendar
import hotline.outbox
from dispatch.config import dispatch_config
from hotline.errors import ConfigError
from hotline.settings import load_settings

if TYPE_CHECKING:
    from pathlib import Path


def test_defaults() -> None:
    cfg = dispatch_config(load_settings({}))
    assert cfg.escalation.supervision_office == "dcs"
    assert cfg.delivery.lease_seconds >= 2 * cfg.delivery.timeout_seconds


def test_errors_name_the_key_and_the_fix(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("escalation: {supervision_office: nobody, reply_reminder_at: 1.5, colour: red}\n"
                     "delivery: {timeout_seconds: 30, lease_seconds: 40}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        dispatch_config(load_settings({"HOTLINE_CONFIG": str(extra)}))
    text = "\n".join(err.value.problems)
    assert "escalation.reply_reminder_at: Input should be less than 1" in text
    assert "escalation.colour: unknown key" in text
    assert "delivery: lease_seconds must be at least twice timeout_seconds" in text

    extra.write_text("escalation: {supervision_office: nobody}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        dispatch_config(load_settings({"HOTLINE_CONFIG": str(extra)}))
    assert "escalation.supervision_office: 'nobody' is not a department code" in err.value.problems[0]


@pytest.mark.parametrize("module", [dispatch.routing, dispatch.webhooks, dispatch.workcalendar, dispatch.escalation,
                                    hotline.outbox])
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0

"""`hotline dialplan render|check` on the repository's dialplans and on broken copies."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.settings import load_settings
from hotline.telephony.config import telephony_settings
from hotline.telephony.dialplan import DIALPLANS, GENERATED, check, render, write


@pytest.fixture
def settings(tmp_path):
    return load_settings({"HOTLINE_DATA_DIR": str(tmp_path / "var")})


@pytest.fixture
def plans(tmp_path, settings):
    d = tmp_path / "dialplans"
    shutil.copytree(DIALPLANS, d)
    write(settings, telephony_settings(settings), d)
    return d


def test_the_shipped_dialplan_is_rendered_from_config_and_checks_clean(settings, plans):
    tel = telephony_settings(settings)
    for name, text in render(settings, tel).items():
        assert (DIALPLANS / name).read_text(encoding="utf-8") == text, f"{name} is stale: run hotline dialplan render"
    assert check(settings, tel, plans) == []
    generated = (plans / GENERATED).read_text(encoding="utf-8")
    assert "exten => 12315,1" in generated and "Set(__LEGACY_LINE=12315)" in generated
    assert "exten => 6101,1" in generated  # 市场监管局's transfer number


def test_no_ivr_menu_before_the_queue():
    """GB/T 33358: greeting, then the queue; the caller is never asked to press a key first."""
    text = (DIALPLANS / "extensions.conf").read_text(encoding="utf-8")
    inbound = text[text.index("[from-pstn]"):text.index("[dialect-line]")]
    assert "Background(" not in inbound and "WaitExten(" not in inbound and "Read(" not in inbound
    assert inbound.index("Playback(hotline/welcome)") < inbound.index("Queue(")
    assert "ReceiveFAX(" in inbound and "MixMonitor(" in inbound


def test_check_finds_what_asterisk_would_choke_on(settings, plans):
    tel = telephony_settings(settings)
    ext = plans / "extensions.conf"
    text = ext.read_text(encoding="utf-8")
    ext.write_text(text.replace("Goto(after-queue,s,1)", "Goto(after-queue,nowhere,1)", 1)
                   .replace("[after-hours]", "[after-hours", 1), encoding="utf-8")
    gen = plans / GENERATED
    gen.write_text(gen.read_text(encoding="utf-8").replace("exten => 12369,1", "exten => 99999,1"), encoding="utf-8")
    (plans / "hotline-queues.conf").write_text("", encoding="utf-8")
    problems = "\n".join(check(settings, tel, plans))
    assert "after-queue,nowhere which does not exist" in problems
    assert "malformed context header '[after-hours'" in problems
    assert "legacy line 12369" in problems
    assert "Queue(hotline-12345) but no queue file defines" in problems


def test_cli_check_fails_with_one_line_per_problem(plans):
    (plans / "hotline-queues.conf").unlink()
    run = subprocess.run([sys.executable, "-m", "hotline", "dialplan", "check", "--dir", str(plans)],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "hotline-queues.conf: missing; run `hotline dialplan render`" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "hotline", "pbx-sim", "--agents", "abc", "--secret", "x"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr


def test_telephony_settings_are_validated_with_the_key(tmp_path):
    from hotline.errors import ConfigError

    extra = tmp_path / "extra.yaml"
    extra.write_text("telephony:\n  transfer: teleport\n  callbak: {}\n", encoding="utf-8")
    s = load_settings({"HOTLINE_DATA_DIR": str(tmp_path), "HOTLINE_CONFIG": str(extra)})
    with pytest.raises(ConfigError) as exc:
        telephony_settings(s)
    text = "\n".join(exc.value.problems)
    assert "telephony.transfer" in text and "telephony.callbak" in text


def test_the_wss_certificate_must_exist(tmp_path):
    """http.conf's TLS paths are checked before a deployment wonders why WSS never listens."""
    from hotline.telephony.media import self_signed
    from hotline.telephony.trial import tls_files

    problem = tls_files(DIALPLANS, tmp_path / "nothing-here")
    assert isinstance(problem, str) and "hotline dialplan cert" in problem
    crt, key = self_signed(tmp_path / "keys", host="10.0.0.5")
    assert tls_files(DIALPLANS, tmp_path / "keys") == (crt, key)
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_no_opus_without_a_translator():
    """This Asterisk has no codec_opus: an endpoint allowing opus would fail against G.711."""
    modules = (DIALPLANS / "modules.conf").read_text(encoding="utf-8")
    assert "autoload = no" in modules
    for line in (DIALPLANS / "pjsip.conf").read_text(encoding="utf-8").splitlines():
        if line.startswith("allow"):
            assert "opus" not in line.split(";")[0] or "load => codec_opus.so" in modules, line

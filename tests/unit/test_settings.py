"""Settings are validated once, and every problem names the file (or variable), the key and the fix."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from dispatch.config import dispatch_config
from hotline import root
from hotline.errors import ConfigError
from hotline.root import MODULES
from hotline.settings import DEFAULT_CONFIG, load_settings

if TYPE_CHECKING:
    from pathlib import Path

SECTIONS = {s for m in MODULES for s in m.sections}  # the modules' sections: any other unknown key is a mistake


def load(tmp_path: Path, overlay: str | None = None, **env: str):
    e = {"HOTLINE_DATA_DIR": str(tmp_path)}
    if overlay is not None:
        (tmp_path / "extra.yaml").write_text(overlay, encoding="utf-8")
        e["HOTLINE_CONFIG"] = str(tmp_path / "extra.yaml")
    return load_settings({**e, **env}, sections=SECTIONS)


def problems(tmp_path: Path, overlay: str | None = None, **env: str) -> list[str]:
    """What every `hotline` command would say: the core's sections and the modules' (routing and
    SLA are dispatch's) checked."""
    e = {"HOTLINE_DATA_DIR": str(tmp_path), **env}
    if overlay is not None:
        (tmp_path / "extra.yaml").write_text(overlay, encoding="utf-8")
        e["HOTLINE_CONFIG"] = str(tmp_path / "extra.yaml")
    with pytest.raises(ConfigError) as exc:
        root.load_settings(e)
    return exc.value.problems


def test_the_default_config_is_a_whole_sample_county(tmp_path: Path) -> None:
    s = load(tmp_path)
    levels = {lvl: sum(d.level == lvl for d in s.departments) for lvl in ("county", "town", "village")}
    assert levels["county"] >= 20 and levels["town"] >= 15 and levels["village"] >= 30
    towns = [d.code for d in s.departments if d.level == "town"]
    for town in towns:
        assert 2 <= sum(d.parent == town for d in s.departments) <= 4, town
    numbers = {line.number for line in s.legacy_lines}
    assert {"12315", "12333", "12369", "12319", "12358", "12366"} <= numbers
    assert {c.name for c in s.categories} >= {"咨询", "求助", "投诉", "举报", "建议"}
    assert len(dispatch_config(s).rules.policies) == len(s.categories) * len(s.urgencies)
    assert s.is_sqlite and s.database_url.endswith("/hotline.db")


def test_env_overrides_and_overlay_merge(tmp_path: Path) -> None:
    s = load(tmp_path, "http:\n  port: 9000\nhotline:\n  name: 测试热线\n", HOTLINE_HTTP_HOST="127.0.0.1",
             HOTLINE_DISPATCH_AUTO="true", HOTLINE_OPEN311_API_KEYS="a, b,,c",
             HOTLINE_DATABASE_URL="postgresql://u@db/hotline")
    assert (s.http.host, s.http.port, s.hotline.name) == ("127.0.0.1", 9000, "测试热线")
    assert s.hotline.timezone == "Asia/Shanghai"  # the rest of the mapping is kept
    assert s.dispatch.auto is True and s.open311.api_keys == ("a", "b", "c")
    assert not s.is_sqlite
    assert len(s.departments) > 50  # the overlay did not name departments: the default list stays


def test_an_overlay_list_replaces_the_default_list(tmp_path: Path) -> None:
    s = load(tmp_path, "departments:\n  - {code: town1, name: 一镇, level: town}\n"
                       "  - {code: v1, name: 一村, level: village, parent: town1}\n"
                       "legacy_lines: []\nrouting:\n  - {department: v1}\n")
    assert [d.code for d in s.departments] == ["town1", "v1"]


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    overlay = "departments:\n  - {code: t, name: 镇, level: town, webhook: {url: 'https://t.example/hook', secret: '${T_SECRET}'}}\nlegacy_lines: []\nrouting: []\n"
    s = load(tmp_path, overlay, T_SECRET="s3cret")
    assert s.departments[0].webhook.secret == "s3cret"
    msg = problems(tmp_path, overlay)
    assert any("${T_SECRET}" in m and "not set" in m for m in msg)


@pytest.mark.parametrize(("overlay", "env", "expected"), [
    ("http:\n  port: [1\n", {}, "extra.yaml: line 3, column 1 is not valid YAML"),
    ("htttp:\n  port: 1\n", {}, "htttp: unknown key"),
    ("http:\n  prot: 1\n", {}, "http.prot: unknown key"),
    ("http:\n  port: 99999\n", {}, "http.port: Input should be less than or equal to 65535"),
    (None, {"HOTLINE_HTTP_PORT": "eighty"}, "environment variable HOTLINE_HTTP_PORT"),
    ("hotline:\n  timezone: Mars/Base\n", {}, "unknown time zone 'Mars/Base'"),
    ("departments:\n  - {code: v1, name: 一村, level: village, parent: nowhere}\nlegacy_lines: []\nrouting: []\n", {},
     "departments[0] (v1).parent: a village/community needs the code of its town/street"),
    ("routing:\n  - {department: ghost}\n", {}, "routing[0].department: 'ghost' is not a department code"),
    ("routing:\n  - {department: scjgj, areas: [atlantis]}\n", {}, "routing[0].areas: 'atlantis' is unknown"),
    ("sla:\n  policies:\n    - {categories: [inquiry], sign_within_hours: 2, reply_within_working_days: 1}\n", {},
     "sla.policies: no policy covers"),
    ("sla:\n  policies:\n    - {sign_within_hours: 2}\n", {}, "give exactly one of reply_within_working_days"),
    ("departments:\n  - {code: 'Bad Code', name: x, level: county}\n", {}, "departments[0] (Bad Code).code"),
])
def test_errors_name_the_place_and_the_fix(tmp_path: Path, overlay: str | None, env: dict[str, str],
                                           expected: str) -> None:
    found = problems(tmp_path, overlay, **env)
    assert any(expected in p for p in found), found


def test_check_config_cli_reports_without_a_traceback(tmp_path: Path) -> None:
    # Field errors are reported first; cross-references once the fields parse.
    (tmp_path / "bad.yaml").write_text("routing:\n  - {department: ghost}\n", encoding="utf-8")
    env = {"HOTLINE_CONFIG": str(tmp_path / "bad.yaml"), "HOTLINE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    bad = subprocess.run([sys.executable, "-m", "hotline", "check-config"], env=env, capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "bad.yaml: routing[0].department: 'ghost' is not a department code" in bad.stderr
    env.pop("HOTLINE_CONFIG")
    good = subprocess.run([sys.executable, "-m", "hotline", "check-config"], env=env, capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert good.returncode == 0, good.stderr
    assert "departments: 83 (county 26, town 15, village 42)" in good.stdout
    assert "routing rules:" in good.stdout and "SLA policies:" in good.stdout


def test_the_default_file_is_where_the_package_looks() -> None:
    assert DEFAULT_CONFIG.is_file()


def test_check_config_also_validates_the_modules_sections(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("telephony:\n  queues: 5\nchannels:\n  sms: {follow_up_window_minutes: -3}\n"
                                       "escalation:\n  nonsense: 1\n", encoding="utf-8")
    env = {"HOTLINE_CONFIG": str(tmp_path / "bad.yaml"), "HOTLINE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "hotline", "check-config"], env=env, capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    for key in ("telephony.queues", "follow_up_window_minutes", "escalation"):
        assert key in out.stderr, (key, out.stderr)

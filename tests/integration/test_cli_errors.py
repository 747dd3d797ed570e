"""An operator's mistake gets one line saying what is wrong (Chinese first) and exit status 1,
never a traceback. Through the real entry point, `hotline.cli.main`, in-process (one real
process below, to show the installed command behaves the same)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from hotline import cli
from tests.conftest import PG_URL, require_service

if TYPE_CHECKING:
    from pathlib import Path

REFUSED = "postgresql://nobody@127.0.0.1:1/none"  # nothing listens on port 1
BAD_ROLE = PG_URL.replace("postgres@", "no_such_role_12345@")


@pytest.fixture
def hotline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run `hotline ARGS` with the given database URL; (exit status, stderr)."""
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    monkeypatch.delenv("HOTLINE_DATABASE_SCHEMA", raising=False)
    monkeypatch.setattr("hotline.logs.setup_logging", lambda *a, **k: None)  # keep pytest's log capture

    def run(args: list[str], url: str | None = None) -> tuple[int, str]:
        if url is None:
            monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
        capsys.readouterr()
        code = cli.main(args)
        return code, capsys.readouterr().err

    return run


def one_clear_line(err: str, start: str) -> None:
    assert "Traceback" not in err and "File \"" not in err, err
    lines = err.strip().splitlines()
    assert lines[0].startswith(start), err
    assert any("\u4e00" <= ch <= "\u9fff" for ch in lines[0] + (lines[1] if len(lines) > 1 else "")), err


def test_serve_with_a_port_out_of_range_says_so(tmp_path: Path):
    out = subprocess.run([sys.executable, "-m", "hotline", "serve", "--port", "99999"], cwd=tmp_path,
                         env={**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "var")},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    one_clear_line(out.stderr, "hotline: 端口 99999 无效")
    assert len(out.stderr.strip().splitlines()) == 1


MYSQL = "mysql://root:secret@127.0.0.1/hotline"


@pytest.mark.parametrize(("args", "url"), [(["db", "upgrade"], MYSQL), (["serve"], "not-a-url"),
                                           (["check-config"], MYSQL), (["check-config"], "not-a-url")])
def test_an_unsupported_database_url_is_a_configuration_error(hotline, args, url):
    code, err = hotline(args, url)
    assert code == 1
    one_clear_line(err, "配置有误 / configuration error:")
    assert "HOTLINE_DATABASE_URL" in err
    assert ("不支持的数据库 mysql" if url.startswith("mysql") else "不是数据库 URL") in err
    assert "secret" not in err


def test_check_config_still_accepts_the_urls_operators_paste(hotline):
    for url in ("postgres://u:p@db.example/hotline", "postgresql+asyncpg://u@127.0.0.1/x", "sqlite:///var/h.db"):
        assert hotline(["check-config"], url)[0] == 0, url


@pytest.mark.parametrize("args", [
    ["apikey", "create", "--department", "scjgj"],
    ["user", "add", "--username", "li", "--role", "agent", "--password", "a-long-password"],
    ["outbox", "status"],
    ["serve"],
])
def test_a_refused_database_is_one_line(hotline, args):
    code, err = hotline(args, REFUSED)
    assert code == 1
    one_clear_line(err, "hotline: 无法连接数据库 / cannot reach the database at "
                        "postgresql://nobody@127.0.0.1:1/none: ConnectionRefusedError")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.pg
@pytest.mark.parametrize("args", [
    ["serve"],
    ["user", "add", "--username", "li", "--role", "agent", "--password", "a-long-password"],
])
def test_a_database_role_that_does_not_exist_is_one_line(hotline, args):
    require_service(PG_URL, 5432, "PostgreSQL")
    code, err = hotline(args, BAD_ROLE)
    assert code == 1
    one_clear_line(err, "hotline: 无法连接数据库 / cannot reach the database at ")
    assert 'role "no_such_role_12345" does not exist' in err and len(err.strip().splitlines()) == 1

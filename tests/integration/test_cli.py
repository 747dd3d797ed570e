"""The `hotline` command as an operator runs it: real processes, real databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import TYPE_CHECKING

import pytest

from tests.conftest import PG_URL

if TYPE_CHECKING:
    from pathlib import Path


def run(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hotline", *args], env={**os.environ, **env}, cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=120)


def base_env(tmp_path: Path, db_kind: str, schema: str | None) -> dict[str, str]:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_LOG_FORMAT": "text"}
    if db_kind == "pg":
        env |= {"HOTLINE_DATABASE_URL": PG_URL, "HOTLINE_DATABASE_SCHEMA": schema or ""}
    return env


def test_db_upgrade_user_add_and_apikey(db_kind, tmp_path, request):
    schema = request.getfixturevalue("pg_schema") if db_kind == "pg" else None
    env = base_env(tmp_path, db_kind, schema)
    up = run(["db", "upgrade"], env, tmp_path)
    assert up.returncode == 0, up.stderr
    assert "applying 0001_core, " in up.stdout and "department directory: 83 change(s)" in up.stdout
    again = run(["db", "upgrade"], env, tmp_path)
    assert "up to date" in again.stdout and "0 change(s)" in again.stdout

    added = run(["user", "add", "--username", "zhangmin", "--role", "agent", "--extension", "8001",
                 "--password-stdin"], env, tmp_path, stdin="a-long-password\n")
    assert added.returncode == 0 and "zhangmin (agent) added" in added.stdout, added.stderr
    dup = run(["user", "add", "--username", "zhangmin", "--role", "agent", "--password-stdin"], env, tmp_path,
              stdin="a-long-password\n")
    assert dup.returncode == 1 and dup.stderr.strip() == "hotline: 用户名 zhangmin 已存在"
    weak = run(["user", "add", "--username", "li", "--role", "agent", "--password-stdin"], env, tmp_path, stdin="x\n")
    assert weak.returncode == 1 and "密码至少 8 位" in weak.stderr
    key = run(["apikey", "create", "--department", "scjgj"], env, tmp_path)
    assert key.returncode == 0 and key.stdout.strip().splitlines()[-1].startswith("hk_")
    bad = run(["apikey", "create", "--department", "nope"], env, tmp_path)
    assert bad.returncode == 1 and "部门 nope 不存在" in bad.stderr and "Traceback" not in bad.stderr


def test_an_unreachable_database_is_one_line(tmp_path):
    out = run(["db", "upgrade"], {"HOTLINE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                                  "HOTLINE_DATA_DIR": str(tmp_path)}, tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("hotline: 无法连接数据库 / cannot reach the database at postgresql://nobody@127.0.0.1:1/none: ConnectionRefusedError")


def test_help_lists_the_commands(tmp_path):
    out = run(["--help"], {}, tmp_path)
    assert out.returncode == 0
    for cmd in ("serve", "db", "check-config", "user", "apikey"):
        assert cmd in out.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_serve_demo_starts_on_a_fresh_machine(tmp_path, db_kind):
    port = _free_port()
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_HTTP_HOST": "127.0.0.1",
           "HOTLINE_HTTP_PORT": str(port), "HOTLINE_LOG_FORMAT": "json"}
    proc = subprocess.Popen([sys.executable, "-m", "hotline", "serve", "--demo"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "server did not become ready"
                time.sleep(0.3)
        assert (tmp_path / "var" / "hotline.db").is_file()
        assert (tmp_path / "var" / "secret_key").is_file()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "demo accounts" in out and f"http://127.0.0.1:{port}/" in out



def test_accounts_and_keys_from_the_shell(tmp_path, monkeypatch, capsys):
    """Issue 9 item 10: list, disable, reset users; list, revoke, rotate department keys.
    In-process (`hotline.cli.main`), as the subprocess tests above cover the entry point."""
    import io

    from hotline.cli import main

    for k, v in base_env(tmp_path, "sqlite", None).items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)

    def hotline(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert hotline("db", "upgrade")[0] == 0
    assert hotline("user", "add", "--username", "wangfang", "--role", "agent", "--password-stdin",
                   stdin="a-long-password\n")[0] == 0
    for args in (("disable", "--username", "wangfang"), ("set-extension", "--username", "wangfang", "--extension",
                                                          "8002"), ("set-role", "--username", "wangfang", "--role",
                                                                    "supervisor")):
        code, _, err = hotline("user", *args)
        assert code == 0, err
    code, out, _ = hotline("user", "reset-password", "--username", "wangfang", "--password-stdin",
                           stdin="another-long-one\n")
    assert code == 0 and "logins ended" in out
    _, listed, _ = hotline("user", "list")
    assert "wangfang" in listed and "supervisor" in listed and "8002" in listed and "disabled" in listed
    code, _, err = hotline("user", "disable", "--username", "nobody")
    assert code == 1 and err.strip() == "hotline: 用户 nobody 不存在"

    _, out, _ = hotline("apikey", "create", "--department", "scjgj", "--label", "业务系统")
    whole = out.strip().splitlines()[-1]
    prefix = whole.split("_")[1]
    code, rotated, err = hotline("apikey", "rotate", whole)
    assert code == 0 and rotated.strip().splitlines()[-1].startswith("hk_"), err
    _, listed, _ = hotline("apikey", "list", "--department", "scjgj")
    assert f"hk_{prefix}" in listed and "revoked" in listed and listed.count("业务系统") == 2
    code, _, err = hotline("apikey", "rotate", prefix)
    assert code == 1 and "已吊销" in err and "Traceback" not in err
    new_prefix = rotated.strip().splitlines()[-1].split("_")[1]
    assert hotline("apikey", "revoke", new_prefix)[0] == 0
    assert "active" not in hotline("apikey", "list")[1].split("\n", 1)[1]

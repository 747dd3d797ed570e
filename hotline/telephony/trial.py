"""Run the project's `dialplans/` in a real Asterisk, from a temporary folder.

`hotline dialplan check --asterisk` and the tests use it. `prepare_etc` copies the dialplan
files and rewrites what must differ on a machine shared with other Asterisks: the AMI port,
the HTTP and HTTPS (WebSocket) ports, the SIP ports (free ports chosen now), the AMI secret,
the `[globals]` a caller wants changed (recording and fax folders, queue timeouts), and adds
a `logger.conf` so every ERROR and WARNING lands in `RUN/log/messages.log`.

`AsteriskRun` drives the relocatable build's script (`asterisk start|stop|cli`, see
`../shared/asterisk/README.md`); `problems()` is what Asterisk logged as ERROR or WARNING.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from hotline.settings import PACKAGE_ROOT

DEFAULT_SCRIPT = PACKAGE_ROOT.parent / "shared" / "asterisk" / "asterisk"
LOGGER = "[logfiles]\nmessages.log => notice,warning,error,verbose\n"


class TrialError(Exception):
    """Asterisk could not be started (the reason and the end of its log)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def set_key(text: str, key: str, value: str, *, section: str | None = None) -> str:
    """`key = value` instead of the first `key = ...` (after `[section]` when given)."""
    start = 0
    if section is not None:
        m = re.search(rf"^\[{re.escape(section)}\][^\n]*$", text, flags=re.M)
        if m is None:
            raise KeyError(f"no [{section}]")
        start = m.end()
    m = re.compile(rf"^{re.escape(key)}\s*=>?[^\n]*$", flags=re.M).search(text, start)
    if m is None:
        raise KeyError(f"no {key}")
    return text[:m.start()] + f"{key} = {value}" + text[m.end():]


@dataclass
class Ports:
    ami: int = field(default_factory=free_port)
    http: int = field(default_factory=free_port)
    https: int = field(default_factory=free_port)
    sip: int = field(default_factory=free_port)


def prepare_etc(src: Path, etc: Path, *, ports: Ports, secret: str, globals_: dict[str, str] | None = None,
                tls: tuple[Path, Path] | None = None) -> None:
    """Copy `src` (the dialplans folder) to `etc`, on `ports`, with `secret` for the AMI user.

    `tls`: (certificate, key) for http.conf's WSS listener; without it TLS is switched off,
    since the deployment's certificate path does not exist here.
    """
    if etc.exists():
        shutil.rmtree(etc)
    shutil.copytree(src, etc, ignore=shutil.ignore_patterns("*.md", "sounds", "keys"))

    def edit(name: str, change: object) -> None:
        path = etc / name
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]

    edit("manager.conf", lambda t: set_key(set_key(t, "port", str(ports.ami), section="general"),
                                           "secret", secret, section="hotline"))

    def http(t: str) -> str:
        t = set_key(set_key(t, "bindaddr", "127.0.0.1"), "bindport", str(ports.http))
        if tls is None:
            return set_key(t, "tlsenable", "no")
        t = set_key(t, "tlsbindaddr", f"127.0.0.1:{ports.https}")
        return set_key(set_key(t, "tlscertfile", str(tls[0])), "tlsprivatekey", str(tls[1]))
    edit("http.conf", http)
    edit("pjsip.conf", lambda t: re.sub(r"^bind = 0\.0\.0\.0:\d+", f"bind = 127.0.0.1:{ports.sip}", t, flags=re.M))

    def globals_edit(t: str) -> str:
        for k, v in (globals_ or {}).items():
            t = set_key(t, k, v, section="globals")
        return t
    edit("extensions.conf", globals_edit)
    (etc / "logger.conf").write_text(LOGGER, encoding="utf-8")


class AsteriskRun:
    """One run folder of the relocatable Asterisk: start, stop, cli, its log."""

    def __init__(self, script: Path, etc: Path, run: Path, *, data: Path | None = None) -> None:
        self.script, self.etc, self.run, self.data = script, etc, run, data
        self.pid: int | None = None

    @property
    def log(self) -> Path:
        return self.run / "log" / "messages.log"

    def command(self) -> list[str]:
        cmd = [str(self.script), "start", "--etc", str(self.etc), "--run", str(self.run)]
        return [*cmd, "--data", str(self.data)] if self.data is not None else cmd

    def start(self) -> int:
        r = subprocess.run(self.command(), capture_output=True, text=True, check=False)
        if r.returncode:
            raise TrialError((r.stderr or r.stdout).strip()[-3000:])
        self.pid = int(r.stdout.split()[-1])
        return self.pid

    def stop(self) -> None:
        subprocess.run([str(self.script), "stop", "--run", str(self.run)], capture_output=True, check=False)
        self.pid = None

    def cli(self, command: str) -> str:
        r = subprocess.run([str(self.script), "cli", "--run", str(self.run), command], capture_output=True,
                           text=True, check=False)
        return r.stdout + r.stderr

    def problems(self) -> list[str]:
        """The ERROR and WARNING lines Asterisk logged, without their time stamps."""
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return [re.sub(r"^\[[^\]]*\]\s*", "", x) for x in lines if re.search(r"\] (ERROR|WARNING)\[", x)]


def tls_files(dialplans: Path, keys: Path | None) -> tuple[Path, Path] | str:
    """The WSS certificate and key: from `keys/asterisk.{crt,key}`, else http.conf's own
    paths; a one-line problem when they do not exist (browsers' phones would never connect)."""
    text = (dialplans / "http.conf").read_text(encoding="utf-8")
    if not re.search(r"^tlsenable\s*=\s*yes", text, flags=re.M):
        return "http.conf: tlsenable is not yes: no WSS for the browser phones"
    named = {k: Path(v.strip()) for k, v in re.findall(r"^(tlscertfile|tlsprivatekey)\s*=\s*(\S+)", text, flags=re.M)}
    crt = keys / "asterisk.crt" if keys else named.get("tlscertfile")
    key = keys / "asterisk.key" if keys else named.get("tlsprivatekey")
    missing = [str(p) for p in (crt, key) if p is None or not p.is_file()]
    if missing or crt is None or key is None:
        return (f"http.conf: TLS file(s) {', '.join(missing)} do not exist: run `hotline dialplan cert --out DIR` "
                "(a lab) or install the real certificate there")
    return crt, key


def data_dir(sounds: Path | None, into: Path, script: Path) -> Path | None:
    """An `astdatadir` with the hotline's prompts and music on hold (`hotline dialplan prompts`
    output), and the build's own XML documentation, without which Asterisk 22 does not boot."""
    if sounds is None:
        return None
    dist = subprocess.run([str(script), "dist"], capture_output=True, text=True, check=False).stdout.strip()
    docs = Path(dist) / "var" / "lib" / "asterisk" / "documentation"
    into.mkdir(parents=True, exist_ok=True)
    for name in ("sounds", "moh"):
        if (sounds / name).is_dir() and not (into / name).exists():
            (into / name).symlink_to((sounds / name).resolve())
    if docs.is_dir() and not (into / "documentation").exists():
        (into / "documentation").symlink_to(docs)
    return into


def trial(src: Path, workdir: Path, *, script: Path = DEFAULT_SCRIPT, sounds: Path | None = None,
          tls: tuple[Path, Path] | None = None) -> list[str]:
    """Start Asterisk on `src`, collect what it logged as ERROR/WARNING, stop it."""
    if not script.exists():
        raise TrialError(f"{script}: no Asterisk script here (give --asterisk-script)")
    etc = workdir / "etc"
    prepare_etc(src, etc, ports=Ports(), secret="trial-" + socket.gethostname(), tls=tls,
                globals_={"RECORDINGS": str(workdir / "monitor"), "FAX_SPOOL": str(workdir / "fax")})
    run = AsteriskRun(script, etc, workdir / "run", data=data_dir(sounds, workdir / "data", script))
    try:
        run.start()
        return run.problems()
    finally:
        run.stop()

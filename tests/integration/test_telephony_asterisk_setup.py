"""What the real Asterisk needs around the dialplan: an explicit, clean module set (`hotline
dialplan check --asterisk`), the WSS certificate of the browser phones, G.711 only, and the
Mandarin prompts and hold music of `hotline dialplan prompts`."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import sys
import wave

from hotline.telephony.media import self_signed, speak
from tests.asterisk_support import REPO, SCRIPT, Caller, require_asterisk, until

WS_CHECK = SCRIPT.parent / "ws_register_check.py"


def hotline(args: list[str], tmp_path) -> subprocess.CompletedProcess[str]:
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "var"), "HOTLINE_LOG_FORMAT": "text", "PATH": "/usr/bin:/bin",
           "HOTLINE_ASTERISK": str(SCRIPT)}
    return subprocess.run([sys.executable, "-m", "hotline", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_dialplan_check_loads_the_files_into_the_real_asterisk(tmp_path, prompts_dir):
    """Item 8: autoload = no and explicit loads: the real Asterisk logs no ERROR or WARNING;
    an autoloading modules.conf (what was shipped) is reported line by line."""
    require_asterisk()
    keys = tmp_path / "keys"
    self_signed(keys)
    r = hotline(["dialplan", "check", "--asterisk", "--keys", str(keys), "--sounds", str(prompts_dir)], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no error or warning" in r.stdout

    broken = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", broken)
    (broken / "modules.conf").write_text("[modules]\nautoload = yes\nnoload => chan_iax2.so\n", encoding="utf-8")
    r = hotline(["dialplan", "check", "--dir", str(broken), "--asterisk", "--keys", str(keys),
                 "--sounds", str(prompts_dir)], tmp_path)
    assert r.returncode == 1
    logged = [x for x in r.stdout.splitlines() if x.startswith("  - asterisk: ")]
    assert any("declined to load" in x for x in logged), r.stdout
    assert any("Unable to load config file" in x for x in logged), r.stdout
    assert "problem(s)" in r.stderr and "Traceback" not in r.stderr


async def test_browser_phones_wss_and_prompts_on_the_real_asterisk(real_asterisk, tmp_path, prompts_dir):
    """Item 5: WSS listens with the `dialplan cert` certificate, a WebRTC endpoint registers over
    ws at /ws, no opus is offered without a translator, calls play the generated prompts."""
    crt, key = self_signed(tmp_path / "keys", host="desk.lab")
    pbx = real_asterisk(tls=(crt, key), sounds=prompts_dir)
    pbx.start()
    assert pbx.problems() == []
    status = pbx.cli("http show status")
    assert f"HTTPS Server Enabled and Bound to 127.0.0.1:{pbx.ports.https}" in status, status
    ctx = ssl.create_default_context(cafile=str(crt))
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", pbx.ports.https), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname="desk.lab") as tls:
        subject = dict(x[0] for x in tls.getpeercert()["subject"])
    assert subject["commonName"] == "desk.lab"
    check = await asyncio.create_subprocess_exec(
        sys.executable, str(WS_CHECK), "--url", f"ws://127.0.0.1:{pbx.ports.http}/ws", "--user", "8002",
        "--password", "change-me-8002", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out = (await check.communicate())[0].decode()
    assert check.returncode == 0, out[-3000:]
    assert "200 OK" in out
    endpoint = pbx.cli("pjsip show endpoint 8002")
    assert "ulaw" in endpoint and "opus" not in endpoint
    assert "default" in pbx.cli("moh show classes")
    async with Caller(pbx) as caller:
        await caller.call("13600136001", patience=3)
        await until(lambda: "hotline/welcome" in pbx.run.log.read_text(encoding="utf-8"), limit=20)
        await until(lambda: _no_channels(caller), limit=20)
    missing = [x for x in pbx.problems() if "does not exist" in x or "Unable to open" in x]
    assert missing == []


async def _no_channels(caller: Caller) -> bool:
    return not await caller.channels()


def test_prompts_command_makes_8khz_files_and_takes_recorded_ones(tmp_path):
    """Item 5: `hotline dialplan prompts` with espeak-ng + sox; a recorded prompt replaces the
    synthetic one of the same name (converted to 8 kHz mono)."""
    recorded = tmp_path / "recorded" / "hotline"
    recorded.mkdir(parents=True)
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(recorded / "welcome.wav"), "synth", "1.5", "sine",
                    "440"], check=True)
    out = tmp_path / "data"
    r = hotline(["dialplan", "prompts", "--out", str(out), "--recorded", str(tmp_path / "recorded")], tmp_path)
    assert r.returncode == 0, r.stderr
    for name in ("hotline/welcome", "hotline/please-hold", "hotline/survey", "queue-thereare", "digits/5"):
        with wave.open(str(out / "sounds" / "zh" / f"{name}.wav")) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2), name
            seconds = w.getnframes() / 8000
        if name == "hotline/welcome":
            assert abs(seconds - 1.5) < 0.05  # the recording, not the synthetic voice
        else:
            assert seconds > 0.2
    assert (out / "moh" / "hotline-hold.wav").stat().st_size > 8000
    cantonese = tmp_path / "yue.wav"
    speak("您好，这里是12345热线", cantonese, voice="yue")
    with wave.open(str(cantonese)) as w:
        assert w.getframerate() == 8000 and w.getnframes() > 4000
    r = hotline(["dialplan", "prompts", "--out", str(out), "--voice", "klingon"], tmp_path)
    assert r.returncode == 1 and "voice" in r.stderr and "Traceback" not in r.stderr

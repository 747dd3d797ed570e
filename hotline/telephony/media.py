"""What the dialplan plays and the WSS listener needs: voice prompts, music on hold, a certificate.

`hotline dialplan prompts` speaks the texts below with Debian's `espeak-ng` (voice `cmn`,
Mandarin; `yue` for a Cantonese seat) and converts them with `sox` to what Asterisk plays
without transcoding: 8 kHz, mono, 16-bit WAV. A recorded prompt (`--recorded DIR`, a file
`NAME.wav` or `NAME.mp3`/... that sox reads) replaces the synthetic one of the same name.
Output, an Asterisk data folder: `sounds/<lang>/hotline/*.wav`, `sounds/<lang>/digits/*.wav`,
`sounds/<lang>/queue-*.wav` (the queue's position announcements) and `moh/*.wav`.

`hotline dialplan cert` makes a self-signed certificate for a lab (openssl): `asterisk.crt`
and `asterisk.key`, the names http.conf gives for the browser phones' WSS listener.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# The dialplan's prompts (extensions.conf, queues.conf), in Mandarin.
PROMPTS: dict[str, str] = {
    "hotline/welcome": "您好，12345热线，正在为您转接。",
    "hotline/please-hold": "话务员正忙，请您耐心等待。",
    "hotline/after-hours": "现在是非工作时间，请在提示音后留下您的联系方式，我们将在工作时间给您回电。",
    "hotline/we-will-call-back": "抱歉，话务员都在忙，我们已记录您的号码，稍后会给您回电。",
    "hotline/survey": "请对本次服务进行评价：非常满意请按5，满意请按4，基本满意请按3，不满意请按2，非常不满意请按1。",
    "hotline/survey-invalid": "输入有误，请重新输入。",
    "hotline/thanks": "感谢您的评价，再见。",
    "hotline/department-unreachable": "抱歉，该部门暂时无法接通，话务员将为您记录并转办。",
    # app_queue's own announcements (announce-position), under their standard names.
    "queue-youarenext": "您是下一位。",
    "queue-thereare": "您前面还有",
    "queue-callswaiting": "位来电在等待。",
    "queue-thankyou": "感谢您的耐心等待。",
    "queue-holdtime": "预计等待时间",
    "queue-minutes": "分钟",
    "queue-seconds": "秒",
    "queue-less-than": "少于",
    "queue-reporthold": "等待时间",
}
DIGITS = {str(i): c for i, c in enumerate("零一二三四五六七八九")} | {"10": "十", "hundred": "百", "thousand": "千"}
LANGUAGES = {"cmn": "zh", "yue": "yue"}  # espeak-ng voice → Asterisk CHANNEL(language) folder
SOX_OUT = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]


class MediaError(Exception):
    pass


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MediaError(f"{name} is not installed (Debian: apt-get install {name})")
    return path


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode:
        raise MediaError(f"{Path(cmd[0]).name} failed: {(r.stderr or r.stdout).strip()[:300]}")


def convert(src: Path, dest: Path) -> None:
    """Any file sox reads → an 8 kHz mono 16-bit WAV."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    _run([_tool("sox"), str(src), *SOX_OUT, str(dest)])


def speak(text: str, dest: Path, *, voice: str = "cmn", speed: int = 175) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        _run([_tool("espeak-ng"), "-v", voice, "-s", str(speed), "-w", str(raw), text])
        convert(raw, dest)


def hold_music(dest: Path) -> None:
    """A quiet, slow pentatonic phrase (gong-shang-jue-zhi-yu), so a queue never plays silence."""
    notes = ["392", "440", "494", "587", "659", "587", "494", "440"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    effects = []
    for n in notes:
        effects += ["synth", "0.9", "sine", n, "fade", "q", "0.05", "0.9", "0.3", ":"]
    _run([_tool("sox"), "-n", *SOX_OUT, str(dest), *effects[:-1], "vol", "0.2", "repeat", "2"])


def write_prompts(out: Path, *, voice: str = "cmn", recorded: Path | None = None) -> list[Path]:
    """Every prompt, digit and the hold music under `out`; recorded files win over synthetic ones."""
    if voice not in LANGUAGES:
        raise MediaError(f"voice {voice!r}: use one of {', '.join(LANGUAGES)}")
    if recorded is not None and not recorded.is_dir():
        raise MediaError(f"{recorded}: no such folder of recorded prompts")
    lang = out / "sounds" / LANGUAGES[voice]
    texts = PROMPTS | {f"digits/{k}": v for k, v in DIGITS.items()}
    written = []
    for name, text in texts.items():
        dest = lang / f"{name}.wav"
        mine = _recorded(recorded, name) if recorded is not None else None
        if mine is not None:
            convert(mine, dest)
        else:
            speak(text, dest, voice=voice)
        written.append(dest)
    moh = out / "moh" / "hotline-hold.wav"
    mine = _recorded(recorded, "moh/hotline-hold") if recorded is not None else None
    convert(mine, moh) if mine is not None else hold_music(moh)
    return [*written, moh]


def _recorded(folder: Path, name: str) -> Path | None:
    """`folder/NAME.*` (or `folder/<basename>.*`): a recording that replaces the synthetic prompt."""
    for base in (folder / name, folder / Path(name).name):
        found = sorted(base.parent.glob(base.name + ".*")) if base.parent.is_dir() else []
        if found:
            return found[0]
    return None


def self_signed(out: Path, *, host: str = "localhost", days: int = 825) -> tuple[Path, Path]:
    """`asterisk.crt` + `asterisk.key` (0600) for a lab's WSS: browsers must be told to trust it."""
    out.mkdir(parents=True, exist_ok=True)
    crt, key = out / "asterisk.crt", out / "asterisk.key"
    san = f"DNS:{host}" if not host.replace(".", "").isdigit() else f"IP:{host}"
    _run([_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes", "-days", str(days),
          "-subj", f"/CN={host}/O=12345 hotline lab", "-addext", f"subjectAltName={san},DNS:localhost,IP:127.0.0.1",
          "-keyout", str(key), "-out", str(crt)])
    key.chmod(0o600)
    return crt, key

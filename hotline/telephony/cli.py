"""CLI: `hotline pbx-sim` and `hotline dialplan render|check|prompts|cert`."""

from __future__ import annotations

import asyncio
import contextlib
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.cli_support import Fail, stop_signal

if TYPE_CHECKING:
    import argparse

    from hotline.module import Cli, Subcommands


def add_commands(sub: Subcommands, cli: Cli) -> None:
    sim = sub.add_parser("pbx-sim", help="run the PBX simulator: an AMI server making realistic 12345 calls")
    sim.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=None,
                     help="listen port (default HOTLINE_AMI_PORT or 5038; 0 = any free port)")
    sim.add_argument("--user", default=None, help="AMI user (default HOTLINE_AMI_USER or 'hotline')")
    sim.add_argument("--secret", default=None, help="AMI secret (default HOTLINE_AMI_SECRET)")
    sim.add_argument("--calls-per-minute", type=float, default=None, help="arrival rate (default telephony.simulator)")
    sim.add_argument("--calls", type=int, default=None, help="stop making calls after this many")
    sim.add_argument("--speed", type=float, default=1.0, help="clock speed-up for training and load tests")
    sim.add_argument("--agents", default="8001,8002", help="static queue members (extensions), comma-separated")
    sim.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable session")
    sim.set_defaults(func=partial(cmd_pbx_sim, cli))

    dp = sub.add_parser("dialplan", help="render or check the Asterisk configuration from config/")
    dsub = dp.add_subparsers(dest="dialplan_command", metavar="ACTION", required=True)
    r = dsub.add_parser("render", help="write hotline-generated.conf and hotline-queues.conf")
    r.add_argument("--dir", type=Path, default=None, help="dialplans directory (default: the repository's)")
    r.set_defaults(func=partial(cmd_dialplan_render, cli))
    c = dsub.add_parser("check", help="validate contexts, Goto targets, queues, legacy lines, transfers")
    c.add_argument("--dir", type=Path, default=None, help="dialplans directory (default: the repository's)")
    c.add_argument("--asterisk", action="store_true",
                   help="also load the files into the real Asterisk and report every ERROR/WARNING it logs")
    c.add_argument("--asterisk-script", type=Path, default=None,
                   help="the relocatable Asterisk's script (default HOTLINE_ASTERISK or ../shared/asterisk/asterisk)")
    c.add_argument("--sounds", type=Path, default=None,
                   help="prompts folder (`dialplan prompts` output; default: generated for the check)")
    c.add_argument("--keys", type=Path, default=None,
                   help="folder with asterisk.crt/asterisk.key for WSS (default: http.conf's own paths)")
    c.set_defaults(func=partial(cmd_dialplan_check, cli))
    pr = dsub.add_parser("prompts", help="generate the Mandarin prompts and hold music (espeak-ng + sox, 8 kHz)")
    pr.add_argument("--out", type=Path, required=True,
                    help="an Asterisk data folder: writes sounds/<lang>/... and moh/ (e.g. /var/lib/asterisk)")
    pr.add_argument("--voice", default="cmn", help="espeak-ng voice: cmn (Mandarin, default) or yue (Cantonese)")
    pr.add_argument("--recorded", type=Path, default=None,
                    help="folder of recorded prompts (NAME.wav, e.g. hotline/welcome.wav) that replace the synthetic ones")
    pr.set_defaults(func=partial(cmd_dialplan_prompts, cli))
    ce = dsub.add_parser("cert", help="make a self-signed certificate for a lab's WSS (asterisk.crt/.key)")
    ce.add_argument("--out", type=Path, required=True, help="folder for the files (http.conf: /etc/asterisk/keys)")
    ce.add_argument("--host", default="localhost", help="the name or address browsers connect to")
    ce.add_argument("--days", type=int, default=825, help="validity in days (default 825)")
    ce.set_defaults(func=partial(cmd_dialplan_cert, cli))


def _dir(args: argparse.Namespace) -> Path:
    from hotline.telephony.dialplan import DIALPLANS

    d = args.dir or DIALPLANS
    if not d.is_dir():
        raise Fail(f"{d}: no such directory (give --dir the folder holding extensions.conf)")
    return d


async def cmd_dialplan_render(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.telephony.config import telephony_settings
    from hotline.telephony.dialplan import write

    s = cli.settings()
    for path in write(s, telephony_settings(s), _dir(args)):
        print(f"wrote {path}")
    return 0


async def cmd_dialplan_check(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.telephony.config import telephony_settings
    from hotline.telephony.dialplan import check

    s = cli.settings()
    directory = _dir(args)
    problems = check(s, telephony_settings(s), directory)
    if args.asterisk:
        problems += await asyncio.to_thread(_asterisk_check, args, directory)
    for p in problems:
        print(f"  - {p}")
    if problems:
        raise Fail(f"dialplan check: {len(problems)} problem(s)")
    print(f"拨号方案检查通过 / dialplan OK: {len(s.legacy_lines)} legacy lines routed, "
          f"{sum(1 for d in s.departments if d.phone)} department transfer numbers"
          + ("; the real Asterisk loaded it with no error or warning" if args.asterisk else ""))
    return 0


def _asterisk_check(args: argparse.Namespace, directory: Path) -> list[str]:
    import tempfile

    from hotline.telephony.media import MediaError, write_prompts
    from hotline.telephony.trial import DEFAULT_SCRIPT, TrialError, tls_files, trial

    script = args.asterisk_script or Path(os.environ.get("HOTLINE_ASTERISK") or DEFAULT_SCRIPT)
    if not script.exists():
        raise Fail(f"{script}: no Asterisk script (give --asterisk-script or HOTLINE_ASTERISK)")
    problems: list[str] = []
    found = tls_files(directory, args.keys)
    tls = None if isinstance(found, str) else found
    if isinstance(found, str):
        problems.append(found)
    with tempfile.TemporaryDirectory(prefix="hotline-dialplan-check-") as tmp:
        sounds = args.sounds
        if sounds is None:
            try:
                write_prompts(Path(tmp) / "sounds")
                sounds = Path(tmp) / "sounds"
            except MediaError as exc:
                problems.append(f"no prompts for the check ({exc}); give --sounds")
        try:
            logged = trial(directory, Path(tmp), script=script, sounds=sounds, tls=tls)
        except TrialError as exc:
            raise Fail(f"Asterisk did not start with {directory}: {exc}") from None
    return problems + [f"asterisk: {line}" for line in logged]


async def cmd_dialplan_prompts(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.telephony.media import MediaError, write_prompts

    try:
        written = await asyncio.to_thread(write_prompts, args.out, voice=args.voice, recorded=args.recorded)
    except MediaError as exc:
        raise Fail(str(exc)) from None
    print(f"wrote {len(written)} files under {args.out} (8 kHz mono WAV); "
          f"Asterisk: astdatadir = {args.out} or copy sounds/ and moh/ there")
    return 0


async def cmd_dialplan_cert(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.telephony.media import MediaError, self_signed

    if not 1 <= args.days <= 3650:
        raise Fail("--days: between 1 and 3650")
    try:
        crt, key = await asyncio.to_thread(self_signed, args.out, host=args.host, days=args.days)
    except MediaError as exc:
        raise Fail(str(exc)) from None
    print(f"wrote {crt} and {key} (self-signed, for a lab: each browser must trust it once, "
          f"e.g. by opening https://{args.host}:8089/ws)")
    return 0


async def cmd_pbx_sim(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.telephony.config import telephony_settings
    from hotline.telephony.sim import running_simulator
    from hotline.telephony.sim.traffic import Traffic

    s = cli.settings()
    sim = telephony_settings(s).simulator
    user = args.user or s.ami.user
    secret = args.secret or s.ami.secret or os.environ.get("HOTLINE_AMI_SECRET")
    if not secret:
        raise Fail("no AMI secret: pass --secret or set HOTLINE_AMI_SECRET")
    if args.speed <= 0:
        raise Fail("--speed must be positive")
    port = s.ami.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise Fail(f"--port {port}: give a port between 0 and 65535")
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    if not all(a.isdigit() for a in agents):
        raise Fail("--agents takes extensions such as 8001,8002")
    traffic = Traffic(calls_per_minute=sim.calls_per_minute if args.calls_per_minute is None else args.calls_per_minute,
                      repeat_callers=sim.repeat_callers, legacy_share=sim.legacy_share,
                      legacy_lines=tuple(x.number for x in s.legacy_lines[:5]) or ("12315",),
                      mean_talk=sim.mean_talk_seconds, mean_patience=sim.mean_patience_seconds, limit=args.calls)
    try:
        cm = running_simulator(user=user, secret=secret, host=args.host, port=port, traffic=traffic,
                               speed=args.speed, survey=sim.survey, seed=args.seed, answer_rate=sim.answer_rate,
                               members=[(f"Local/{a}@agents/n", f"Agent {a}") for a in agents])
        simulator = await cm.__aenter__()
    except OSError as exc:
        raise Fail(f"cannot listen on {args.host}:{port}: {exc.strerror} (choose another --port)") from None
    try:
        print(f"PBX 模拟器 / simulator: AMI on {args.host}:{simulator.port} (user {user}), "
              f"{traffic.calls_per_minute:g} calls/min, agents {', '.join(agents)}", flush=True)
        stop = stop_signal()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await stop.wait()
            pbx = simulator.pbx
            print(f"  calls placed {simulator.traffic.placed}, live {len(pbx.calls)}, answered {pbx.completed}, "
                  f"abandoned {pbx.abandoned}, AMI sessions {len(simulator.server.sessions)}", flush=True)
    finally:
        await cm.__aexit__(None, None, None)
    return 0

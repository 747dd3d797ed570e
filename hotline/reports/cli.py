"""`hotline report --from --to [--by ...] --format csv|xlsx [--out] [--lang en]`: the KPIs of
a period, one row per group, Chinese column names first (CONTRACT)."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.cli_support import Fail
from hotline.reports.kpi import BY

if TYPE_CHECKING:
    import argparse

    from hotline.module import Cli, Subcommands


def add_commands(sub: Subcommands, cli: Cli) -> None:
    p = sub.add_parser("report", help="KPIs of a period (docs/kpi.md) as CSV or XLSX, one row per group")
    p.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD (hotline time zone)")
    p.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD (included)")
    p.add_argument("--by", choices=BY, help="one row per department, area, agent, channel, category, legacy line or day")
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    p.add_argument("--out", help="file to write (default: standard output; xlsx needs --out)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="column names: Chinese (default) or English")
    p.set_defaults(func=partial(cmd_report, cli))


def _day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Fail(f"{flag} {value!r} 不是日期，请写成 YYYY-MM-DD / is not a date (YYYY-MM-DD)") from None


class Progress:
    """A progress bar on standard error, for long ranges or a terminal (the report itself
    goes to standard output or --out)."""

    def __init__(self, show: bool) -> None:
        self.show = show

    def __call__(self, done: int, total: int) -> None:
        if not self.show:
            return
        filled = 30 * done // max(total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


async def cmd_report(cli: Cli, args: argparse.Namespace) -> int:
    from hotline.reports import table
    from hotline.reports.service import Reports

    first, last = _day(args.first, "--from"), _day(args.last, "--to")
    if last < first:
        raise Fail(f"--to {last} 早于 --from {first} / --to is before --from")
    if args.format == "xlsx" and not args.out:
        raise Fail("xlsx 需要 --out 文件名 / xlsx needs --out FILE")
    s = cli.settings()
    progress = Progress((last - first).days > 31 or sys.stderr.isatty())
    async with cli.open_hotline(s) as h:
        rows = await h.module(Reports).kpis(first, last, args.by, progress=progress)
    if args.format == "xlsx":
        data = table.to_xlsx(s, rows, args.by, args.lang)
    else:
        text = table.to_csv(s, rows, args.by, args.lang)
        if not args.out:
            sys.stdout.write(text)
            return 0
        data = ("\ufeff" + text).encode("utf-8")  # a BOM, so that Excel opens the Chinese right
    try:
        await asyncio.to_thread(Path(args.out).write_bytes, data)
    except OSError as exc:
        raise Fail(f"无法写入 {args.out}: {exc.strerror} / cannot write {args.out}") from None
    print(f"{len(rows)} 行 / rows → {args.out}")
    return 0

"""The `hotline` command.

Every failure the user can fix prints one line saying what is wrong and exits non-zero;
a traceback means a bug.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from hotline import __version__, cli_accounts, root
from hotline.cli_support import Fail, db_error, is_db_error, stop_signal
from hotline.errors import ConfigError, HotlineError
from hotline.module import Cli
from hotline.root import load_settings, open_hotline

log = logging.getLogger("hotline")
Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


# ---------------------------------------------------------------- commands

async def cmd_check_config(args: argparse.Namespace) -> int:
    s = load_settings()
    summaries = root.check(s)
    levels = Counter(d.level for d in s.departments)
    leaves = len(s.leaf_subjects())
    print(f"配置正确 / configuration OK: {s.hotline.name}")
    print(f"  departments: {len(s.departments)} (county {levels['county']}, town {levels['town']}, "
          f"village {levels['village']})")
    print(f"  legacy lines: {len(s.legacy_lines)} ({', '.join(line.number for line in s.legacy_lines)})")
    print(f"  categories: {len(s.categories)}; urgencies: {len(s.urgencies)}; "
          f"subjects: {len(s.subjects)} groups, {leaves} leaves")
    for summary in summaries:
        for line in summary.lines:
            print(f"  {line}")
    print(f"  database: {'SQLite (embedded)' if s.is_sqlite else 'PostgreSQL'}; "
          f"jobs: {'rq on Redis' if s.redis.url else 'in-process'}; "
          f"AMI: {s.ami.host + ':' + str(s.ami.port) if s.ami.host else 'off (simulator with --demo)'}")
    for summary in summaries:
        for warning in summary.warnings:
            print(f"  warning: {warning}")
    return 0


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from hotline.storage.directory import sync_departments
    from hotline.storage.engine import create_engine, session_factory

    s = load_settings()
    schema = root.schema()
    engine = create_engine(s.database_url, schema=s.database.schema_)
    try:
        todo = await schema.pending_revisions(engine)
        print(f"migrating {'SQLite' if s.is_sqlite else 'PostgreSQL'}: "
              f"{'up to date' if not todo else 'applying ' + ', '.join(todo)} …", flush=True)
        await schema.upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            changed = await sync_departments(session, s)
        print(f"done; department directory: {changed} change(s)")
    except (OSError, ConnectionError) as exc:
        raise db_error(exc, s) from None
    except Exception as exc:
        if type(exc).__module__.startswith(("sqlalchemy", "asyncpg")):
            raise db_error(exc, s) from None
        raise
    finally:
        await engine.dispose()
    return 0


async def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from hotline.storage.directory import sync_departments
    from hotline.web.app import create_app

    s = load_settings()
    if args.port is not None and not 0 <= args.port <= 65535:  # the socket would raise OverflowError
        raise Fail(f"端口 {args.port} 无效，应在 0–65535 之间 / --port {args.port}: a port is 0-65535")
    if args.host or args.port is not None:
        s = s.model_copy(update={"http": s.http.model_copy(update={
            k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None})})
    async with open_hotline(s, demo=args.demo) as h:
        try:
            if s.is_sqlite or args.demo:
                await h.schema.upgrade(h.engine)  # the embedded default migrates itself
            todo = await h.schema.pending(h.engine)
        except (OSError, ConnectionError) as exc:
            raise db_error(exc, s) from None
        if todo:
            log.warning("database not migrated (%s): run `hotline db upgrade`; /readyz answers 503 until then",
                        ", ".join(sorted(todo)))
        else:
            async with h.sessions() as session, session.begin():
                await sync_departments(session, s)
        if args.demo:
            from hotline.demo import seed

            await seed(h)
        runner = web.AppRunner(create_app(h), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, s.http.host, s.http.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise Fail(f"cannot listen on {s.http.host}:{s.http.port}: {exc.strerror} "
                       "(set HOTLINE_HTTP_PORT or --port)") from None
        shown = "127.0.0.1" if s.http.host in ("0.0.0.0", "::") else s.http.host
        port = runner.addresses[0][1] if runner.addresses else s.http.port  # the real one when port 0
        print(f"{s.hotline.name} — http://{shown}:{port}/  "
              f"(database: {'SQLite ' + s.database_url.split('///')[-1] if s.is_sqlite else 'PostgreSQL'}, "
              f"jobs: {'rq' if s.redis.url else 'in-process'})", flush=True)
        await stop_signal().wait()
        log.info("shutting down")
        await runner.cleanup()
    return 0


# ---------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hotline", description="12345 政务服务便民热线 / Hotline 12345: work orders, dispatch, telephony.",
        epilog="Settings: config/hotline.yaml, HOTLINE_CONFIG=extra.yaml, HOTLINE_* variables (see README).")
    p.add_argument("--version", action="version", version=f"hotline {__version__}")
    p.add_argument("--log-format", choices=["text", "json"], help="log format (default: text on a terminal)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the web server (API, channels, dashboards)")
    serve.add_argument("--demo", action="store_true",
                       help="demo mode: migrate, seed demo users and sample orders, start the PBX simulator")
    serve.add_argument("--host", help="listen address (default HOTLINE_HTTP_HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, help="listen port (default HOTLINE_HTTP_PORT or 8080)")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="apply migrations and sync the department directory from config")
    up.set_defaults(func=cmd_db_upgrade)

    check = sub.add_parser("check-config", help="validate the settings and print a summary")
    check.set_defaults(func=cmd_check_config)

    cli = Cli(settings=load_settings, open_hotline=open_hotline)
    cli_accounts.add_commands(sub, cli)  # user …, apikey …
    for module in root.MODULES:  # worker, outbox, route, pbx-sim, dialplan ...
        if module.commands is not None:
            module.commands(sub, cli)
    return p


def main(argv: list[str] | None = None) -> int:
    from hotline.logs import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_format)
    try:
        return asyncio.run(args.func(args))
    except ConfigError as exc:
        print("配置有误 / configuration error:", file=sys.stderr)
        for line in exc.problems:
            print(f"  - {line}", file=sys.stderr)
        return 1
    except (Fail, HotlineError) as exc:
        msg = exc.detail if isinstance(exc, HotlineError) else str(exc)
        print(f"hotline: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Any command, the modules' too: a database that refuses us (down, unknown role,
        # wrong password) is the operator's to fix, so one line, not a traceback.
        if not is_db_error(exc):
            raise
        print(f"hotline: {_db_reason(exc)}", file=sys.stderr)
        return 1


def _db_reason(exc: Exception) -> str:
    from hotline.settings import load_settings as core_settings

    try:
        return str(db_error(exc, core_settings()))
    except ConfigError:  # the command read them already; cannot happen short of a race with an edit
        return f"无法连接数据库 / cannot reach the database: {type(exc).__name__}: {exc}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

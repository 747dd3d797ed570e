"""Dispatch's sub-commands of `hotline`: worker, outbox, route.

    hotline worker [--burst] [--name N] [--no-timers] [--metrics-port P]
    hotline outbox status
    hotline outbox retry (--id N | --target CODE | --kind KIND)
    hotline route "诉求内容" [--category C] [--subject S] [--area A] [--legacy-line L]
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from hotline.cli_support import Fail

if TYPE_CHECKING:
    import argparse

    from hotline.module import Cli, Subcommands


def add_commands(sub: Subcommands, cli: Cli) -> None:
    worker = sub.add_parser("worker", help="deliver the outbox and fire SLA timers (rq worker; needs HOTLINE_REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="deliver what is due now, then exit")
    worker.add_argument("--name", help="worker name shown by rq (default: host and pid)")
    worker.add_argument("--no-timers", action="store_true", help="deliver only; let other workers fire timers")
    worker.add_argument("--metrics-port", type=int, help="serve this worker's Prometheus metrics on this port")
    worker.set_defaults(func=partial(cmd_worker, cli))

    outbox = sub.add_parser("outbox", help="messages leaving the hotline (department webhooks, SMS, WeChat)")
    osub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    status = osub.add_parser("status", help="messages by kind and state, dead letters")
    status.set_defaults(func=partial(cmd_outbox_status, cli))
    retry = osub.add_parser("retry", help="send dead letters again (same delivery id)")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, help="one dead letter")
    which.add_argument("--target", help="every dead letter to this department / recipient")
    which.add_argument("--kind", help="every dead letter of this kind (webhook, sms, wechat)")
    retry.set_defaults(func=partial(cmd_outbox_retry, cli))

    route = sub.add_parser("route", help="which department the routing rules choose, and why")
    route.add_argument("text", help="the citizen's words (title, description, address)")
    route.add_argument("--category")
    route.add_argument("--subject")
    route.add_argument("--area")
    route.add_argument("--legacy-line")
    route.set_defaults(func=partial(cmd_route, cli))


async def cmd_worker(cli: Cli, args: argparse.Namespace) -> int:
    from redis.connection import parse_url

    from dispatch.worker import run_worker, unreachable

    s = cli.settings()
    if not s.redis.url:
        raise Fail("HOTLINE_REDIS_URL is not set: `hotline worker` takes its jobs from Redis "
                   "(without Redis, `hotline serve` delivers and fires timers itself)")
    if args.metrics_port is not None and not 0 < args.metrics_port < 65536:
        raise Fail(f"--metrics-port {args.metrics_port} is not a port number")
    try:
        parse_url(s.redis.url)  # a malformed URL is told here; an unreachable Redis when the worker starts
    except ValueError as exc:
        raise unreachable(s.redis.url, exc) from None
    # rq's worker loop is synchronous and wants the main thread (signals, job timeouts).
    run_worker(s, cli.open_hotline, burst=args.burst, name=args.name, timers=not args.no_timers,
               metrics_port=args.metrics_port)
    return 0


async def cmd_outbox_status(cli: Cli, args: argparse.Namespace) -> int:
    from dispatch import queries

    async with cli.open_hotline(cli.settings()) as h, h.sessions() as session:
        rows = await queries.outbox_counts(session)
        dead = await queries.recent_dead_letters(session)
    if not rows:
        print("outbox empty")
    for kind, status, n in rows:
        print(f"{kind:10} {status:11} {n}")
    for m in dead:
        print(f"dead #{m.id} {m.kind} {m.event} → {m.target} after {m.attempts} attempt(s): {m.last_error}")
    return 0


async def cmd_outbox_retry(cli: Cli, args: argparse.Namespace) -> int:
    from dispatch import queries

    async with cli.open_hotline(cli.settings()) as h:
        if args.id is not None:
            ids = [args.id]
        else:
            async with h.sessions() as session:
                ids = await queries.dead_letter_ids(session, target=args.target, kind=None if args.target else args.kind,
                                                    limit=None)
        n = 0
        for i, message_id in enumerate(ids, start=1):
            n += await h.outbox.retry_dead(message_id)
            if i % 500 == 0:
                print(f"  {i}/{len(ids)} …", flush=True)
    if args.id is not None and not n:
        raise Fail(f"outbox message {args.id} is not a dead letter")
    print(f"{n} dead letter(s) queued again")
    return 0


async def cmd_route(cli: Cli, args: argparse.Namespace) -> int:
    from dispatch.config import dispatch_config
    from dispatch.routing import Facts, Router

    s = cli.settings()
    problems = []
    if args.category and args.category not in {c.code for c in s.categories}:
        problems.append(f"--category {args.category!r} is unknown")
    if args.subject and args.subject not in s.subject_codes():
        problems.append(f"--subject {args.subject!r} is unknown")
    if args.area and args.area not in s.area_codes():
        problems.append(f"--area {args.area!r} is not a town or village code")
    if problems:
        raise Fail("; ".join(problems))
    router = Router.from_settings(s, dispatch_config(s).routing)
    facts = Facts(category=args.category, subject=args.subject, area=args.area, text=args.text,
                  legacy_line=args.legacy_line)
    found = await asyncio.to_thread(router.candidates, facts)
    if not found:
        print("没有匹配的派单规则 / no routing rule matches: an agent chooses")
        return 0
    print(found[0].reason)
    for m in found[1:]:
        print(f"  也匹配 / also: {m.reason}")
    return 0

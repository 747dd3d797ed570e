"""`hotline user …` and `hotline apikey …`: accounts and department keys from the shell
(the same use cases as `/api/v1/admin/…`, in `hotline.admin`)."""

from __future__ import annotations

import argparse
import getpass
import sys
from functools import partial
from typing import TYPE_CHECKING

from hotline.cli_support import Fail

if TYPE_CHECKING:
    from hotline.module import Cli, Subcommands


def _password(args: argparse.Namespace) -> str:
    password: str | None = args.password
    if password is None:
        if args.password_stdin or not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("密码 / password: ")
            if getpass.getpass("再输一次 / again: ") != password:
                raise Fail("the two passwords differ")
    return password


async def cmd_user_add(args: argparse.Namespace, cli: Cli) -> int:
    from hotline.domain.vocabulary import UserRole

    password = _password(args)
    async with cli.open_hotline(cli.settings(), modules=()) as h, h.sessions() as session, session.begin():
        user = await h.auth.add_user(session, username=args.username, password=password,
                                     role=UserRole(args.role), now=h.clock(),
                                     display_name=args.display_name or "", extension=args.extension)
    print(f"user {user.username} ({user.role}) added, id {user.id}")
    return 0


async def cmd_user_list(args: argparse.Namespace, cli: Cli) -> int:
    from hotline import admin

    async with cli.open_hotline(cli.settings(), modules=()) as h, h.sessions() as session:
        users = await admin.list_users(session)
    print(f"{'id':>5}  {'username':<20} {'role':<11} {'extension':<10} status")
    for u in users:
        print(f"{u.id:>5}  {u.username:<20} {u.role:<11} {u.extension or '-':<10} "
              f"{'active' if u.active else 'disabled'}")
    return 0


async def cmd_user_change(args: argparse.Namespace, cli: Cli) -> int:
    """disable | enable | reset-password | set-extension | set-role, on one --username."""
    from hotline import admin

    action = args.user_command
    password = _password(args) if action == "reset-password" else None
    async with cli.open_hotline(cli.settings(), modules=()) as h, h.sessions() as session, session.begin():
        user = await admin.find_user(session, args.username)
        if action in ("disable", "enable"):
            await admin.set_active(session, user, action == "enable")
        elif action == "reset-password":
            assert password is not None
            await admin.reset_password(session, h.auth, user, password)
        elif action == "set-extension":
            admin.set_extension(user, args.extension)
        else:
            admin.set_role(user, args.role)
    done = {"disable": "disabled; its logins ended", "enable": "enabled",
            "reset-password": "has a new password; its logins ended",
            "set-extension": f"extension {user.extension or 'cleared'}", "set-role": f"role {user.role}"}[action]
    print(f"user {user.username}: {done}")
    return 0


def _key_ref(ref: str) -> int | str:
    """A key named by its id or its prefix (the part after hk_, as `apikey list` shows)."""
    ref = ref.removeprefix("hk_").partition("_")[0]
    return int(ref) if ref.isascii() and ref.isdigit() and len(ref) < 12 else ref


async def cmd_apikey_list(args: argparse.Namespace, cli: Cli) -> int:
    from hotline import admin

    async with cli.open_hotline(cli.settings(), modules=()) as h, h.sessions() as session:
        keys = await admin.list_keys(session, args.department)
    print(f"{'id':>5}  {'prefix':<14} {'department':<12} {'created':<20} {'status':<28} label")
    for k in keys:
        status = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        print(f"{k.id:>5}  hk_{k.prefix:<11} {k.department_code:<12} {k.created_at:%Y-%m-%d %H:%M}     "
              f"{status:<28} {k.label}")
    return 0


async def cmd_apikey_revoke(args: argparse.Namespace, cli: Cli) -> int:
    from hotline import admin

    async with cli.open_hotline(cli.settings(), modules=()) as h, h.sessions() as session, session.begin():
        key = admin.revoke_key(await admin.find_key(session, _key_ref(args.key)), h.clock())
    print(f"key hk_{key.prefix} of {key.department_code} revoked (effective at once on every node)")
    return 0


async def cmd_apikey_rotate(args: argparse.Namespace, cli: Cli) -> int:
    from hotline import admin

    async with cli.open_hotline(cli.settings(), modules=()) as h, h.sessions() as session, session.begin():
        old = await admin.find_key(session, _key_ref(args.key))
        _, secret = await admin.rotate_key(session, h.auth, old, h.clock())
    print(f"key hk_{old.prefix} revoked; the new key of {old.department_code} (shown once):")
    print(secret)
    return 0


async def cmd_apikey_create(args: argparse.Namespace, cli: Cli) -> int:
    async with cli.open_hotline(cli.settings(), modules=()) as h, h.sessions() as session, session.begin():
        key = await h.auth.issue_api_key(session, args.department, h.clock(), args.label or "")
    print("部门 API 密钥（只显示这一次）/ department API key, shown once:")
    print(key)
    return 0



def add_commands(sub: Subcommands, cli: Cli) -> None:
    user = sub.add_parser("user", help="agent and supervisor accounts")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="add an account (password asked, or read from stdin)")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=["agent", "supervisor", "admin"])
    add.add_argument("--extension", help="the agent's phone extension (queue member)")
    add.add_argument("--display-name", help="name shown on the dashboard")
    add.add_argument("--password", help=argparse.SUPPRESS)  # tests and scripts; prefer stdin
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=partial(cmd_user_add, cli=cli))
    usub.add_parser("list", help="list the accounts").set_defaults(func=partial(cmd_user_list, cli=cli))
    for action, text in (("disable", "disable an account; its logins end at once"),
                         ("enable", "enable a disabled account"),
                         ("reset-password", "set a new password (asked, or read from stdin); its logins end"),
                         ("set-extension", "set or clear the agent's phone extension"),
                         ("set-role", "change the role")):
        change = usub.add_parser(action, help=text)
        change.add_argument("--username", required=True)
        if action == "reset-password":
            change.add_argument("--password", help=argparse.SUPPRESS)
            change.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        elif action == "set-extension":
            change.add_argument("--extension", default="", help="the extension; empty clears it")
        elif action == "set-role":
            change.add_argument("--role", required=True, choices=["agent", "supervisor", "admin"])
        change.set_defaults(func=partial(cmd_user_change, cli=cli))

    key = sub.add_parser("apikey", help="department API keys")
    ksub = key.add_subparsers(dest="apikey_command", metavar="ACTION", required=True)
    create = ksub.add_parser("create", help="issue an API key for a department (printed once)")
    create.add_argument("--department", required=True, help="department code, e.g. scjgj")
    create.add_argument("--label", help="what the key is for")
    create.set_defaults(func=partial(cmd_apikey_create, cli=cli))
    listing = ksub.add_parser("list", help="list the keys (prefix, department, created, revoked)")
    listing.add_argument("--department", help="only this department's keys")
    listing.set_defaults(func=partial(cmd_apikey_list, cli=cli))
    for action, text, func in (("revoke", "revoke a key (effective at once on every node)", cmd_apikey_revoke),
                               ("rotate", "issue a new key for the same department and revoke this one",
                                cmd_apikey_rotate)):
        one = ksub.add_parser(action, help=text)
        one.add_argument("key", help="the key's id or prefix (hk_<prefix>), as `apikey list` shows")
        one.set_defaults(func=partial(func, cli=cli))



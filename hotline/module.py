"""The module interface (docs/architecture.md): what a feature folder declares, and what the
composition root gives back to those who run it.

A module is a package (`channels/`, `dispatch/`, `hotline/telephony/`, later `hotline/desk/`
...) whose `module.py` declares one `Module`, listed once in `hotline.root.MODULES`:

    MODULE = Module(name="dispatch", package="dispatch", install=install,
                    sections=("escalation", "delivery"), check=check_config, models=("dispatch.models",),
                    migrations=MIGRATIONS, commands=add_commands)

`install(hotline)` runs inside `open_hotline`, once per process, and registers what runs
(JSON API tables, routes and pages, background tasks, effects, outbox senders, closers)
through the `hotline.ports.Hotline` ports; what it returns is the module's own object (of
a type of its own), found by the CLI, the worker and tests as `running.module(ThatType)`. The other fields are read
without installing anything: by the settings check (`check-config`, every command's
start), by `db upgrade` and by the argument parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from hotline.ports import Hotline

T = TypeVar("T")
if TYPE_CHECKING:
    from pathlib import Path

    from hotline.settings import Settings
    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]  # what `add_subparsers` returns
else:
    Subcommands = argparse._SubParsersAction


@dataclass(frozen=True)
class Summary:
    """What `hotline check-config` prints for a module: lines, and warnings printed last."""

    lines: Sequence[str] = ()
    warnings: Sequence[str] = ()


@dataclass(frozen=True)
class Module(Generic[T]):
    name: str  # one word, for messages
    package: str  # the package it lives in: what the import rule governs (tests/unit/test_architecture.py)
    install: Callable[[Hotline], T]
    sections: Sequence[str] = ()  # the top-level YAML sections it owns (validated by `check`)
    # Validates its sections (raises `ConfigError` naming file, key and fix) and says what
    # `check-config` prints about them.
    check: Callable[[Settings], Summary] | None = None
    models: Sequence[str] = ()  # the modules that declare its tables (on `hotline.storage.models.Base`)
    migrations: Path | None = None  # its Alembic versions folder: a branch of its own off the core
    commands: Callable[[Subcommands, Cli], None] | None = None  # its `hotline` sub-commands


@dataclass
class Running(Hotline):
    """An open hotline as the composition root yields it: the ports, and what each module's
    `install` returned. Modules get the `Hotline` type; only the CLI, the worker and tests
    look modules up."""

    installed: dict[str, object] = field(default_factory=dict)  # module name -> what its install returned

    def module(self, kind: type[T]) -> T:
        """The installed module object of this type (e.g. `running.module(Telephony)`)."""
        for obj in self.installed.values():
            if isinstance(obj, kind):
                return obj
        raise LookupError(f"no installed module provides a {kind.__name__} (hotline.root.MODULES)")


OpenHotline = Callable[..., AbstractAsyncContextManager[Running]]


@dataclass(frozen=True)
class Cli:
    """What a module's sub-commands get from the `hotline` command."""

    settings: Callable[[], Settings]  # read and validate every section (the core's and the modules'), once
    open_hotline: OpenHotline  # `hotline.root.open_hotline`: every client built, every module installed

"""Loading the settings: `config/hotline.yaml`, a `HOTLINE_CONFIG` overlay, `HOTLINE_*` variables.

Loaded and validated once at start-up. Every problem is reported with the file (or the
variable) it came from, the key, and what to do about it; `hotline check-config` prints
them. Mappings merge; lists (departments, routing, ...) in an overlay replace the default
list whole. A string value `${NAME}` is replaced by the environment variable NAME, so a
department's webhook secret can live outside the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hotline.errors import ConfigError
from hotline.settings.schema import Settings

M = TypeVar("M", bound=BaseModel)

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_CONFIG = PACKAGE_ROOT / "config" / "hotline.yaml"

# CONTRACT's variables and the key each one sets.
ENV_KEYS: dict[str, tuple[str, ...]] = {
    "HOTLINE_DATABASE_URL": ("database", "url"),
    "HOTLINE_DATABASE_SCHEMA": ("database", "schema"),
    "HOTLINE_REDIS_URL": ("redis", "url"),
    "HOTLINE_HTTP_HOST": ("http", "host"),
    "HOTLINE_HTTP_PORT": ("http", "port"),
    "HOTLINE_PUBLIC_URL": ("http", "public_url"),
    "HOTLINE_AMI_HOST": ("ami", "host"),
    "HOTLINE_AMI_PORT": ("ami", "port"),
    "HOTLINE_AMI_USER": ("ami", "user"),
    "HOTLINE_AMI_SECRET": ("ami", "secret"),
    "HOTLINE_TWILIO_ACCOUNT_SID": ("twilio", "account_sid"),
    "HOTLINE_TWILIO_AUTH_TOKEN": ("twilio", "auth_token"),
    "HOTLINE_TWILIO_FROM": ("twilio", "from_number"),
    "HOTLINE_TWILIO_API_BASE": ("twilio", "api_base"),
    "HOTLINE_WECHAT_TOKEN": ("wechat", "token"),
    "HOTLINE_WECHAT_APPID": ("wechat", "appid"),
    "HOTLINE_WECHAT_SECRET": ("wechat", "secret"),
    "HOTLINE_WECHAT_AES_KEY": ("wechat", "aes_key"),
    "HOTLINE_WECHAT_API_BASE": ("wechat", "api_base"),
    "HOTLINE_OPEN311_API_KEYS": ("open311", "api_keys"),
    "HOTLINE_SECRET_KEY": ("security", "secret_key"),
    "HOTLINE_DISPATCH_AUTO": ("dispatch", "auto"),
    "HOTLINE_DATA_DIR": ("hotline", "data_dir"),
}
_LIST_VARS = {"HOTLINE_OPEN311_API_KEYS"}
_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


@dataclass(frozen=True)
class Source:
    """Where a value came from, for error messages."""

    files: tuple[Path, ...]
    env: Mapping[str, str]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found; check HOTLINE_CONFIG"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError([f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of sections (hotline:, database:, ...)"])
    return data


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; any other value (lists included) replaces."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def _expand(value: Any, env: Mapping[str, str], path: str, problems: list[str]) -> Any:
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in env:
                problems.append(f"{path}: refers to ${{{name}}} but that environment variable is not set")
                return ""
            return env[name]
        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{path}.{k}" if path else str(k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    return value


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    for var, (section, key) in ENV_KEYS.items():
        if var not in env:
            continue
        raw = env[var]
        value: Any = [x.strip() for x in raw.split(",") if x.strip()] if var in _LIST_VARS else raw
        if raw == "" and var not in _LIST_VARS:
            value = None
        data = merge(data, {section: {key: value}})
    return data


def key_of(loc: Sequence[Any]) -> str:
    """A pydantic error location as the operator finds it in YAML: `routing[0].areas`."""
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _describe(loc: tuple[Any, ...], src: Source, data: Mapping[str, Any]) -> str:
    key = key_of(loc)
    for var, (section, k) in ENV_KEYS.items():
        if len(loc) >= 2 and loc[0] == section and loc[1] == k and var in src.env:
            return f"environment variable {var}"
    files = " + ".join(str(f) for f in src.files)
    if loc and isinstance(loc[0], str) and len(loc) > 1 and isinstance(loc[1], int):
        try:  # name the item by its code, so the reader finds it in a long list
            code = data[loc[0]][loc[1]].get("code") or data[loc[0]][loc[1]].get("number")
            if code:
                key = key.replace(f"[{loc[1]}]", f"[{loc[1]}] ({code})", 1)
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
    return f"{files}: {key}"


def load_settings(env: Mapping[str, str] | None = None, *, defaults: Path | None = None,
                  sections: Collection[str] | None = None) -> Settings:
    """Read, merge and validate the core's sections; raise `ConfigError` listing every problem.

    `sections` are the top-level sections the modules own, carried raw in
    `Settings.extensions` for them to validate; any other unknown key is a mistake. The
    composition root passes them (`hotline.root.load_settings` also runs the modules'
    checks); None takes every unknown top-level key as a module's, for callers that
    validate no module section.
    """
    env = dict(os.environ if env is None else env)
    files = [defaults or Path(env.get("HOTLINE_CONFIG_DEFAULTS", DEFAULT_CONFIG))]
    if env.get("HOTLINE_CONFIG"):
        files.append(Path(env["HOTLINE_CONFIG"]))
    data: dict[str, Any] = {}
    for f in files:
        data = merge(data, _read_yaml(f))
    problems: list[str] = []
    data = _expand(data, env, "", problems)
    if problems:
        raise ConfigError([f"{' + '.join(map(str, files))}: {p}" for p in problems])
    data = _apply_env(data, env)
    src = Source(tuple(files), env)
    known = set(Settings.model_fields)
    extensions = {k: data.pop(k) for k in list(data) if k not in known and (sections is None or k in sections)}
    data.setdefault("extensions", {}).update(extensions)
    data["sources"] = tuple(str(f) for f in files)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, src, data)) from None


def _format_errors(exc: ValidationError, src: Source, data: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key; check the spelling (see config/hotline.yaml for the known keys)"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if not loc:  # cross checks: already one line per problem, each naming its key
            files = " + ".join(str(f) for f in src.files)
            out.extend(f"{files}: {line}" for line in msg.splitlines())
            continue
        out.append(f"{_describe(loc, src, data)}: {msg}")
    return out


def section_problems(settings: Settings, section: str, exc: ValidationError, doc: str) -> list[str]:
    """A module's own section (channels:, telephony:, ...) in the same words as the core:
    the files, the key, and the fix."""
    where = " + ".join(settings.sources) or "config"
    out = []
    for err in exc.errors():
        key = key_of([section, *err["loc"]])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key; check the spelling (see {doc} for the known keys)"
        out.append(f"{where}: {key}: {msg}")
    return out


def read_section(settings: Settings, section: str, model: type[M], doc: str) -> M:
    """A module's section (`settings.extensions[section]`, absent: the defaults) validated
    by its model; `ConfigError` words every problem like the core's."""
    try:
        return model.model_validate(settings.extensions.get(section) or {})
    except ValidationError as exc:
        raise ConfigError(section_problems(settings, section, exc, doc)) from None

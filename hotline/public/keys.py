"""The module's keys (press partners' `hlm_…`, companies' `hlc_…`): `<kind>_<prefix>_<secret>`.
The prefix finds the row; only a SHA-256 of the secret is stored — 256 random bits, not a
password, so a slow hash would buy nothing — and compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from hotline.auth import sha256_hex


def new_key(kind: str) -> tuple[str, str, str]:
    """(prefix, the secret's hash to store, the key to show once)."""
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return prefix, sha256_hex(secret), f"{kind}{prefix}_{secret}"


def split_key(key: str | None, kind: str) -> tuple[str, str] | None:
    """(prefix, secret) of a presented key, or None when it cannot be one."""
    if not key or not key.startswith(kind) or len(key) > 200:
        return None
    prefix, _, secret = key[len(kind):].partition("_")
    return (prefix, secret) if prefix and secret else None


def matches(stored_hash: str | None, secret: str) -> bool:
    return stored_hash is not None and hmac.compare_digest(stored_hash, sha256_hex(secret))

"""Who the client is, behind reverse proxies: the address every per-client limit keys on.

`X-Forwarded-For` and `Forwarded` (RFC 7239) are believed only when the peer is one of
`http.trusted_proxies`; then the chain is read from the right, skipping the trusted
proxies, and the first address not trusted is the client. Anyone else's headers are
ignored: otherwise every request could name a fresh address and no limit would hold.

    X-Forwarded-For: 198.51.100.7, 10.0.0.9        (peer 10.0.0.5; trusted: 10.0.0.0/24)
    → 198.51.100.7
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING

from hotline.web.context import HOTLINE

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(items: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(i, strict=False) for i in items)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(addr: str, nets: Iterable[Network]) -> bool:
    ip = _ip(addr)
    return ip is not None and any(ip in n for n in nets)


def _clean(node: str) -> str:
    """One hop as written: an IPv4 with a port, a bracketed IPv6 with a port, quotes."""
    node = node.strip().strip('"').strip()
    if node.startswith("["):
        return node[1:node.find("]")] if "]" in node else node
    if node.count(":") == 1:  # IPv4:port (a bare IPv6 has more colons)
        return node.split(":", 1)[0]
    return node


def forwarded_chain(headers: Mapping[str, str]) -> list[str]:
    """The addresses the proxies reported, the client first (RFC 7239 wins over XFF)."""
    forwarded = headers.get("Forwarded")
    if forwarded:
        hops = []
        for element in forwarded.split(","):
            for pair in element.split(";"):
                key, _, value = pair.partition("=")
                if key.strip().lower() == "for" and value.strip():
                    hops.append(_clean(value))
        return hops
    return [_clean(x) for x in headers.get("X-Forwarded-For", "").split(",") if x.strip()]


def client_of(peer: str | None, headers: Mapping[str, str], trusted_proxies: tuple[str, ...]) -> str:
    peer = peer or "unknown"
    nets = _networks(trusted_proxies)
    if not nets or not _trusted(peer, nets):
        return peer
    hops = forwarded_chain(headers)
    for hop in reversed(hops):
        if not _trusted(hop, nets):
            return hop.lower()[:64]
    return hops[0].lower()[:64] if hops else peer


def client_address(request: web.Request) -> str:
    """The client's address for limits and logs, trusting only the configured proxies."""
    return client_of(request.remote, request.headers, request.app[HOTLINE].settings.http.trusted_proxies)
